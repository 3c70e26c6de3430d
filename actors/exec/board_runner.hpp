// board_runner: the job runner of an execution unit on a simulated board (or any board
// whose driver runs jobs). Each job goes to the board's driver actor as a launch request
// that carries the plan's computation; the driver runs it (inline under virtual time, on
// its core worker otherwise), models the board's device time (clock profile, utilisation,
// DMA, faults) and answers once the job is done or failed.
//
// Ownership and threads: owned by one worker thread of an inference service; its
// scoped_actor is created on that thread at the first job and lives with the runner. It
// waits for each job's answer without a deadline: the driver answers every job it accepts
// (done, failed, or failed by a board reset), and the data in flight belongs to the job
// until then. The actor system must outlive the runner (the serving core keeps it alive).
#pragma once

#include <memory>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/exec/plan_runner.hpp"
#include "actors/protocol.hpp"

namespace edgert::exec {

class board_runner final : public job_runner {
 public:
  board_runner(caf::actor_system& system, driver_actor driver, std::vector<unsigned> sub_devices,
               std::unique_ptr<plan_runner> compute, sim::job_cost cost);
  ~board_runner() override;

  result<job_report> run(const std::vector<const void*>& inputs,
                         const std::vector<void*>& outputs) override;

 private:
  caf::actor_system& system_;
  driver_actor driver_;
  std::vector<unsigned> sub_devices_;
  std::unique_ptr<plan_runner> compute_;
  sim::job_cost cost_;
  std::unique_ptr<caf::scoped_actor> self_;
};

}  // namespace edgert::exec
