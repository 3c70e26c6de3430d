// run_job_compute: the one place a job's compute is called, by a worker thread or, under
// virtual_time pacing, by the driver's thread inside launch_job().
#include "drivers/job_record.hpp"

#include <exception>
#include <string>

namespace edgert {

bool run_job_compute(job_record& record, const sim::sim_clock& clock) {
  {
    std::lock_guard<std::mutex> lock(record.mutex);
    if (record.ended || record.compute_started) return false;
    record.compute_started = true;
    record.compute_began = clock.now();
  }
  std::optional<failure> error;
  if (record.compute) {
    try {
      auto outcome = record.compute();
      if (!outcome) error = outcome.error();
    } catch (const std::exception& e) {
      error = fail(errc::internal_error, std::string("the job's compute threw: ") + e.what());
    } catch (...) {
      error = fail(errc::internal_error, "the job's compute threw a non-standard exception");
    }
  }
  std::lock_guard<std::mutex> lock(record.mutex);
  record.compute_finished = true;
  record.compute_ended = clock.now();
  record.compute_error = std::move(error);
  return true;
}

}  // namespace edgert
