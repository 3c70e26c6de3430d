// board: the live state of one simulated board.
//
// Holds the applied settings, a pending configuration that settles once the board's
// reconfiguration time has passed on its sim_clock, device-memory accounting and counters.
// A board is owned by exactly one sim_driver and used from one thread at a time (the
// driver actor's); it does no locking of its own.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "sim/board_config.hpp"
#include "sim/clock.hpp"
#include "sim/configuration.hpp"

namespace edgert::sim {

enum class configure_state { complete, pending };

struct board_counters {
  std::uint64_t configurations_requested = 0;
  std::uint64_t configurations_applied = 0;
  std::uint64_t resets = 0;
  std::uint64_t memory_used_bytes = 0;
  std::uint64_t memory_peak_bytes = 0;
};

/// What a board remembers across processes (see sim_driver): settings and a pending change.
struct board_snapshot {
  board_settings applied;
  std::optional<board_settings> pending;
  sim_time settles_at{0};
};

class board {
 public:
  /// `sub_devices` may restrict the board to fewer cores than its config has (a cut-down
  /// SKU); 0 means all of them.
  board(board_config config, std::shared_ptr<const sim_clock> clock, unsigned sub_devices = 0);

  const board_config& config() const noexcept { return config_; }
  unsigned sub_devices() const noexcept { return static_cast<unsigned>(applied_.cores.size()); }
  const sim_clock& clock() const noexcept { return *clock_; }
  const std::shared_ptr<const sim_clock>& shared_clock() const noexcept { return clock_; }

  /// Validates `request` against the board's limits. A request that changes nothing
  /// completes at once; otherwise the new settings (built on top of any pending ones)
  /// become pending and settle after config().reconfigure_settle_time. A board with a
  /// zero settle time completes at once.
  result<configure_state> configure(const configuration_request& request);

  /// Applies a pending configuration whose settle time has passed. True when nothing is
  /// pending any more.
  bool poll_configuration();

  /// Time left until the pending configuration settles; zero when nothing is pending.
  sim_duration time_until_settled() const;

  const board_settings& applied_settings() const noexcept { return applied_; }
  const std::optional<board_settings>& pending_settings() const noexcept { return pending_; }
  /// When the pending configuration settles; empty when nothing is pending.
  std::optional<sim_time> settles_at() const noexcept {
    return pending_ ? std::optional<sim_time>(settles_at_) : std::nullopt;
  }

  /// Applied settings as read_device_configuration() reports them, plus "pending"
  /// ("true"/"false") and, while pending, "settles_in_ms".
  std::map<std::string, std::string> read_configuration() const;

  /// Device-memory accounting: reserve fails with out_of_memory beyond the board's memory.
  result<void> reserve_memory(std::uint64_t bytes);
  void release_memory(std::uint64_t bytes);

  /// Drops any pending configuration, restores default settings and frees all memory.
  /// Also lifts hold_settling().
  void reset();

  /// Fault injection (config_never_settles): while held, a pending configuration never
  /// settles and a configuration that would apply at once becomes pending instead;
  /// time_until_settled() then answers the settle time (at least 1 ms), so pollers keep
  /// polling at a sane rate until they give up or reset the board.
  void hold_settling(bool held) noexcept { settling_held_ = held; }
  bool settling_held() const noexcept { return settling_held_; }

  board_counters counters() const noexcept { return counters_; }

  board_snapshot snapshot() const;
  /// Restores settings written by another process; ignored when they do not fit this
  /// board (different core count), so a stale file can never corrupt a board.
  void restore(const board_snapshot& s);

 private:
  board_settings default_settings(unsigned cores) const;

  board_config config_;
  std::shared_ptr<const sim_clock> clock_;
  board_settings applied_;
  std::optional<board_settings> pending_;
  sim_time settles_at_{0};
  board_counters counters_;
  bool settling_held_ = false;
};

}  // namespace edgert::sim
