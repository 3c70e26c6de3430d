// plan_runner: a job runner that executes a compiled engine plan on the worker thread, once
// per batch element. Its device time is the measured compute time (the host device); a
// simulated board's runner wraps it and replaces that with the board's timing model.
//
// Ownership and threads: owns its executor (arena); called only from its worker thread.
#pragma once

#include <memory>
#include <vector>

#include "actors/exec/job_runner.hpp"
#include "engine/plan.hpp"

namespace edgert::exec {

class plan_runner final : public job_runner {
 public:
  /// `batch` runs of the plan per job; input/output i of element b starts at
  /// b * (per-element bytes of i) within the job's buffer i.
  static result<std::unique_ptr<plan_runner>> create(std::shared_ptr<const engine::plan> plan,
                                                     unsigned batch);
  result<job_report> run(const std::vector<const void*>& inputs,
                         const std::vector<void*>& outputs) override;

 private:
  plan_runner() = default;
  std::shared_ptr<const engine::plan> plan_;
  std::unique_ptr<engine::executor> executor_;
  unsigned batch_ = 1;
  std::vector<std::size_t> input_bytes_, output_bytes_;  // per batch element
  std::vector<const void*> element_inputs_;               // reused per element: no allocation
  std::vector<void*> element_outputs_;
};

}  // namespace edgert::exec
