// wait_word: a 32-bit counter threads can sleep on (Linux futex), for the data path where a
// condition variable's mutex would cost more than the work. A waiter spins briefly first,
// because on a 2-core board the other side usually answers within microseconds, then sleeps
// in the kernel until the word changes.
//
// Ownership and threads: any number of threads may wait and notify; the object must outlive
// every waiter (the inference service that owns it joins its threads before destruction).
#pragma once

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace edgert::exec {

class wait_word {
 public:
  std::uint32_t load() const noexcept { return word_.load(std::memory_order_acquire); }

  /// Changes the word and wakes every sleeper.
  void bump() noexcept {
    // Sequentially consistent with the sleeper's two steps, so one side always sees the other.
    word_.fetch_add(1);
    if (sleepers_.load() > 0) wake_all();
  }

  /// Waits until the word differs from `seen` or the deadline passes. Returns false on
  /// timeout. `spin` bounds the busy wait before sleeping.
  ///
  /// The busy wait pauses for a microsecond (an answer from another core usually comes that
  /// fast), then yields the core between checks: when the thread it waits for shares this
  /// core (more busy threads than cores, as a submitter, a worker and a receiver on two, or
  /// other processes' load) it gets to run at once instead of after a scheduler slice, and a
  /// yield costs far less than the futex sleep and wake-up it avoids. Measured with
  /// bench/serving_overhead and bench/queue_throughput.
  template <class Clock, class Duration>
  bool wait_while(std::uint32_t seen, std::chrono::time_point<Clock, Duration> deadline,
                  std::chrono::nanoseconds spin = std::chrono::microseconds(30)) const noexcept {
    const auto start = Clock::now();
    const auto pause_until = start + std::min(spin, pause_phase);
    const auto spin_until = start + spin;
    for (unsigned i = 0; load() == seen; ++i) {
      if ((i & 31) != 0) {
        pause();
        continue;
      }
      const auto now = Clock::now();
      if (now >= deadline) return false;
      if (now < pause_until) continue;
      if (now < spin_until) {
        sched_yield();
        continue;
      }
      const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now);
      sleep(seen, left);
    }
    return true;
  }

 private:
  static constexpr std::chrono::nanoseconds pause_phase = std::chrono::microseconds(1);

  static void pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }

  void sleep(std::uint32_t seen, std::chrono::nanoseconds left) const noexcept {
    timespec timeout{};
    timeout.tv_sec = static_cast<time_t>(left.count() / 1'000'000'000);
    timeout.tv_nsec = static_cast<long>(left.count() % 1'000'000'000);
    sleepers_.fetch_add(1);
    if (word_.load() == seen)
      syscall(SYS_futex, reinterpret_cast<const std::uint32_t*>(&word_), FUTEX_WAIT_PRIVATE, seen,
              &timeout, nullptr, 0);
    sleepers_.fetch_sub(1);
  }

  void wake_all() noexcept {
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word_), FUTEX_WAKE_PRIVATE, INT32_MAX,
            nullptr, nullptr, 0);
  }

  std::atomic<std::uint32_t> word_{0};
  mutable std::atomic<std::uint32_t> sleepers_{0};
};

}  // namespace edgert::exec
