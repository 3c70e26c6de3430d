// fault_plan: scripted, seeded fault injection for simulated boards (and, for job faults,
// the host device).
//
// A fault has a kind, an optional core it is limited to, a trigger and parameters.
//
// Kinds and their effects:
//   job_hang              the job it hits never completes; its sub-devices are hung, so
//                         later jobs on them stay queued, until the board is reset
//   job_error             the next `count` jobs fail with `code` (device_fault unless set)
//                         and `message`
//   dma_failure           the next `count` jobs fail with io_error (a failed transfer)
//   board_reset           the board returns to its power-on state; jobs in flight fail
//                         with device_fault "board reset"
//   thermal_throttle      each hit core's clock is limited to `clock_mhz` for `duration`
//                         of board time, so jobs starting then take longer
//   slow_core             each hit core computes `factor` times slower for `duration`
//                         of board time (0: from then on)
//   config_never_settles  the next configuration request stays pending forever (until
//                         the board is reset)
//   config_fails          the next `count` configuration requests fail with `code`
//                         (invalid_configuration or device_fault) and `message`
//
// Triggers count "events": job launches for every kind but the config_* ones, whose
// events are configuration requests. Only events on the fault's core count when it has
// one (a job on a fused group counts for every core of the group).
//   at_time(t)            fires once at board time t: a board reset, throttle or slowdown
//                         happens at t itself; the other kinds hit the first event at or
//                         after t
//   after(n)              fires once, at the (n+1)-th event counted from when the fault
//                         was added; after(0), the default, hits the next event
//   with_probability(p)   every event rolls the plan's random generator and fires with
//                         chance p; a fault can fire many times
// A fault that fires on an event applies its effect to that event: throttles and
// slowdowns start at the event's time, resets happen before the job is accepted.
// When several job faults apply to one job, the first in the plan wins and the others
// stay armed for the next job.
//
// Determinism: the generator is a std::mt19937_64 seeded with fault_script::seed; every
// event draws exactly one number per probability fault it matches, in plan order, so the
// same script, seed and sequence of events always give the same faults.
//
// Thread-safety: none. A fault_plan belongs to one driver and is only touched from the
// thread calling that driver.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "sim/clock.hpp"

namespace edgert::sim {

enum class fault_kind {
  job_hang,
  job_error,
  dma_failure,
  board_reset,
  thermal_throttle,
  slow_core,
  config_never_settles,
  config_fails,
};

/// "job_hang", "job_error", ..., as in the list above.
std::string_view to_string(fault_kind kind) noexcept;
result<fault_kind> parse_fault_kind(std::string_view text);

/// True for the kinds whose events are configuration requests.
bool is_configuration_fault(fault_kind kind) noexcept;
/// True for thermal_throttle and slow_core, which change device time rather than outcomes.
bool is_clock_fault(fault_kind kind) noexcept;

enum class trigger_kind { at_time, after_events, probability };

struct fault_trigger {
  trigger_kind kind = trigger_kind::after_events;
  sim_time at{0};            // at_time
  std::uint64_t events = 0;  // after_events
  double probability = 0;    // probability, 0..1

