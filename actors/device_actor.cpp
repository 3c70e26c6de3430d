#include "actors/device_actor.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include <caf/all.hpp>

#include "actors/caf_error.hpp"
#include "actors/device_readiness.hpp"
#include "actors/sub_device_actor.hpp"
#include "drivers/driver_actor.hpp"

namespace edgert {

namespace {

// State of one device actor; touched only from its handlers.
struct device_actor_state {
  std::string device_name;
  board_description description;
  device_timeouts timeouts;
  driver_actor drv;
  std::shared_ptr<device_readiness> readiness;  // published state, shared with the facade
  std::vector<sub_device_actor> sub_devices;
  device_state current = device_state::offline;
  std::string fault;
  std::map<std::uint64_t, std::vector<unsigned>> leases;  // leases granted through this actor
  std::vector<caf::typed_response_promise<bool>> online_waiters;
  // Recovery (see the top of device_actor.hpp).
  std::uint64_t epoch = 0;
  std::uint64_t recoveries = 0;
  std::string last_fault;
  std::string recovering_from;   // the fault a recovery under way is for
  bool auto_recovery = false;    // faulted by recover_atom: recovering by itself
  bool reset_needed = false;     // the recovery must reset the board (a core hung)
  unsigned reset_attempts = 0;
  bool driver_gone = false;      // the driver actor stopped: nothing can recover the board
  // Execution units waiting (attach_atom) for the device to be ready again, by waiter id.
  std::map<std::uint64_t, caf::typed_response_promise<driver_actor, std::uint64_t>> attach_waiters;
  std::uint64_t next_waiter = 1;
  const char* name = "edgert.device";
};

using device_pointer = device_actor::stateful_pointer<device_actor_state>;

caf::error refused(device_pointer self, const char* what) {
  auto& st = self->state;
  std::string why = st.device_name + " cannot " + what + ": it is " +
                    std::string(to_string(st.current));
  if (st.current == device_state::faulted && !st.fault.empty()) why += " (" + st.fault + ")";
  if (st.current == device_state::recovering && !st.recovering_from.empty())
    why += " from: " + st.recovering_from;
  if (st.current == device_state::faulted)
    why += st.auto_recovery ? "; it is recovering by itself" : "; reset the device to recover";
  if (st.current == device_state::offline)
    return to_caf_error(errc::connection_error, why);
  return to_caf_error(errc::device_fault, why);
}

bool serving(device_state s) {
  return s == device_state::ready || s == device_state::configuring;
}

void answer_online_waiters(device_pointer self) {
  auto waiters = std::move(self->state.online_waiters);
  self->state.online_waiters.clear();
  for (auto& w : waiters) w.deliver(self->state.current != device_state::faulted);
}

void enter(device_pointer self, device_state next, std::string fault = {}) {
  auto& st = self->state;
  st.current = next;
  st.readiness->publish(next);
  st.fault = next == device_state::faulted ? std::move(fault) : std::string{};
  if (next != device_state::offline) answer_online_waiters(self);
}

unsigned setting_of(const configuration_map& config, const std::string& key) {
  auto i = config.find(key);
  if (i == config.end()) return 0;
  try {
    return static_cast<unsigned>(std::stoul(i->second));
  } catch (const std::exception&) {
    return 0;
  }
}

// Reads the applied configuration back and tells every sub-device its clock and utilisation.
void refresh_sub_devices(device_pointer self) {
  self->request(self->state.drv, caf::infinite, read_config_atom::value)
      .then(
          [=](const configuration_map& config) {
            auto& subs = self->state.sub_devices;
            for (unsigned i = 0; i < subs.size(); ++i) {
              auto n = std::to_string(i);
              self->send(subs[i], settings_atom::value,
                         setting_of(config, "clock_profile_core_" + n),
                         setting_of(config, "mvm_utilisation_core_" + n));
            }
          },
          [=](caf::error&) {});
}

// The device leaves service for `reason`: jobs failing from now on are the board's doing.
void leave_service(device_pointer self, const std::string& reason) {
  ++self->state.epoch;
  self->state.last_fault = reason;
}

void answer_attach_waiters(device_pointer self) {
  auto waiters = std::move(self->state.attach_waiters);
  self->state.attach_waiters.clear();
  for (auto& entry : waiters) {
    if (serving(self->state.current))
      entry.second.deliver(self->state.drv, self->state.epoch);
    else
      entry.second.deliver(refused(self, "run jobs"));
  }
}

// Back in service after a recovery or a requested reset.
void recovered(device_pointer self) {
  auto& st = self->state;
  ++st.recoveries;
  st.auto_recovery = false;
  st.reset_needed = false;
  st.recovering_from.clear();
  enter(self, device_state::ready);
  refresh_sub_devices(self);
  answer_attach_waiters(self);
}

// One reset attempt of an automatic recovery; retried up to recovery_attempts times.
void attempt_reset(device_pointer self) {
  auto& st = self->state;
  ++st.reset_attempts;
  self->request(st.drv, caf::infinite, reset_atom::value)
      .then([=](bool) { recovered(self); },
            [=](caf::error& e) {
              auto& st = self->state;
              if (st.current != device_state::recovering) return;
              if (st.reset_attempts < st.timeouts.recovery_attempts) {
                attempt_reset(self);
                return;
              }
              auto f = from_caf_error(e);
              st.auto_recovery = false;
              enter(self, device_state::faulted,
                    "recovery failed after " + std::to_string(st.reset_attempts) +
                        " reset attempt(s) (" + f.message + "); recovering from: " +
                        st.recovering_from);
              answer_attach_waiters(self);
            });
}

void fault_driver_error(device_pointer self, const caf::error& e) {
  auto f = from_caf_error(e);
  const std::string reason = "driver error: " + f.message;
  leave_service(self, reason);
  enter(self, device_state::faulted, reason);
}

// Waits for a pending configuration to settle, then moves configuring -> ready.
void await_settled(device_pointer self) {
  auto& st = self->state;
  self->request(st.drv, st.timeouts.driver_request + st.timeouts.settle_grace, wait_atom::value)
      .then(
          [=](bool) {
            if (self->state.current == device_state::configuring) {
              enter(self, device_state::ready);
              refresh_sub_devices(self);
            }
          },
          [=](caf::error& e) {
            if (self->state.current == device_state::configuring) {
              auto f = from_caf_error(e);
              const std::string reason = f.code == errc::timeout
                                             ? "configuration never settled"
                                             : "configuration failed: " + f.message;
              leave_service(self, reason);
              enter(self, device_state::faulted, reason);
            }
          });
}

// Picks `count` sub-devices that no one holds, or fails naming who holds the others.
result<std::vector<unsigned>> pick_free(const device_actor_state& st,
                                        const std::vector<std::string>& holders,
                                        unsigned count) {
  std::vector<unsigned> picked;
  std::set<std::string> busy_by;
  for (unsigned i = 0; i < holders.size() && picked.size() < count; ++i) {
    if (holders[i].empty())
      picked.push_back(i);
    else
      busy_by.insert(holders[i]);
  }
  if (picked.size() == count) return picked;
  std::string who;
  for (auto& h : busy_by) who += (who.empty() ? "" : "; ") + h;
  return fail(errc::device_in_use, st.device_name + " has " + std::to_string(picked.size()) +
                                       " free sub-device(s), " + std::to_string(count) +
                                       " requested; in use by " + who);
}

result<void> check_explicit(const device_actor_state& st, const std::vector<unsigned>& wanted) {
  std::set<unsigned> seen;
  for (auto i : wanted) {
    if (i >= st.description.sub_devices)
      return fail(errc::invalid_argument,
                  st.device_name + " has no sub-device " + std::to_string(i) + " (it has " +
                      std::to_string(st.description.sub_devices) + ": 0-" +
                      std::to_string(st.description.sub_devices - 1) + ")");
    if (!seen.insert(i).second)
      return fail(errc::invalid_argument,
                  "sub-device " + std::to_string(i) + " is listed twice");
  }
  return {};
}

void grant(device_pointer self, std::vector<unsigned> subs, const lease_holder& holder,
           caf::typed_response_promise<lease_grant> promise) {
  self->request(self->state.drv, caf::infinite, reserve_atom::value, subs,
                holder)
      .then(
          [=](std::uint64_t id) mutable {
            auto& st = self->state;
            st.leases[id] = subs;
            for (auto i : subs) self->send(st.sub_devices[i], assign_atom::value, id);
            promise.deliver(lease_grant{id, st.device_name, subs});
          },
          [=](caf::error& e) mutable { promise.deliver(e); });
}

device_actor::behavior_type device_impl(device_pointer self, std::string name,
                                        std::shared_ptr<driver> drv, device_timeouts timeouts,
                                        std::shared_ptr<device_readiness> readiness) {
  auto& st = self->state;
  st.device_name = std::move(name);
  st.description = drv->describe();
  st.timeouts = timeouts;
  st.readiness = readiness ? std::move(readiness)
                           : std::make_shared<device_readiness>(drv->status());
  st.drv = spawn_driver_actor(self, std::move(drv), self->address());
  self->monitor(st.drv);
  for (unsigned i = 0; i < st.description.sub_devices; ++i)
    st.sub_devices.push_back(spawn_sub_device_actor(self, i));
  // Children go down with this actor, whatever ends it.
  auto children = std::vector<caf::actor>{caf::actor_cast<caf::actor>(st.drv)};
  for (auto& s : st.sub_devices) children.push_back(caf::actor_cast<caf::actor>(s));
  self->attach_functor([children, readiness = st.readiness](const caf::error& reason) {
    readiness->publish(device_state::offline);  // a stopped device answers nothing itself
    for (auto& c : children) caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
  });
  self->set_down_handler([=](caf::down_msg& msg) {
    if (msg.source == self->state.drv.address()) {
      auto reason = "driver stopped: " + to_string(msg.reason);
      leave_service(self, reason);
      self->state.auto_recovery = false;
      self->state.driver_gone = true;
      enter(self, device_state::faulted, reason);
      answer_attach_waiters(self);  // nothing can bring a driver back: fail them now
    }
  });
  self->set_default_handler(caf::drop);

  // Leave offline once the driver answers its first poll.
  self->request(st.drv, caf::infinite, ready_atom::value)
      .then(
          [=](bool settled) {
            if (self->state.current != device_state::offline) return;
            enter(self, settled ? device_state::ready : device_state::configuring);
            refresh_sub_devices(self);
            if (!settled) await_settled(self);
          },
          [=](caf::error& e) { fault_driver_error(self, e); });

  return {
      [=](info_atom) -> caf::result<device_status> {
        auto& st = self->state;
        device_status out;
        out.name = st.device_name;
        out.id = st.description.id;
        out.kind = st.description.kind;
        out.product = st.description.product;
        out.board_type = std::string(sim::to_string(st.description.type));
        out.sub_devices = st.description.sub_devices;
        out.fusable = st.description.fusable;
        out.board_revision = st.description.board_revision;
        out.firmware_version = st.description.firmware_version;
        out.flashed_firmware_version = st.description.flashed_firmware_version;
        out.board_controller_version = st.description.board_controller_version;
        out.max_memory_bytes = st.description.max_memory_bytes;
        out.clock_profiles_mhz = st.description.clock_profiles_mhz;
        out.state = st.current;
        out.fault = st.fault;
        auto promise = self->make_response_promise<device_status>();
        self->request(st.drv, caf::infinite, holders_atom::value)
            .then(
                [=](std::vector<std::string>& holders) mutable {
                  out.holders = std::move(holders);
                  promise.deliver(std::move(out));
                },
                [=](caf::error&) mutable {
                  // A dead driver cannot say who holds the board; report what we know.
                  out.holders.assign(out.sub_devices, std::string{});
                  promise.deliver(std::move(out));
                });
        return promise;
      },
      [=](state_atom) -> device_state { return self->state.current; },
      [=](configure_atom, const settings_map& settings) -> caf::result<bool> {
        if (!serving(self->state.current)) return refused(self, "be configured");
        auto promise = self->make_response_promise<bool>();
        self->request(self->state.drv, caf::infinite, configure_atom::value,
                      settings)
            .then(
                [=](bool complete) mutable {
                  if (complete) {
                    if (self->state.current == device_state::configuring) await_settled(self);
                    refresh_sub_devices(self);
                  } else if (self->state.current == device_state::ready) {
                    enter(self, device_state::configuring);
                    await_settled(self);
                  }
                  promise.deliver(complete);
                },
                [=](caf::error& e) mutable { promise.deliver(e); });
        return promise;
      },
      [=](ready_atom) -> caf::result<bool> {
        if (self->state.current == device_state::faulted ||
            self->state.current == device_state::offline)
          return refused(self, "report readiness");
        if (auto answer = self->state.readiness->certain_answer()) return *answer;
        auto promise = self->make_response_promise<bool>();
        self->request(self->state.drv, caf::infinite, ready_atom::value)
            .then(
                [=](bool settled) mutable {
                  auto now = self->state.current;
                  if (settled && now == device_state::configuring) {
                    enter(self, device_state::ready);
                    refresh_sub_devices(self);
                  } else if (!settled && now == device_state::ready) {
                    // Another process sharing this board started a reconfiguration.
                    enter(self, device_state::configuring);
                    await_settled(self);
                  }
                  promise.deliver(settled && self->state.current == device_state::ready);
                },
                [=](caf::error& e) mutable { promise.deliver(e); });
        return promise;
      },
      [=](wait_atom) -> caf::result<bool> {
        if (!serving(self->state.current)) return refused(self, "settle");
        auto& st = self->state;
        return self->delegate(st.drv, wait_atom::value);
      },
      [=](driver_atom) -> caf::result<driver_actor> { return self->state.drv; },
      [=](read_config_atom) -> caf::result<configuration_map> {
        return self->delegate(self->state.drv, read_config_atom::value);
      },
      [=](connect_atom, const std::vector<unsigned>& wanted, unsigned count,
          const lease_holder& holder) -> caf::result<lease_grant> {
        auto& st = self->state;
        if (!serving(st.current)) return refused(self, "accept connections");
        // Validate before making the promise: once a promise exists, a returned error
        // would no longer reach the requester.
        if (!wanted.empty()) {
          if (auto ok = check_explicit(st, wanted); !ok) return to_caf_error(ok.error());
          auto promise = self->make_response_promise<lease_grant>();
          grant(self, wanted, holder, promise);
          return promise;
        }
        if (count == 0 || count > st.description.sub_devices)
          return to_caf_error(errc::invalid_argument,
                              "cannot connect " + std::to_string(count) + " sub-device(s): " +
                                  st.device_name + " has " +
                                  std::to_string(st.description.sub_devices));
        auto promise = self->make_response_promise<lease_grant>();
        self->request(st.drv, caf::infinite, holders_atom::value)
            .then(
                [=](const std::vector<std::string>& holders) mutable {
                  auto picked = pick_free(self->state, holders, count);
                  if (!picked) {
                    promise.deliver(to_caf_error(picked.error()));
                    return;
                  }
                  grant(self, std::move(*picked), holder, promise);
                },
                [=](caf::error& e) mutable { promise.deliver(e); });
        return promise;
      },
      [=](release_atom, std::uint64_t id) -> caf::result<bool> {
        auto& st = self->state;
        auto i = st.leases.find(id);
        if (i == st.leases.end()) return false;
        for (auto sub : i->second) self->send(st.sub_devices[sub], assign_atom::value, std::uint64_t{0});
        st.leases.erase(i);
        return self->delegate(st.drv, release_atom::value, id);
      },
      [=](reset_atom) -> caf::result<bool> {
        auto& st = self->state;
        if (st.current == device_state::offline) return refused(self, "be reset");
        leave_service(self, st.current == device_state::faulted ? st.fault : "reset requested");
        st.recovering_from = st.last_fault;
        enter(self, device_state::recovering);
        auto promise = self->make_response_promise<bool>();
        self->request(st.drv, caf::infinite, reset_atom::value)
            .then(
                [=](bool) mutable {
                  recovered(self);
                  promise.deliver(true);
                },
                [=](caf::error& e) mutable {
                  fault_driver_error(self, e);
                  promise.deliver(e);
                });
        return promise;
      },
      [=](fault_atom, const std::string& reason) {
        leave_service(self, reason);
        self->state.auto_recovery = false;
        enter(self, device_state::faulted, reason);
      },
      [=](recover_atom, const std::string& reason, bool reset) {
        auto& st = self->state;
        if (st.current == device_state::recovering ||
            (st.current == device_state::faulted && st.auto_recovery)) {
          st.reset_needed = st.reset_needed || reset;  // one recovery covers both
          return;
        }
        if (st.current == device_state::faulted) return;  // waits for an explicit reset
        leave_service(self, reason);
        st.auto_recovery = true;
        st.reset_needed = reset;
        enter(self, device_state::faulted, reason);
        self->send(self, recover_atom::value);  // recovering starts as the next step
      },
      [=](recover_atom) {
        auto& st = self->state;
        if (st.current != device_state::faulted || !st.auto_recovery) return;
        st.recovering_from = st.fault;
        st.reset_attempts = 0;
        enter(self, device_state::recovering);
        if (st.reset_needed)
          attempt_reset(self);
        else
          recovered(self);  // the board reset itself: nothing left to clear
      },
      [=](health_atom) -> caf::result<device_health_report> {
        auto& st = self->state;
        device_health_report report;
        report.name = st.device_name;
        report.state = st.current;
        report.fault = st.current == device_state::recovering ? st.recovering_from : st.fault;
        report.last_fault = st.last_fault;
        report.recoveries = st.recoveries;
        report.epoch = st.epoch;
        auto promise = self->make_response_promise<device_health_report>();
        self->request(st.drv, caf::infinite, sim_health_atom::value)
            .then(
                [=](std::vector<core_health>& cores) mutable {
                  report.cores = std::move(cores);
                  promise.deliver(std::move(report));
                },
                [=](caf::error&) mutable { promise.deliver(std::move(report)); });
        return promise;
      },
      [=](attach_atom, caf::timespan wait) -> caf::result<driver_actor, std::uint64_t> {
        auto& st = self->state;
        if (serving(st.current)) return caf::make_result(st.drv, st.epoch);
        const bool may_recover = st.current != device_state::offline && !st.driver_gone;
        if (wait <= caf::timespan::zero() || !may_recover) return refused(self, "run jobs");
        auto id = st.next_waiter++;
        auto promise = self->make_response_promise<driver_actor, std::uint64_t>();
        st.attach_waiters.emplace(id, promise);
        self->delayed_send(self, wait, attach_atom::value, id);
        return promise;
      },
      [=](attach_atom, std::uint64_t id) {
        auto& st = self->state;
        auto waiter = st.attach_waiters.find(id);
        if (waiter == st.attach_waiters.end()) return;
        auto why = refused(self, "run jobs");
        waiter->second.deliver(to_caf_error(
            errc::device_fault, from_caf_error(why).message + " (waited for recovery in vain)"));
        st.attach_waiters.erase(waiter);
      },
      [=](online_atom) -> caf::result<bool> {
        auto& st = self->state;
        if (st.current != device_state::offline) return st.current != device_state::faulted;
        auto promise = self->make_response_promise<bool>();
        st.online_waiters.push_back(promise);
        return promise;
      },
      [=](counters_atom) -> caf::result<driver_counters> {
        return self->delegate(self->state.drv, counters_atom::value);
      },
  };
}

}  // namespace

device_actor spawn_device_actor(caf::local_actor* parent, std::string name,
                                std::shared_ptr<driver> drv, device_timeouts timeouts,
                                std::shared_ptr<device_readiness> readiness) {
  return parent->spawn(device_impl, std::move(name), std::move(drv), timeouts,
                      std::move(readiness));
}

device_actor spawn_device_actor(caf::actor_system& sys, std::string name,
                                std::shared_ptr<driver> drv, device_timeouts timeouts,
                                std::shared_ptr<device_readiness> readiness) {
  return sys.spawn(device_impl, std::move(name), std::move(drv), timeouts,
                      std::move(readiness));
}

}  // namespace edgert
