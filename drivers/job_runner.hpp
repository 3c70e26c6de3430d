// job_runner: the job bookkeeping shared by the sim and host drivers.
//
// It keeps the records of jobs not yet reported done or failed, when each sub-device is
// next free in device time, which sub-devices are hung or faulted, and the worker threads
// that run computes. The owning driver decides a job's device time and injected fault
// (job_decision); the runner schedules it according to the pacing mode (see
// drivers/job_pacing.hpp) and derives its status from the board clock and the compute's
// progress.
//
// Ownership and threads: owned by one driver and called from the driver's thread only.
// Worker threads share individual job records (see drivers/job_record.hpp) and nothing
// else. Destruction ends every job still known ("driver destroyed") and joins the workers
// without waiting for hung jobs, which never occupy a worker.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "drivers/driver.hpp"
#include "drivers/job_pacing.hpp"
#include "drivers/job_record.hpp"
#include "drivers/job_workers.hpp"

namespace edgert {

struct job_runner_options {
  std::string driver_name;  // for messages, e.g. "dev:0"
  unsigned sub_devices = 1;
  pacing_mode pacing = pacing_mode::virtual_time;
  /// Host: no model; device time is the measured compute time and jobs finish as soon as
  /// their compute does (like fast pacing).
  bool measured_device_time = false;
  std::shared_ptr<const sim::sim_clock> clock;
  /// Jobs launched but not yet reported done or failed (nor released) beyond this make
  /// launch() fail with queue_full, so a caller that never polls cannot grow memory
  /// without bound.
  std::size_t max_unreported_jobs = 65536;
};

/// What the driver decided for one job when it was launched.
struct job_decision {
  sim::sim_duration device_time{0};  // ignored when device time is measured
  bool hang = false;                 // injected job_hang
  std::optional<failure> error;      // injected job_error or dma_failure
};

class job_runner {
 public:
  explicit job_runner(job_runner_options options);
  ~job_runner();
  job_runner(const job_runner&) = delete;
  job_runner& operator=(const job_runner&) = delete;

  /// invalid_argument for no sub-devices, one beyond the board or one named twice;
  /// queue_full when max_unreported_jobs are unreported.
  result<void> check(const job_request& request) const;

  /// When a job on `sub_devices` launched at `now` would start: once every one of them is
  /// free in device time (virtual_time and paced), or `now` (fast, measured).
  sim::sim_time earliest_start(const std::vector<unsigned>& sub_devices, sim::sim_time now) const;

  /// Accepts a checked job. Under virtual_time pacing its compute runs here; otherwise it
  /// is queued on the worker of its first sub-device.
  job_id launch(const job_request& request, const job_decision& decision);

  /// Status of a known job; a job reported done or failed is forgotten.
  result<job_status> poll(job_id id);
  /// Forgets a job; a compute not yet started is skipped.
  result<void> release(job_id id);

  /// Fails every job in flight at board time `at` with device_fault `reason` and returns
  /// every sub-device to ok and free from `at` on.
  void reset(sim::sim_time at, const std::string& reason);

  /// Per sub-device: hung, faulted (an injected failure became visible since the last
  /// reset) or ok. The driver adds what it knows beyond jobs (degraded).
  std::vector<core_health> health() const;

  std::uint64_t jobs_launched() const noexcept { return launched_; }
  std::uint64_t jobs_completed() const noexcept { return completed_; }
  std::uint64_t jobs_failed() const noexcept { return failed_; }
  /// Jobs launched and neither reported nor released.
  std::size_t unreported_jobs() const noexcept { return jobs_.size(); }
  /// Worker threads started so far.
  unsigned worker_threads() const noexcept { return workers_ ? workers_->threads() : 0; }
  pacing_mode pacing() const noexcept { return options_.pacing; }

 private:
  struct lane_state {
    sim::sim_time busy_until{0};
    bool hung = false;
    std::string hung_reason;
    std::optional<sim::sim_time> faulted_from;
    std::string fault_reason;
  };

  bool finishes_with_compute() const noexcept;
  job_status status_of(const job_record& record, sim::sim_time now) const;
  bool in_flight_at(const job_record& record, sim::sim_time at) const;

  job_runner_options options_;
  std::vector<lane_state> lanes_;
  std::unordered_map<job_id, std::shared_ptr<job_record>> jobs_;
  std::unique_ptr<job_workers> workers_;  // created with the first job that needs one
  job_id next_id_ = 1;
  std::uint64_t launched_ = 0;
  std::uint64_t completed_ = 0;
  std::uint64_t failed_ = 0;
};

}  // namespace edgert
