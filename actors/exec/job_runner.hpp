// job_runner: what one execution unit does with a request's buffers. The host device runs
// the model's plan on the worker thread; a simulated board also runs the plan (so outputs
// are the model's true outputs) and then accounts the board's device time, waiting for it
// when paced.
//
// Ownership and threads: each runner belongs to one worker thread of an inference service
// and is only called from it; it is destroyed after that thread has been joined.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common/result.hpp"

namespace edgert::exec {

struct job_report {
  std::uint64_t device_time_ns = 0;  // time on the device (host: measured compute time)
  // When the computation ran on this host (steady-clock ns since its epoch), for profiling;
  // 0 when the runner does not know (a board's driver ran it).
  std::int64_t compute_begin_ns = 0;
  std::int64_t compute_end_ns = 0;
};

class job_runner {
 public:
  virtual ~job_runner() = default;
  /// Runs one job: `inputs` / `outputs` are dense buffers of the service's tensor specs.
  virtual result<job_report> run(const std::vector<const void*>& inputs,
                                 const std::vector<void*>& outputs) = 0;
  /// False once the runner cannot run another job (its worker process died): whoever
  /// supervises it must replace it, whatever the failure's blame.
  virtual bool usable() const noexcept { return true; }
};

}  // namespace edgert::exec
