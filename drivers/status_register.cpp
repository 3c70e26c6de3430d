#include "drivers/status_register.hpp"

#include "drivers/board_state_file.hpp"

namespace edgert {

status_register::status_register(std::shared_ptr<const sim::sim_clock> clock,
                                 std::optional<std::filesystem::path> state_file)
    : clock_(std::move(clock)), state_file_(std::move(state_file)) {}

status_register::reading status_register::read() const noexcept {
  const auto before = sequence_.load(std::memory_order_acquire);
  if (before % 2 == 1) return reading::ask_driver;
  const bool pending = pending_.load(std::memory_order_relaxed);
  const auto settles_at = settles_at_.load(std::memory_order_relaxed);
  const auto stamp = stamp_.load(std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_acquire);
  if (sequence_.load(std::memory_order_relaxed) != before) return reading::ask_driver;

  if (state_file_ && board_state_stamp(*state_file_) != stamp) return reading::ask_driver;
  if (!pending) return reading::settled;
  return clock_->now().count() < settles_at ? reading::pending : reading::ask_driver;
}

void status_register::publish(std::optional<sim::sim_time> settles_at,
                              std::int64_t stamp) noexcept {
  const auto sequence = sequence_.load(std::memory_order_relaxed);
  const auto writing = sequence % 2 == 1 ? sequence : sequence + 1;
  sequence_.store(writing, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  pending_.store(settles_at.has_value(), std::memory_order_relaxed);
  settles_at_.store(settles_at ? settles_at->count() : 0, std::memory_order_relaxed);
  stamp_.store(stamp, std::memory_order_relaxed);
  sequence_.store(writing + 1, std::memory_order_release);
}

}  // namespace edgert
