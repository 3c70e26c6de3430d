// Time sources for the simulator.
//
// A sim_clock says what time it is on a simulated board. virtual_clock only moves when a
// test (or a scenario) advances it, which makes runs deterministic and far faster than
// real time; real_clock follows the host's monotonic clock, which is shared by every
// process on the machine, so a time point written by one process means the same to another.
//
// Thread-safety: now() may be called from any thread; virtual_clock::advance() is atomic.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>

namespace edgert::sim {

using sim_duration = std::chrono::nanoseconds;
/// Nanoseconds since the clock's epoch (boot for real_clock, zero for virtual_clock).
using sim_time = std::chrono::nanoseconds;

class sim_clock {
 public:
  virtual ~sim_clock() = default;
  virtual sim_time now() const = 0;
  /// True when time only moves by explicit advance() calls.
  virtual bool is_virtual() const = 0;
};

class real_clock final : public sim_clock {
 public:
  sim_time now() const override;
  bool is_virtual() const override { return false; }
};

class virtual_clock final : public sim_clock {
 public:
  explicit virtual_clock(sim_time start = sim_time{0}) : now_(start.count()) {}
  sim_time now() const override { return sim_time{now_.load(std::memory_order_acquire)}; }
  bool is_virtual() const override { return true; }
  void advance(sim_duration d) { now_.fetch_add(d.count(), std::memory_order_acq_rel); }
  void set(sim_time t) { now_.store(t.count(), std::memory_order_release); }

 private:
  std::atomic<std::int64_t> now_;
};

std::shared_ptr<sim_clock> make_real_clock();

}  // namespace edgert::sim
