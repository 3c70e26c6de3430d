// job_workers: per-lane worker threads that run job computes; see drivers/job_workers.hpp
// for ownership and threading.
#include "drivers/job_workers.hpp"

#include <algorithm>
#include <string>
#include <system_error>

namespace edgert {

job_workers::job_workers(unsigned lanes, std::shared_ptr<const sim::sim_clock> clock)
    : clock_(std::move(clock)) {
  lanes_.reserve(std::max(1u, lanes));
  for (unsigned i = 0; i < std::max(1u, lanes); ++i) lanes_.push_back(std::make_unique<lane>());
}

job_workers::~job_workers() {
  for (auto& l : lanes_) {
    std::lock_guard<std::mutex> lock(l->mutex);
    l->stopping = true;
    l->wake.notify_all();
  }
  for (auto& l : lanes_) {
    if (l->thread.joinable()) l->thread.join();
  }
}

result<void> job_workers::submit(unsigned lane_index, std::shared_ptr<job_record> record) {
  lane& l = *lanes_[std::min<std::size_t>(lane_index, lanes_.size() - 1)];
  if (!l.thread.joinable()) {
    try {
      l.thread = std::thread([this, &l] { run(l); });
    } catch (const std::system_error& e) {
      return fail(errc::internal_error,
                  std::string("cannot start a worker thread for jobs: ") + e.what());
    }
  }
  std::lock_guard<std::mutex> lock(l.mutex);
  l.queue.push_back(std::move(record));
  l.wake.notify_one();
  return {};
}

unsigned job_workers::threads() const noexcept {
  unsigned started = 0;
  for (const auto& l : lanes_) started += l->thread.joinable() ? 1 : 0;
  return started;
}

void job_workers::run(lane& l) {
  for (;;) {
    std::shared_ptr<job_record> record;
    {
      std::unique_lock<std::mutex> lock(l.mutex);
      l.wake.wait(lock, [&] { return l.stopping || !l.queue.empty(); });
      if (l.stopping) return;  // queued records belong to jobs ended by the destructor
      record = std::move(l.queue.front());
      l.queue.pop_front();
    }
    if (run_job_compute(*record, *clock_) && record->notify) {
      try {
        record->notify(record->id);
      } catch (...) {
        // A throwing notifier cannot be reported anywhere; the caller still polls.
      }
    }
  }
}

}  // namespace edgert
