// The simulator's control behind Context::sim(): converts public faults to the simulator's,
// sends them to the boards' driver actors, and moves the virtual clock event by event.
//
// Threads: any thread may call; each call holds the context's lifetime lock shared, like
// every facade call. Driver actors are resolved through their device actors once and
// cached in the context core (sim_drivers), so a device that is faulted later can still be
// reached; they live as long as the context.
#include "edgert/sim_control.hpp"

#include <algorithm>
#include <sstream>

#include "actors/exec/process_runner.hpp"
#include "api/context_core.hpp"
#include "api/serving_core.hpp"
#include "api/unwrap.hpp"
#include "edgert/context.hpp"
#include "sim/fault_plan.hpp"

namespace edgert {

namespace {

sim::fault_kind to_sim(FaultKind kind) {
  switch (kind) {
    case FaultKind::job_hang: return sim::fault_kind::job_hang;
    case FaultKind::job_error: return sim::fault_kind::job_error;
    case FaultKind::dma_failure: return sim::fault_kind::dma_failure;
    case FaultKind::board_reset: return sim::fault_kind::board_reset;
    case FaultKind::thermal_throttle: return sim::fault_kind::thermal_throttle;
    case FaultKind::slow_core: return sim::fault_kind::slow_core;
    case FaultKind::config_never_settles: return sim::fault_kind::config_never_settles;
    case FaultKind::config_fails: return sim::fault_kind::config_fails;
  }
  return sim::fault_kind::job_error;
}

FaultKind from_sim(sim::fault_kind kind) {
  switch (kind) {
    case sim::fault_kind::job_hang: return FaultKind::job_hang;
    case sim::fault_kind::job_error: return FaultKind::job_error;
    case sim::fault_kind::dma_failure: return FaultKind::dma_failure;
    case sim::fault_kind::board_reset: return FaultKind::board_reset;
    case sim::fault_kind::thermal_throttle: return FaultKind::thermal_throttle;
    case sim::fault_kind::slow_core: return FaultKind::slow_core;
    case sim::fault_kind::config_never_settles: return FaultKind::config_never_settles;
    case sim::fault_kind::config_fails: return FaultKind::config_fails;
  }
  return FaultKind::job_error;
}

sim::fault to_sim(const Fault& f) {
  sim::fault out;
  out.kind = to_sim(f.kind);
  out.core = f.core;
  switch (f.trigger.kind) {
    case FaultTrigger::Kind::after_events:
      out.trigger = sim::fault_trigger::after(f.trigger.events);
      break;
    case FaultTrigger::Kind::at_time:
      out.trigger = sim::fault_trigger::at_time(f.trigger.at);
      break;
    case FaultTrigger::Kind::probability:
      out.trigger = sim::fault_trigger::with_probability(f.trigger.probability);
      break;
  }
  out.count = f.count;
  out.code = f.code;
  out.message = f.message;
  out.clock_mhz = f.clock_mhz;
  out.duration = f.duration;
  out.factor = f.factor;
  return out;
}

Fault from_sim(const sim::fault& f) {
  Fault out;
  out.kind = from_sim(f.kind);
  out.core = f.core;
  switch (f.trigger.kind) {
    case sim::trigger_kind::after_events: out.trigger = FaultTrigger::after(f.trigger.events); break;
    case sim::trigger_kind::at_time: out.trigger = FaultTrigger::at_time(f.trigger.at); break;
    case sim::trigger_kind::probability:
      out.trigger = FaultTrigger::with_probability(f.trigger.probability);
      break;
  }
  out.count = f.count;
  out.code = f.code;
  out.message = f.message;
  out.clock_mhz = f.clock_mhz;
  out.duration = f.duration;
  out.factor = f.factor;
  return out;
}

// The driver actor of a simulated device; NotImplemented for the host device.
driver_actor resolve_driver(context_core& core, const std::string& device) {
  auto target = core.lookup(device);
  {
    std::lock_guard<std::mutex> lock(core.sim_mutex);
    auto cached = core.sim_drivers.find(target.second);
    if (cached != core.sim_drivers.end()) return cached->second;
  }
  auto info = core.device_info(target.second);
  if (info.board_type == BoardType::host)
    throw NotImplemented(target.second + " is the host device, not a simulated board: the "
                                         "simulator's control does not apply to it");
  auto drv = core.ask<driver_actor>(target.first, core.request_timeout, driver_atom::value);
  std::lock_guard<std::mutex> lock(core.sim_mutex);
  core.sim_drivers.emplace(target.second, drv);
  return drv;
}

// Every simulated board's driver actor, in device order (the boards are fixed when the
// context starts, so the list is made once).
std::vector<driver_actor> all_sim_drivers(context_core& core) {
  {
    std::lock_guard<std::mutex> lock(core.sim_mutex);
    if (core.sim_driver_list) return *core.sim_driver_list;
  }
  auto all = core.ask<std::vector<device_status>>(core.runtime, core.request_timeout,
                                                  list_atom::value);
  std::vector<driver_actor> out;
  for (auto& s : all)
    if (s.kind != "host") out.push_back(resolve_driver(core, s.name));
  std::lock_guard<std::mutex> lock(core.sim_mutex);
  core.sim_driver_list = out;
  return out;
}

struct poll_outcome {
  std::uint64_t jobs = 0;
  std::optional<std::chrono::nanoseconds> next;  // time until the next thing due
};

poll_outcome poll_boards(context_core& core) {
  poll_outcome out;
  for (auto& drv : all_sim_drivers(core)) {
    core.await_answer(
        drv, core.request_timeout,
        [&](std::uint64_t jobs, std::int64_t next) {
          out.jobs += jobs;
          if (next > 0 && (!out.next || out.next->count() > next))
            out.next = std::chrono::nanoseconds(next);
        },
        advanced_atom::value);
  }
  return out;
}

sim::virtual_clock& require_clock(context_core& core) {
  if (!core.virtual_clock)
    throw NotImplemented("this context's boards run in real time; create it with "
                         "ContextOptions::virtual_time to control simulated time");
  return *core.virtual_clock;
}

std::string toml_value(const std::string& key, const std::string& value) {
  if (key == "code" || key == "message") {
    std::string quoted = "\"";
    for (char c : value) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    return quoted + "\"";
  }
  return value;
}

}  // namespace

FaultTrigger FaultTrigger::after(std::uint64_t events) {
  FaultTrigger t;
  t.kind = Kind::after_events;
  t.events = events;
  return t;
}

FaultTrigger FaultTrigger::at_time(std::chrono::nanoseconds at) {
  FaultTrigger t;
  t.kind = Kind::at_time;
  t.at = at;
  return t;
}

FaultTrigger FaultTrigger::with_probability(double p) {
  FaultTrigger t;
  t.kind = Kind::probability;
  t.probability = p;
  return t;
}

std::string to_string(FaultKind kind) { return std::string(sim::to_string(to_sim(kind))); }

Fault parse_fault_spec(const std::string& spec) {
  // The spec is rewritten as a one-fault script, so it is checked exactly like a file.
  const auto at = spec.find('@');
  std::ostringstream toml;
  toml << "[[fault]]\nkind = \"" << spec.substr(0, at) << "\"\n";
  if (at != std::string::npos) {
    std::string rest = spec.substr(at + 1);
    std::size_t begin = 0;
    while (begin <= rest.size()) {
      auto end = rest.find(',', begin);
      if (end == std::string::npos) end = rest.size();
      auto item = rest.substr(begin, end - begin);
      begin = end + 1;
      if (item.empty()) continue;
      auto eq = item.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
        throw InvalidArgument("fault '" + spec + "': '" + item + "' is not key=value");
      auto key = item.substr(0, eq);
      if (key.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") != std::string::npos)
        throw InvalidArgument("fault '" + spec + "': bad key '" + key + "'");
      toml << key << " = " << toml_value(key, item.substr(eq + 1)) << "\n";
    }
  }
  auto parsed = sim::parse_fault_script(toml.str(), "fault '" + spec + "'");
  if (!parsed) {
    // Point at the spec rather than at the script made of it.
    auto message = parsed.error().message;
    auto colon = message.find(": ", ("fault '" + spec + "'").size());
    throw InvalidArgument("fault '" + spec + "'" +
                          (colon == std::string::npos ? ": " + message : message.substr(colon)) +
                          " (syntax: kind@key=value,...)");
  }
  if (parsed->faults.size() != 1) throw InvalidArgument("fault '" + spec + "' names no fault");
  return from_sim(parsed->faults.front());
}

FaultScript load_fault_script(const std::filesystem::path& file) {
  auto script = unwrap(sim::load_fault_script(file));
  FaultScript out;
  out.seed = script.seed;
  for (auto& f : script.faults) out.faults.push_back(from_sim(f));
  return out;
}

SimControl Context::sim() {
  std::shared_lock<std::shared_mutex> guard(core_->lifetime);
  core_->check_open();
  return SimControl(core_);
}

void SimControl::inject(const std::string& device, const Fault& fault) {
  open_call call{*core_};
  auto drv = resolve_driver(*core_, device);
  core_->ask<bool>(drv, core_->request_timeout, sim_fault_atom::value, to_sim(fault));
}

void SimControl::install(const std::string& device, const FaultScript& script) {
  open_call call{*core_};
  auto drv = resolve_driver(*core_, device);
  sim::fault_script converted;
  converted.seed = script.seed;
  for (auto& f : script.faults) converted.faults.push_back(to_sim(f));
  core_->ask<bool>(drv, core_->request_timeout, sim_script_atom::value, std::move(converted));
}

void SimControl::clear(const std::string& device) { install(device, FaultScript{}); }

std::vector<CoreHealth> SimControl::health(const std::string& device) {
  open_call call{*core_};
  auto drv = resolve_driver(*core_, device);
  auto cores = core_->ask<std::vector<core_health>>(drv, core_->request_timeout,
                                                    sim_health_atom::value);
  std::vector<CoreHealth> out;
  for (auto& c : cores) out.push_back(CoreHealth{c.sub_device, to_public(c.state), c.reason});
  return out;
}

bool SimControl::virtual_time() const { return core_->virtual_clock != nullptr; }

std::chrono::nanoseconds SimControl::now() const { return require_clock(*core_).now(); }

std::chrono::nanoseconds SimControl::step(std::chrono::nanoseconds limit) {
  open_call call{*core_};
  auto& clock = require_clock(*core_);
  std::lock_guard<std::mutex> moving(core_->sim_time_mutex);
  const auto now = clock.now();
  auto polled = poll_boards(*core_);
  if (limit <= now) return now;
  auto target = limit;
  if (polled.next && now + *polled.next < limit) target = now + *polled.next;
  clock.set(target);
  poll_boards(*core_);
  return target;
}

void SimControl::advance(std::chrono::nanoseconds d) {
  if (d < std::chrono::nanoseconds::zero())
    throw InvalidArgument("cannot advance simulated time by a negative duration");
  const auto target = now() + d;
  while (now() < target) step(target);
  if (d == std::chrono::nanoseconds::zero()) step(target);
}

std::uint64_t SimControl::jobs_in_flight() {
  open_call call{*core_};
  return poll_boards(*core_).jobs;
}

namespace {

exec::worker_controls& isolated_workers(const std::shared_ptr<serving_core>& serving) {
  if (!serving) throw Closed("the runner or queue has been moved from");
  if (!serving->workers)
    throw InvalidArgument(serving->model->info.name + " is not served with process isolation "
                          "(SupervisionOptions::process_isolation): it has no worker process");
  return *serving->workers;
}

std::vector<int> pids_of(const std::shared_ptr<serving_core>& serving) {
  std::vector<int> out;
  if (serving && serving->workers)
    for (auto pid : serving->workers->pids()) out.push_back(static_cast<int>(pid));
  return out;
}

}  // namespace

void SimControl::crash_worker(const Runner& runner, unsigned count) {
  isolated_workers(runner.core_).crash_next(count);
}

void SimControl::crash_worker(const Submitter& submitter, unsigned count) {
  isolated_workers(submitter.core_).crash_next(count);
}

void SimControl::hang_worker(const Runner& runner, unsigned count) {
  isolated_workers(runner.core_).hang_next(count);
}

void SimControl::hang_worker(const Submitter& submitter, unsigned count) {
  isolated_workers(submitter.core_).hang_next(count);
}

std::vector<int> SimControl::worker_pids(const Runner& runner) const { return pids_of(runner.core_); }

std::vector<int> SimControl::worker_pids(const Submitter& submitter) const {
  return pids_of(submitter.core_);
}

}  // namespace edgert
