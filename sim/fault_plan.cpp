// fault_plan: validation, triggering and effects of injected faults; see
// sim/fault_plan.hpp for the semantics. Owned by one driver, used from its calling thread.
#include "sim/fault_plan.hpp"

#include <algorithm>
#include <cmath>

namespace edgert::sim {

namespace {

constexpr fault_kind all_kinds[] = {
    fault_kind::job_hang,         fault_kind::job_error,    fault_kind::dma_failure,
    fault_kind::board_reset,      fault_kind::thermal_throttle, fault_kind::slow_core,
    fault_kind::config_never_settles, fault_kind::config_fails,
};

bool uses_count(fault_kind kind) {
  return kind == fault_kind::job_error || kind == fault_kind::dma_failure ||
         kind == fault_kind::config_fails;
}

bool is_job_outcome_fault(fault_kind kind) {
  return kind == fault_kind::job_hang || kind == fault_kind::job_error ||
         kind == fault_kind::dma_failure;
}

bool matches(const fault& f, const std::vector<unsigned>& cores) {
  return !f.core || std::find(cores.begin(), cores.end(), *f.core) != cores.end();
}

bool window_covers(const clock_window& w, unsigned core, sim_time t) {
  if (w.core && *w.core != core) return false;
  return t >= w.from && (!w.until || t < *w.until);
}

std::string default_message(const fault& f) {
  switch (f.kind) {
    case fault_kind::job_error: return "job failed on the device (injected job_error fault)";
    case fault_kind::dma_failure: return "DMA transfer failed (injected dma_failure fault)";
    case fault_kind::config_fails: return "configuration failed (injected config_fails fault)";
    default: return "injected " + std::string(to_string(f.kind)) + " fault";
  }
}

// A uniform draw in [0, 1) from the top 53 bits, the same on every standard library.
double draw(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

}  // namespace

std::string_view to_string(fault_kind kind) noexcept {
  switch (kind) {
    case fault_kind::job_hang: return "job_hang";
    case fault_kind::job_error: return "job_error";
    case fault_kind::dma_failure: return "dma_failure";
    case fault_kind::board_reset: return "board_reset";
    case fault_kind::thermal_throttle: return "thermal_throttle";
    case fault_kind::slow_core: return "slow_core";
    case fault_kind::config_never_settles: return "config_never_settles";
    case fault_kind::config_fails: return "config_fails";
  }
  return "unknown";
}

result<fault_kind> parse_fault_kind(std::string_view text) {
  std::string names;
  for (fault_kind kind : all_kinds) {
    if (text == to_string(kind)) return kind;
    if (!names.empty()) names += ", ";
    names += to_string(kind);
  }
  return fail(errc::invalid_argument,
              "unknown fault kind '" + std::string(text) + "'; valid kinds: " + names);
}

bool is_configuration_fault(fault_kind kind) noexcept {
  return kind == fault_kind::config_never_settles || kind == fault_kind::config_fails;
}

bool is_clock_fault(fault_kind kind) noexcept {
  return kind == fault_kind::thermal_throttle || kind == fault_kind::slow_core;
}

fault_trigger fault_trigger::at_time(sim_time t) {
  fault_trigger trigger;
  trigger.kind = trigger_kind::at_time;
  trigger.at = t;
  return trigger;
}

fault_trigger fault_trigger::after(std::uint64_t events) {
  fault_trigger trigger;
  trigger.kind = trigger_kind::after_events;
  trigger.events = events;
  return trigger;
}

fault_trigger fault_trigger::with_probability(double p) {
  fault_trigger trigger;
  trigger.kind = trigger_kind::probability;
  trigger.probability = p;
  return trigger;
}

result<void> validate(const fault& f, unsigned cores) {
  const std::string name = std::string(to_string(f.kind)) + " fault";
  auto bad = [&](const std::string& what) { return fail(errc::invalid_argument, name + ": " + what); };
  if (f.core && *f.core >= cores) {
    return bad("core " + std::to_string(*f.core) + " is beyond the board (" +
               std::to_string(cores) + " sub-devices)");
  }
  if (f.trigger.kind == trigger_kind::probability &&
      !(f.trigger.probability >= 0 && f.trigger.probability <= 1)) {
    return bad("probability must be between 0 and 1");
  }
  if (uses_count(f.kind) && f.count == 0) return bad("count must be at least 1");
  if (f.kind == fault_kind::job_error && f.code == errc::ok) {
    return bad("the error code must not be ok");
  }
  if (f.kind == fault_kind::config_fails && f.code != errc::invalid_configuration &&
      f.code != errc::device_fault) {
    return bad("the error code must be invalid_configuration or device_fault, not " +
               std::string(to_string(f.code)));
  }
  if (f.duration < sim_duration::zero()) return bad("duration must not be negative");
  if (f.kind == fault_kind::thermal_throttle) {
    if (f.clock_mhz == 0) return bad("clock_mhz must be at least 1");
    if (f.duration == sim_duration::zero()) return bad("duration must be greater than 0");
  }
  if (f.kind == fault_kind::slow_core && !(f.factor >= 1 && std::isfinite(f.factor))) {
    return bad("factor must be a finite number of at least 1");
  }
  return {};
}

result<void> fault_plan::install(const fault_script& script, unsigned cores, sim_time now) {
  for (const fault& f : script.faults) {
    if (auto valid = validate(f, cores); !valid) return valid;
  }
  clear();
  rng_.seed(script.seed);
  for (const fault& f : script.faults) {
    auto added = add(f, cores, now);
    if (!added) return added;  // cannot happen: validated above
  }
  return {};
}

result<void> fault_plan::add(const fault& f, unsigned cores, sim_time now) {
  if (auto valid = validate(f, cores); !valid) return valid;
  entry e;
  e.spec = f;
  if (e.spec.message.empty()) e.spec.message = default_message(f);
  // A clock fault at a known time is a known window: it applies to jobs launched before
  // that time too, when they start inside it.
  if (is_clock_fault(f.kind) && f.trigger.kind == trigger_kind::at_time) {
    add_window(f, f.trigger.at);
    e.fired = true;
  }
  entries_.push_back(std::move(e));
  prune_windows(now);
  return {};
}

void fault_plan::clear() {
  entries_.clear();
  windows_.clear();
}

std::vector<sim_time> fault_plan::take_due_resets(sim_time now) {
  std::vector<sim_time> due;
  for (entry& e : entries_) {
    if (e.spec.kind != fault_kind::board_reset || e.spec.trigger.kind != trigger_kind::at_time) {
      continue;
    }
    if (!e.fired && e.spec.trigger.at <= now) {
      e.fired = true;
      due.push_back(e.spec.trigger.at);
    }
  }
  std::sort(due.begin(), due.end());
  return due;
}

bool fault_plan::fires(entry& e, sim_time now) {
  const fault_trigger& trigger = e.spec.trigger;
  switch (trigger.kind) {
    case trigger_kind::at_time:
      if (e.fired || now < trigger.at) return false;
      e.fired = true;
      return true;
    case trigger_kind::after_events:
      if (e.fired || e.events_seen <= trigger.events) return false;
      e.fired = true;
      return true;
    case trigger_kind::probability:
      return draw(rng_) < trigger.probability;
  }
  return false;
}

void fault_plan::add_window(const fault& f, sim_time from) {
  clock_window w;
  w.core = f.core;
  w.from = from;
  if (f.duration > sim_duration::zero()) w.until = from + f.duration;
  if (f.kind == fault_kind::thermal_throttle) w.clock_mhz = f.clock_mhz;
  if (f.kind == fault_kind::slow_core) w.factor = f.factor;
  windows_.push_back(w);
}

void fault_plan::prune_windows(sim_time now) {
  // Windows that ended are dropped so a long run with probabilistic throttles stays small.
  windows_.erase(std::remove_if(windows_.begin(), windows_.end(),
                                [&](const clock_window& w) { return w.until && *w.until <= now; }),
                 windows_.end());
}

job_fault_effect fault_plan::on_job_launch(sim_time now, const std::vector<unsigned>& cores) {
  prune_windows(now);
  job_fault_effect effect;
  for (entry& e : entries_) {
    if (is_configuration_fault(e.spec.kind) || !matches(e.spec, cores)) continue;
    ++e.events_seen;
    const bool timed = e.spec.trigger.kind == trigger_kind::at_time;
    if (timed && (e.spec.kind == fault_kind::board_reset || is_clock_fault(e.spec.kind))) {
      continue;  // handled by take_due_resets() and the windows added up front
    }
    if (!fires(e, now)) continue;
    switch (e.spec.kind) {
      case fault_kind::board_reset: effect.reset_board = true; break;
      case fault_kind::thermal_throttle:
      case fault_kind::slow_core: add_window(e.spec, now); break;
      case fault_kind::job_hang: e.armed_uses += 1; break;
      default: e.armed_uses += e.spec.count; break;
    }
  }
  for (entry& e : entries_) {
    if (!is_job_outcome_fault(e.spec.kind) || e.armed_uses == 0 || !matches(e.spec, cores)) {
      continue;
    }
    --e.armed_uses;
    if (e.spec.kind == fault_kind::job_hang) {
      effect.hang = true;
    } else {
      const errc code = e.spec.kind == fault_kind::dma_failure ? errc::io_error : e.spec.code;
      effect.error = fail(code, e.spec.message);
    }
    break;
  }
  return effect;
}

configuration_fault_effect fault_plan::on_configuration(sim_time now) {
  configuration_fault_effect effect;
  for (entry& e : entries_) {
    if (!is_configuration_fault(e.spec.kind)) continue;
    ++e.events_seen;
    if (fires(e, now)) {
      e.armed_uses += e.spec.kind == fault_kind::config_fails ? e.spec.count : 1;
    }
  }
  for (entry& e : entries_) {
    if (!is_configuration_fault(e.spec.kind) || e.armed_uses == 0) continue;
    --e.armed_uses;
    if (e.spec.kind == fault_kind::config_never_settles) {
      effect.never_settles = true;
    } else {
      effect.error = fail(e.spec.code, e.spec.message);
    }
    break;
  }
  return effect;
}

std::optional<unsigned> fault_plan::clock_limit_mhz(unsigned core, sim_time t) const {
  std::optional<unsigned> limit;
  for (const clock_window& w : windows_) {
    if (w.clock_mhz == 0 || !window_covers(w, core, t)) continue;
    limit = limit ? std::min(*limit, w.clock_mhz) : w.clock_mhz;
  }
  return limit;
}

double fault_plan::slowdown(unsigned core, sim_time t) const {
  double factor = 1.0;
  for (const clock_window& w : windows_) {
    if (window_covers(w, core, t)) factor = std::max(factor, w.factor);
  }
  return factor;
}

std::vector<clock_window> fault_plan::windows_at(sim_time t) const {
  std::vector<clock_window> out;
  for (const clock_window& w : windows_) {
    if (t >= w.from && (!w.until || t < *w.until)) out.push_back(w);
  }
  return out;
}

}  // namespace edgert::sim
