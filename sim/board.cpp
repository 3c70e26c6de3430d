// board: applied and pending settings, settle timing and memory accounting of one
// simulated board. See sim/board.hpp for ownership and threading (one thread at a time,
// no locking).
#include "sim/board.hpp"

#include <algorithm>
#include <limits>

namespace edgert::sim {

namespace {

std::string join(const std::vector<unsigned>& values) {
  std::string out;
  for (unsigned v : values) {
    if (!out.empty()) out += ", ";
    out += std::to_string(v);
  }
  return out;
}

bool is_allowed_profile(const board_config& c, unsigned mhz) {
  return std::find(c.clock_profiles_mhz.begin(), c.clock_profiles_mhz.end(), mhz) !=
         c.clock_profiles_mhz.end();
}

// The per-core ceiling. A config built in code may leave max_core_clock_mhz at zero; it
// then means "no ceiling below the largest profile".
unsigned core_clock_ceiling(const board_config& c) {
  if (c.max_core_clock_mhz != 0) return c.max_core_clock_mhz;
  return c.clock_profiles_mhz.empty() ? 0 : c.clock_profiles_mhz.back();
}

std::string core_range(const board_config& c, unsigned cores) {
  if (cores == 1) return c.kind + " has 1 core (0)";
  return c.kind + " has " + std::to_string(cores) + " cores (0-" + std::to_string(cores - 1) + ")";
}

// "clock profile 900 MHz[ for core 1] is not allowed on m2; allowed: 100, 200, ..."
failure not_allowed_profile(const board_config& c, unsigned mhz, const std::string& for_core) {
  return fail(errc::invalid_configuration, "clock profile " + std::to_string(mhz) + " MHz" +
                                               for_core + " is not allowed on " + c.kind +
                                               "; allowed: " + join(c.clock_profiles_mhz));
}

// Checks a request against the board without changing anything, so a request is applied
// entirely or not at all.
result<void> validate(const board_config& c, unsigned cores, const configuration_request& r) {
  if (r.clock_profile_mhz && !is_allowed_profile(c, *r.clock_profile_mhz)) {
    return not_allowed_profile(c, *r.clock_profile_mhz, "");
  }
  for (const auto& [core, mhz] : r.core_clock_mhz) {
    if (core >= cores) {
      return fail(errc::invalid_configuration, "core " + std::to_string(core) +
                                                   " is out of range: " + core_range(c, cores));
    }
    const std::string for_core = " for core " + std::to_string(core);
    if (!is_allowed_profile(c, mhz)) return not_allowed_profile(c, mhz, for_core);
    if (mhz > core_clock_ceiling(c)) {
      return fail(errc::invalid_configuration,
                  "clock profile " + std::to_string(mhz) + " MHz" + for_core +
                      " is above the per-core maximum of " +
                      std::to_string(core_clock_ceiling(c)) + " MHz on " + c.kind);
    }
  }
  for (const auto& [core, pct] : r.core_mvm_utilisation_pct) {
    if (core >= cores) {
      return fail(errc::invalid_configuration, "core " + std::to_string(core) +
                                                   " is out of range: " + core_range(c, cores));
    }
    if (pct < c.min_mvm_utilisation_pct || pct > c.max_mvm_utilisation_pct) {
      return fail(errc::invalid_configuration,
                  "mvm utilisation " + std::to_string(pct) + "% for core " +
                      std::to_string(core) + " is out of range on " + c.kind + ": allowed " +
                      std::to_string(c.min_mvm_utilisation_pct) + "-" +
                      std::to_string(c.max_mvm_utilisation_pct) + "%");
    }
  }
  return {};
}

// Whether settings from elsewhere (another process's state file) are valid on this board.
bool fits(const board_config& c, unsigned cores, const board_settings& s) {
  if (s.cores.size() != cores || !is_allowed_profile(c, s.clock_profile_mhz)) return false;
  return std::all_of(s.cores.begin(), s.cores.end(), [&](const core_settings& core) {
    return is_allowed_profile(c, core.clock_mhz) && core.clock_mhz <= core_clock_ceiling(c) &&
           core.mvm_utilisation_pct >= c.min_mvm_utilisation_pct &&
           core.mvm_utilisation_pct <= c.max_mvm_utilisation_pct;
  });
}

}  // namespace

board::board(board_config config, std::shared_ptr<const sim_clock> clock, unsigned sub_devices)
    : config_(std::move(config)), clock_(std::move(clock)) {
  // A cut-down board never has more cores than its kind; a larger count is clamped here
  // (the system builder rejects it with a clear error before constructing a board).
  unsigned cores = config_.sub_devices;
  if (sub_devices != 0) cores = std::min(sub_devices, config_.sub_devices);
  applied_ = default_settings(cores);
}

board_settings board::default_settings(unsigned cores) const {
  board_settings s;
  s.clock_profile_mhz = config_.default_clock_mhz;
  core_settings core;
  core.clock_mhz = std::min(config_.default_clock_mhz, core_clock_ceiling(config_));
  core.mvm_utilisation_pct = config_.max_mvm_utilisation_pct;
  s.cores.assign(cores, core);
  return s;
}

result<configure_state> board::configure(const configuration_request& request) {
  ++counters_.configurations_requested;
  poll_configuration();
  if (auto valid = validate(config_, sub_devices(), request); !valid) return valid.error();

  // The target is built on top of what the board is heading for: the pending settings if
  // there are any, the applied ones otherwise. A board-wide profile sets every core's
  // clock first; per-core entries of the same request then override their core.
  const board_settings& base = pending_ ? *pending_ : applied_;
  board_settings target = base;
  if (request.clock_profile_mhz) {
    target.clock_profile_mhz = *request.clock_profile_mhz;
    for (auto& core : target.cores) core.clock_mhz = *request.clock_profile_mhz;
  }
  for (const auto& [core, mhz] : request.core_clock_mhz) target.cores[core].clock_mhz = mhz;
  for (const auto& [core, pct] : request.core_mvm_utilisation_pct) {
    target.cores[core].mvm_utilisation_pct = pct;
  }

  if (target == base) {
    // Nothing changes: no new pending and no restarted settle time. A configuration that
    // is still settling stays pending, since the board is not at the target yet.
    return pending_ ? configure_state::pending : configure_state::complete;
  }
  if (target == applied_) {
    // The request returns to the settings the board still runs with; the pending change
    // is dropped rather than settled again.
    pending_.reset();
    return configure_state::complete;
  }
  if (config_.reconfigure_settle_time <= sim_duration::zero() && !settling_held_) {
    applied_ = std::move(target);
    pending_.reset();
    ++counters_.configurations_applied;
    return configure_state::complete;
  }
  pending_ = std::move(target);
  settles_at_ = clock_->now() + config_.reconfigure_settle_time;
  return configure_state::pending;
}

bool board::poll_configuration() {
  if (pending_ && !settling_held_ && clock_->now() >= settles_at_) {
    applied_ = std::move(*pending_);
    pending_.reset();
    ++counters_.configurations_applied;
  }
  return !pending_;
}

sim_duration board::time_until_settled() const {
  if (!pending_) return sim_duration::zero();
  if (settling_held_) {
    return std::max<sim_duration>(config_.reconfigure_settle_time, std::chrono::milliseconds(1));
  }
  return std::max(sim_duration::zero(), settles_at_ - clock_->now());
}

std::map<std::string, std::string> board::read_configuration() const {
  // Reports what the board runs with now: a pending configuration whose settle time has
  // passed counts as applied even before poll_configuration() has moved it over.
  const bool still_pending = pending_ && (settling_held_ || clock_->now() < settles_at_);
  auto out = to_configuration_map(pending_ && !still_pending ? *pending_ : applied_);
  out["pending"] = still_pending ? "true" : "false";
  if (still_pending) {
    // Rounded up, so a pending board never reports 0 ms left.
    const auto left = time_until_settled();
    const auto ms = (left.count() + 999'999) / 1'000'000;
    out["settles_in_ms"] = std::to_string(ms);
  }
  return out;
}

result<void> board::reserve_memory(std::uint64_t bytes) {
  const std::uint64_t capacity = config_.device_memory_bytes;
  const std::uint64_t used = counters_.memory_used_bytes;
  if (bytes > capacity - std::min(used, capacity)) {
    return fail(errc::out_of_memory,
                "cannot reserve " + std::to_string(bytes) + " bytes of device memory on " +
                    config_.kind + ": " + std::to_string(used) + " of " +
                    std::to_string(capacity) + " bytes are in use");
  }
  counters_.memory_used_bytes = used + bytes;
  counters_.memory_peak_bytes = std::max(counters_.memory_peak_bytes, counters_.memory_used_bytes);
  return {};
}

void board::release_memory(std::uint64_t bytes) {
  // Releasing more than is reserved would be a caller bug; the count stops at zero rather
  // than wrapping around.
  counters_.memory_used_bytes -= std::min(bytes, counters_.memory_used_bytes);
}

void board::reset() {
  pending_.reset();
  settles_at_ = sim_time{0};
  applied_ = default_settings(sub_devices());
  counters_.memory_used_bytes = 0;
  settling_held_ = false;
  ++counters_.resets;
}

// settles_at is zero whenever nothing is pending, so equal states give equal snapshots.
board_snapshot board::snapshot() const {
  return board_snapshot{applied_, pending_, pending_ ? settles_at_ : sim_time{0}};
}

void board::restore(const board_snapshot& s) {
  const unsigned cores = sub_devices();
  if (!fits(config_, cores, s.applied)) return;
  if (s.pending && !fits(config_, cores, *s.pending)) return;
  applied_ = s.applied;
  pending_ = s.pending;
  settles_at_ = s.pending ? s.settles_at : sim_time{0};
}

}  // namespace edgert::sim
