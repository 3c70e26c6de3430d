// job_record: everything a driver knows about one launched job.
//
// Ownership and threads: a record is created by the driver's thread (the driver actor's)
// in launch_job() and shared (shared_ptr) with at most one worker thread while its
// compute is queued or running. The fields above `mutex` are written before the record is
// shared and only read afterwards; the fields below it are read and written by both
// threads and only under `mutex`.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "common/result.hpp"
#include "drivers/driver.hpp"
#include "sim/clock.hpp"

namespace edgert {

struct job_record {
  job_id id = 0;
  std::vector<unsigned> sub_devices;
  std::function<result<void>()> compute;
  std::function<void(job_id)> notify;

  sim::sim_duration device_time{0};  // modelled; zero when measured (host)
  sim::sim_time launched{0};
  sim::sim_time start{0};   // when the device starts it (after earlier jobs on its cores)
  sim::sim_time finish{0};  // start + device_time
  bool hang = false;        // an injected hang: never completes
  bool stuck = false;       // launched on a hung core: never starts
  std::optional<failure> injected;  // an injected failure: no compute, fails at `finish`

  mutable std::mutex mutex;
  bool compute_started = false;
  bool compute_finished = false;
  sim::sim_time compute_began{0};
  sim::sim_time compute_ended{0};
  std::optional<failure> compute_error;
  std::optional<failure> ended;  // set when the job was ended from outside: reset,
                                 // release, driver destroyed
  sim::sim_time ended_at{0};
};

/// Runs the record's compute (if any) on the calling thread unless the job has already
/// been ended, recording begin and end times on `clock` and the outcome; exceptions
/// become internal_error. Returns whether the compute ran. Any thread; takes the
/// record's mutex only around the bookkeeping, never while computing.
bool run_job_compute(job_record& record, const sim::sim_clock& clock);

}  // namespace edgert
