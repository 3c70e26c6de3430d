// job_workers: the threads that run job computes for a driver, one per lane (sub-device).
//
// A lane runs its records one after another in submission order, so jobs on one
// sub-device compute back to back as they would run on the device. Threads start on the
// first job submitted to their lane, so a driver that runs no jobs owns no threads.
//
// Ownership and threads: owned by one driver (inside its job_runner); submit() is called
// from the driver's thread. The destructor stops every lane: records still queued are
// skipped (their job has been ended by then), a compute already running is waited for,
// and every thread is joined. A record whose job hangs by injection is never submitted, so
// injected hangs never hold up destruction.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "drivers/job_record.hpp"

namespace edgert {

class job_workers {
 public:
  job_workers(unsigned lanes, std::shared_ptr<const sim::sim_clock> clock);
  ~job_workers();
  job_workers(const job_workers&) = delete;
  job_workers& operator=(const job_workers&) = delete;

  /// Queues `record` on `lane` (clamped to the last lane). Fails with internal_error when
  /// the lane's thread cannot be started.
  result<void> submit(unsigned lane, std::shared_ptr<job_record> record);

  /// Threads started so far.
  unsigned threads() const noexcept;

 private:
  struct lane {
    std::mutex mutex;
    std::condition_variable wake;
    std::deque<std::shared_ptr<job_record>> queue;  // guarded by mutex
    bool stopping = false;                         // guarded by mutex
    std::thread thread;                            // touched by the driver's thread only
  };

  void run(lane& l);

  std::shared_ptr<const sim::sim_clock> clock_;
  std::vector<std::unique_ptr<lane>> lanes_;
};

}  // namespace edgert
