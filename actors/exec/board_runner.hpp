// board_runner: the job runner of an execution unit on a simulated board (or any board
// whose driver runs jobs). Each job goes to the board's driver actor as a launch request
// that carries the plan's computation and the unit's execution watchdog; the driver runs
// it (inline under virtual time, on its core worker otherwise), models the board's device
// time (clock profile, utilisation, DMA, faults) and answers once the job is done, failed,
// or past its watchdog (timeout). The computation is the unit's plan runner, or under
// process isolation its process runner: a worker that dies fails the job with
// device_fault, and since the board's epoch did not move, the unit takes the blame.
//
// Recovery: the unit attaches to its device actor (attach_atom) for the driver actor and
// the device's epoch, at its first job and again whenever the device's published state is
// not ready (or configuring) or a job failed with device_fault. While the device recovers,
// the attach waits up to `recovery_wait` (the wait policy) or is refused at once (zero:
// the reject policy); a refusal fails the job with device_fault. After a failed job it
// tells its supervisor whose fault that was: a device_fault while the device's epoch moved
// (a reset or recovery under the job) is the board's, not the unit's.
//
// Ownership and threads: owned by one worker thread of an inference service; its
// scoped_actor is created on that thread at the first job and lives with the runner. It
// waits for each job's answer without a deadline of its own: the driver answers every job
// it accepts (done, failed, failed by a board reset, or timed out by its watchdog), and
// the data in flight belongs to the job until then. A compute still running when its job
// is answered (a watchdog timeout) keeps this thread until it returns, because it uses
// the request's buffers; host code that may never return belongs in a worker process
// (process isolation), whose own real-time watchdog kills it. The actor system must
// outlive the runner (the serving core keeps it alive).
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/device_readiness.hpp"
#include "actors/exec/plan_runner.hpp"
#include "actors/exec/supervisor.hpp"
#include "actors/protocol.hpp"

namespace edgert::exec {

struct compute_gate;

struct board_unit_options {
  job_watchdog watchdog;  // per job; owner names the instance in timeout messages
  /// How long a job waits for a recovering device; zero rejects it at once.
  std::chrono::nanoseconds recovery_wait{std::chrono::seconds(10)};
};

class board_runner final : public job_runner, public fault_attribution {
 public:
  /// `readiness` (may be null) is the device's published state; `driver` (may be invalid)
  /// a driver actor already attached to at `epoch`.
  board_runner(caf::actor_system& system, device_actor device,
               std::shared_ptr<const device_readiness> readiness, driver_actor driver,
               std::uint64_t epoch, std::vector<unsigned> sub_devices,
               std::unique_ptr<job_runner> compute, sim::job_cost cost,
               board_unit_options options);
  ~board_runner() override;

  result<job_report> run(const std::vector<const void*>& inputs,
                         const std::vector<void*>& outputs) override;
  blame blame_for(const failure& f) override;
  bool usable() const noexcept override { return compute_->usable(); }

 private:
  /// Attaches to the device, waiting up to `wait` for it to be in service.
  result<void> attach(std::chrono::nanoseconds wait);
  bool device_in_service() const;

  caf::actor_system& system_;
  device_actor device_;
  std::shared_ptr<const device_readiness> readiness_;
  driver_actor driver_;
  std::uint64_t epoch_ = 0;          // the device's epoch when attached
  std::uint64_t launch_epoch_ = 0;   // the epoch the last job was launched in
  bool attach_failed_ = false;       // the last job failed because attaching did
  std::vector<unsigned> sub_devices_;
  std::unique_ptr<job_runner> compute_;
  sim::job_cost cost_;
  board_unit_options options_;
  std::shared_ptr<compute_gate> gate_;  // see board_runner.cpp
  std::unique_ptr<caf::scoped_actor> self_;
};

}  // namespace edgert::exec
