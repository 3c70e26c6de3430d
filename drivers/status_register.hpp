// status_register: a board's configuration status, published by its driver for reads from
// any thread without a message; the simulated counterpart of a memory-mapped status register
// that firmware reads without going through the driver's command queue.
//
// The driver (on its driver actor) publishes after every call that can change the status:
// settled, or pending until a board time. A reader (the device actor answering
// device_ready) gets `settled` or `pending` only while that answer is certain; whenever the
// status may have moved on, it gets `ask_driver` and must ask the driver actor, which polls
// the board and publishes again. The status may move on when a pending configuration's
// settle time has passed (the driver has not polled yet), or when another process changed
// the board's shared state file (its stamp differs from the one published).
//
// Ownership and threads: shared (shared_ptr) by the driver that writes it and the readers;
// publish() is called from one thread at a time (the driver actor's), read() from any thread.
// Publication is a seqlock: a reader that overlaps a publication answers ask_driver.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>

#include "sim/clock.hpp"

namespace edgert {

class status_register {
 public:
  enum class reading { settled, pending, ask_driver };

  /// `clock` is the board's; `state_file` is the board's shared state file, if any.
  status_register(std::shared_ptr<const sim::sim_clock> clock,
                  std::optional<std::filesystem::path> state_file);

  /// Any thread. Never allocates; costs one stat() when the board has a state file.
  reading read() const noexcept;

  /// Driver thread only. `settles_at` is empty when nothing is pending; `stamp` is the
  /// state file's stamp the driver's view corresponds to (ignored without a state file).
  void publish(std::optional<sim::sim_time> settles_at, std::int64_t stamp) noexcept;

 private:
  std::shared_ptr<const sim::sim_clock> clock_;
  std::optional<std::filesystem::path> state_file_;
  std::atomic<std::uint64_t> sequence_{1};  // odd while publishing or before the first publish
  std::atomic<bool> pending_{false};
  std::atomic<std::int64_t> settles_at_{0};
  std::atomic<std::int64_t> stamp_{-1};
};

}  // namespace edgert