  static fault_trigger at_time(sim_time t);
  static fault_trigger after(std::uint64_t events);
  static fault_trigger with_probability(double p);
};

struct fault {
  fault_kind kind = fault_kind::job_error;
  std::optional<unsigned> core;  // limited to this core; none: any core, the whole board
  fault_trigger trigger;
  std::uint32_t count = 1;        // job_error, dma_failure, config_fails: events hit per firing
  errc code = errc::device_fault;  // job_error, config_fails
  std::string message;            // job_error, config_fails; empty: a default naming the fault
  unsigned clock_mhz = 0;         // thermal_throttle: the clock limit, >= 1
  sim_duration duration{0};       // thermal_throttle (> 0), slow_core (0: permanent)
  double factor = 1.0;            // slow_core: >= 1
};

/// Checks a fault's parameters; `cores` is the board's number of sub-devices.
/// Fails with invalid_argument, naming the fault and what is wrong.
result<void> validate(const fault& f, unsigned cores);

/// A plan as written: a seed and faults in order.
struct fault_script {
  std::uint64_t seed = 0;
  std::vector<fault> faults;
};

/// Parses a fault script written in TOML:
///
///   seed = 42                # optional, 0 by default
///   [[fault]]
///   kind = "job_error"       # required, one of the kinds above
///   core = 1                 # optional
///   at_ms = 12.5             # at most one of at_ms, after, probability
///   after = 3
///   probability = 0.01
///   count = 2                # job_error, dma_failure, config_fails
///   code = "device_fault"    # job_error, config_fails: an errc name
///   message = "ECC error"    # job_error, config_fails
///   clock_mhz = 300          # thermal_throttle
///   duration_ms = 50         # thermal_throttle, slow_core
///   factor = 2.5             # slow_core
///
/// Unknown keys, wrong types and bad values fail with invalid_configuration as
/// "<origin>:<line>:<column>: <what>". Core numbers are checked when the script is
/// installed on a board, since only then is the core count known.
result<fault_script> parse_fault_script(std::string_view toml_text, const std::string& origin);
/// Reads and parses a fault script file; io_error when it cannot be read.
result<fault_script> load_fault_script(const std::filesystem::path& file);

/// What the plan does to one job launch.
struct job_fault_effect {
  bool reset_board = false;          // reset the board before accepting the job
  bool hang = false;                 // the job never completes
  std::optional<failure> error;      // the job fails with this
};

/// What the plan does to one configuration request.
struct configuration_fault_effect {
  std::optional<failure> error;  // the request fails with this and changes nothing
  bool never_settles = false;      // the request (and anything pending) never settles
};

/// A slowdown or clock limit in force on one core over a span of board time.
struct clock_window {
  std::optional<unsigned> core;  // none: every core
  sim_time from{0};
  std::optional<sim_time> until;  // none: for ever
  unsigned clock_mhz = 0;         // 0: no clock limit
  double factor = 1.0;            // 1: no slowdown
};

class fault_plan {
 public:
  /// An empty plan seeded with 0.
  fault_plan() = default;

  /// Replaces the plan with `script`: validated against `cores` first (nothing changes on
  /// failure), the generator reseeded, event counts restarted.
  result<void> install(const fault_script& script, unsigned cores, sim_time now);
  /// Adds one fault; after(n) counts from now on. Keeps the generator's state.
  result<void> add(const fault& f, unsigned cores, sim_time now);
  /// Removes every fault and clock window; keeps the generator's state.
  void clear();
  bool empty() const noexcept { return entries_.empty() && windows_.empty(); }

  /// Board resets due by `now` from at_time triggers, in time order, each reported once.
  std::vector<sim_time> take_due_resets(sim_time now);

  /// Counts a job launch on `cores` at `now` and says what happens to it.
  job_fault_effect on_job_launch(sim_time now, const std::vector<unsigned>& cores);
  /// Counts a configuration request at `now` and says what happens to it.
  configuration_fault_effect on_configuration(sim_time now);

  /// The lowest clock limit on `core` at time `t`, if any throttle is in force then.
  std::optional<unsigned> clock_limit_mhz(unsigned core, sim_time t) const;
  /// The largest slowdown on `core` at time `t`; 1 when none is in force.
  double slowdown(unsigned core, sim_time t) const;
  /// The windows in force at `t`, for health reports.
  std::vector<clock_window> windows_at(sim_time t) const;

 private:
  struct entry {
    fault spec;
    std::uint64_t events_seen = 0;
    bool fired = false;           // at_time and after_events fire once
    std::uint32_t armed_uses = 0;  // job and configuration faults: events still to hit
  };

  bool fires(entry& e, sim_time now);
  void add_window(const fault& f, sim_time from);
  void prune_windows(sim_time now);

  std::vector<entry> entries_;
  std::vector<clock_window> windows_;
  std::mt19937_64 rng_{0};
};

}  // namespace edgert::sim
