#include "drivers/driver_actor.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <vector>

#include <caf/all.hpp>

#include "actors/caf_error.hpp"
#include "sim/configuration.hpp"

namespace edgert {

namespace {

// One job's execution watchdog (see job_watchdog in actors/protocol.hpp). Lives from the
// job's launch until it is answered; times are on the board's clock.
struct job_watch {
  job_watchdog spec;
  std::vector<unsigned> sub_devices;
  std::chrono::nanoseconds launched{0};
  std::optional<std::chrono::nanoseconds> deadline;  // set at the first poll
  std::chrono::nanoseconds budget{0};
};

// State of one driver actor; lives and dies with it, touched only from its handlers.
struct driver_actor_state {
  std::shared_ptr<driver> drv;
  std::map<std::uint64_t, lease> leases;  // granted leases by id; destroying one frees it
  std::uint64_t next_lease_id = 1;
  std::vector<caf::typed_response_promise<bool>> settle_waiters;
  std::map<job_id, caf::typed_response_promise<job_status>> jobs;  // launched, not yet final
  bool poll_scheduled = false;
  std::map<job_id, job_watch> watches;  // one per entry of `jobs`
  // When the pending watchdog sweep is due (board time), if one is pending. One timer for
  // all jobs: a timer per job would wake CAF's clock thread on every job.
  std::optional<std::chrono::nanoseconds> sweep_due;
  caf::actor_addr supervisor;           // the device actor told of hung cores and resets
  std::uint64_t resets_seen = 0;        // driver_counters::resets already accounted for
  const char* name = "edgert.driver";
};

using driver_pointer = driver_actor::stateful_pointer<driver_actor_state>;

void schedule_poll(driver_pointer self) {
  auto& st = self->state;
  if (st.poll_scheduled) return;
  auto wait = st.drv->poll_interval();
  if (wait <= std::chrono::nanoseconds::zero()) wait = std::chrono::nanoseconds{1};
  st.poll_scheduled = true;
  self->delayed_send(self, wait, poll_atom::value);
}

void answer_waiters(driver_pointer self, const result<bool>& settled) {
  auto waiters = std::move(self->state.settle_waiters);
  self->state.settle_waiters.clear();
  for (auto& promise : waiters) {
    if (settled.ok())
      promise.deliver(true);
    else
      promise.deliver(to_caf_error(settled.error()));
  }
}

// Tells the device actor that the board needs recovery (reset: through the driver).
void report_to_supervisor(driver_pointer self, const std::string& reason, bool reset) {
  if (auto device = caf::actor_cast<device_actor>(self->state.supervisor))
    self->send(device, recover_atom::value, reason, reset);
}

// A board that reset itself (an injected board_reset, a link that went down and came back)
// lost its configuration and failed its jobs: the device actor must recover. Resets this
// actor made on request are accounted for when they are made.
void check_board_reset(driver_pointer self) {
  auto& st = self->state;
  const auto resets = st.drv->read_counters().resets;
  if (resets <= st.resets_seen) return;
  st.resets_seen = resets;
  report_to_supervisor(self, st.drv->name() + " reset itself (board reset); jobs in flight failed",
                       false);
}

std::string sub_device_list(const std::vector<unsigned>& subs) {
  std::string out;
  for (auto s : subs) out += (out.empty() ? "" : ",") + std::to_string(s);
  return out;
}

std::string milliseconds_text(std::chrono::nanoseconds d) {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  if (us % 1000 == 0) return std::to_string(us / 1000) + " ms";
  return std::to_string(us / 1000) + "." + std::to_string(us % 1000 / 100) + " ms";
}

// The job outlived its deadline: it is released in the driver, its launcher gets timeout,
// and the device actor hears first (so the launcher's next question to the device already
// sees the recovery) that the job's sub-devices are hung.
void expire_job(driver_pointer self, job_id id) {
  auto& st = self->state;
  auto waiting = st.jobs.find(id);
  auto watch = st.watches.find(id);
  if (waiting == st.jobs.end() || watch == st.watches.end()) return;
  (void)st.drv->release_job(id);
  const auto& w = watch->second;
  std::string message = (w.spec.owner.empty() ? std::string("a job") : w.spec.owner) + ": job " +
                        std::to_string(id) + " on " + st.drv->name() + " sub-device " +
                        sub_device_list(w.sub_devices) + " did not finish within its watchdog of " +
                        milliseconds_text(w.budget) + " (board time); sub-device reported hung";
  report_to_supervisor(self, message, true);
  waiting->second.deliver(to_caf_error(errc::timeout, message));
  st.jobs.erase(waiting);
  st.watches.erase(watch);
}

// Job id 0 is never issued: job_poll_atom with it is the watchdog sweep.
constexpr job_id sweep_id = 0;

// Makes sure a sweep is due no later than `deadline`.
void schedule_sweep(driver_pointer self, std::chrono::nanoseconds deadline,
                    std::chrono::nanoseconds now) {
  auto& st = self->state;
  if (st.sweep_due && *st.sweep_due <= deadline) return;
  st.sweep_due = deadline;
  self->delayed_send(self, deadline - now, job_poll_atom::value, sweep_id);
}

// Sets the job's deadline at its first poll (its start and device time are known then)
// and makes sure a sweep comes by then. Returns false when the deadline has passed.
bool arm_watchdog(driver_pointer self, job_id id, const job_status& status) {
  auto& st = self->state;
  auto watch = st.watches.find(id);
  if (watch == st.watches.end()) return true;
  auto& w = watch->second;
  if (!w.deadline) {
    const auto& spec = w.spec;
    w.budget = spec.budget > std::chrono::nanoseconds::zero()
                   ? spec.budget
                   : std::max(status.device_time * spec.factor, spec.floor);
    w.deadline = std::max(w.launched, status.started) + w.budget;
  }
  const auto now = st.drv->board_time();
  if (now >= *w.deadline) return false;
  schedule_sweep(self, *w.deadline, now);
  return true;
}

// Polls one job: a final status answers its launcher; otherwise the next poll is timed by
// the board (poll_after), or left to the driver's completion notice when the job waits
// for a compute still running or is hung (its watchdog then ends it).
void poll_job(driver_pointer self, job_id id) {
  auto& st = self->state;
  auto waiting = st.jobs.find(id);
  if (waiting == st.jobs.end()) return;  // already answered (a notice after a timed poll)
  auto status = st.drv->poll_job(id);
  if (!status) {
    waiting->second.deliver(to_caf_error(status.error()));
    st.jobs.erase(waiting);
    st.watches.erase(id);
    return;
  }
  if (status->state == job_state::done || status->state == job_state::failed) {
    if (status->state == job_state::failed && status->error == errc::device_fault)
      check_board_reset(self);
    waiting->second.deliver(std::move(*status));
    st.jobs.erase(waiting);
    st.watches.erase(id);
    return;
  }
  if (!arm_watchdog(self, id, *status)) {
    expire_job(self, id);
    return;
  }
  if (status->poll_after > std::chrono::nanoseconds::zero())
    self->delayed_send(self, status->poll_after, job_poll_atom::value, id);
}

// The sweep timer fired: polls every job whose deadline has passed (poll_job() answers it
// if it finished, or expires it), then schedules the next sweep. A timer made stale by an
// earlier sweep finds a later sweep still pending and does nothing.
void sweep(driver_pointer self) {
  auto& st = self->state;
  const auto now = st.drv->board_time();
  if (st.sweep_due && *st.sweep_due > now) return;
  st.sweep_due.reset();
  std::vector<job_id> due;
  for (auto& [id, w] : st.watches)
    if (w.deadline && *w.deadline <= now) due.push_back(id);
  for (auto id : due) poll_job(self, id);
  for (auto w = st.watches.begin(); w != st.watches.end();)  // jobs answered elsewhere
    w = st.jobs.count(w->first) ? std::next(w) : st.watches.erase(w);
  std::optional<std::chrono::nanoseconds> next;
  for (auto& [id, w] : st.watches)
    if (w.deadline && (!next || *w.deadline < *next)) next = w.deadline;
  if (next) schedule_sweep(self, std::max(*next, now + std::chrono::nanoseconds{1}), now);
}

// Launches a job under its watchdog; the answer comes from poll_job() or expire_job().
caf::result<job_status> launch(driver_pointer self, job_request& request, job_watchdog spec) {
  auto& st = self->state;
  // The driver's worker threads report a finished compute with a message; the address is
  // weak, so a job outliving this actor notifies nobody.
  request.notify = [address = self->address()](job_id id) {
    if (auto target = caf::actor_cast<caf::actor>(address))
      caf::anon_send(target, job_poll_atom::value, id);
  };
  const auto launched = st.drv->board_time();
  auto subs = request.sub_devices;
  auto id = st.drv->launch_job(request);
  if (!id) return to_caf_error(id.error());
  auto promise = self->make_response_promise<job_status>();
  st.jobs.emplace(*id, promise);
  job_watch watch;
  watch.spec = std::move(spec);
  watch.sub_devices = std::move(subs);
  watch.launched = launched;
  st.watches.emplace(*id, std::move(watch));
  poll_job(self, *id);
  return promise;
}

// A board reset fails the jobs in flight; their launchers hear it from the next poll.
void poll_all_jobs(driver_pointer self) {
  std::vector<job_id> ids;
  for (auto& entry : self->state.jobs) ids.push_back(entry.first);
  for (auto id : ids) poll_job(self, id);
}

// The simulator's control moved the board's (virtual) clock: settles what is due, answers
// the jobs that ended, and says how many are left and when the next one is due.
caf::result<std::uint64_t, std::int64_t> sim_time_advanced(driver_pointer self) {
  auto& st = self->state;
  auto settled = st.drv->poll_configuration();
  if (!settled || *settled) answer_waiters(self, settled);
  poll_all_jobs(self);  // also ends jobs whose watchdog deadline has passed
  check_board_reset(self);
  std::int64_t next = -1;
  auto consider = [&next](std::chrono::nanoseconds wait) {
    if (wait <= std::chrono::nanoseconds::zero()) return;
    if (next < 0 || wait.count() < next) next = wait.count();
  };
  // Settle times are not stops: a settled configuration applies at the next poll or job
  // launch as of its settle time anyway, and a configuration held pending by a fault would
  // otherwise make every poll interval a stop.
  std::vector<job_id> ids;
  for (auto& entry : st.jobs) ids.push_back(entry.first);
  for (auto id : ids) {
    auto status = st.drv->poll_job(id);
    if (!status || status->state == job_state::done || status->state == job_state::failed) {
      // Ended between the two polls (cannot happen on an unmoved virtual clock): answer it
      // as poll_job() does, its watch and the board-reset check included.
      auto waiting = st.jobs.find(id);
      if (!status) {
        waiting->second.deliver(to_caf_error(status.error()));
      } else {
        if (status->state == job_state::failed && status->error == errc::device_fault)
          check_board_reset(self);
        waiting->second.deliver(std::move(*status));
      }
      st.jobs.erase(waiting);
      st.watches.erase(id);
      continue;
    }
    consider(status->poll_after);
  }
  for (auto& entry : st.watches)
    if (entry.second.deadline) consider(*entry.second.deadline - st.drv->board_time());
  return caf::make_result(static_cast<std::uint64_t>(st.jobs.size()), next);
}

driver_actor::behavior_type driver_actor_impl(driver_pointer self, std::shared_ptr<driver> drv,
                                              caf::actor_addr supervisor) {
  self->state.drv = std::move(drv);
  self->state.supervisor = std::move(supervisor);
  self->state.resets_seen = self->state.drv->read_counters().resets;
  self->set_default_handler(caf::drop);
  return {
      [=](configure_atom, const settings_map& settings) -> caf::result<bool> {
        auto request = sim::parse_configuration_request(settings);
        if (!request) return to_caf_error(request.error());
        auto outcome = self->state.drv->configure(*request);
        if (!outcome) return to_caf_error(outcome.error());
        if (*outcome == configure_outcome::pending) schedule_poll(self);
        return *outcome == configure_outcome::complete;
      },
      [=](ready_atom) -> caf::result<bool> {
        auto settled = self->state.drv->poll_configuration();
        if (!settled) return to_caf_error(settled.error());
        return *settled;
      },
      [=](wait_atom) -> caf::result<bool> {
        auto settled = self->state.drv->poll_configuration();
        if (!settled) return to_caf_error(settled.error());
        if (*settled) return true;
        auto promise = self->make_response_promise<bool>();
        self->state.settle_waiters.push_back(promise);
        schedule_poll(self);
        return promise;
      },
      [=](poll_atom) {
        self->state.poll_scheduled = false;
        auto settled = self->state.drv->poll_configuration();
        if (!settled || *settled)
          answer_waiters(self, settled);
        else
          schedule_poll(self);
      },
      [=](read_config_atom) -> caf::result<configuration_map> {
        auto config = self->state.drv->read_configuration();
        if (!config) return to_caf_error(config.error());
        return std::move(*config);
      },
      [=](reserve_atom, const std::vector<unsigned>& sub_devices,
          const lease_holder& holder) -> caf::result<std::uint64_t> {
        auto granted = self->state.drv->reserve(sub_devices, holder);
        if (!granted) return to_caf_error(granted.error());
        auto id = self->state.next_lease_id++;
        self->state.leases.emplace(id, std::move(*granted));
        return id;
      },
      [=](release_atom, std::uint64_t id) -> bool {
        return self->state.leases.erase(id) > 0;
      },
      [=](holders_atom) -> std::vector<std::string> {
        auto& drv = *self->state.drv;
        std::vector<std::string> holders(drv.describe().sub_devices);
        for (unsigned i = 0; i < holders.size(); ++i)
          if (auto holder = drv.holder_of(i)) holders[i] = holder->describe();
        return holders;
      },
      [=](reset_atom) -> caf::result<bool> {
        auto done = self->state.drv->reset();
        self->state.resets_seen = self->state.drv->read_counters().resets;  // asked for
        if (!done) return to_caf_error(done.error());
        answer_waiters(self, result<bool>(true));
        poll_all_jobs(self);
        return true;
      },
      [=](counters_atom) -> driver_counters { return self->state.drv->read_counters(); },
      [=](launch_atom, job_request& request) -> caf::result<job_status> {
        return launch(self, request, job_watchdog{});
      },
      [=](launch_atom, job_request& request, job_watchdog& spec) -> caf::result<job_status> {
        return launch(self, request, std::move(spec));
      },
      [=](job_poll_atom, job_id id) {
        if (id == sweep_id)
          sweep(self);
        else
          poll_job(self, id);
      },
      [=](sim_fault_atom, const sim::fault& f) -> caf::result<bool> {
        auto added = self->state.drv->inject_fault(f);
        if (!added) return to_caf_error(added.error());
        poll_all_jobs(self);  // a due board reset ends jobs in flight
        return true;
      },
      [=](sim_script_atom, const sim::fault_script& script) -> caf::result<bool> {
        auto installed = self->state.drv->install_faults(script);
        if (!installed) return to_caf_error(installed.error());
        return true;
      },
      [=](sim_health_atom) -> caf::result<std::vector<core_health>> {
        auto health = self->state.drv->read_health();
        if (!health) return to_caf_error(health.error());
        return std::move(*health);
      },
      [=](advanced_atom) -> caf::result<std::uint64_t, std::int64_t> {
        return sim_time_advanced(self);
      },
  };
}

}  // namespace

driver_actor spawn_driver_actor(caf::local_actor* parent, std::shared_ptr<driver> drv,
                                caf::actor_addr supervisor) {
  return parent->spawn(driver_actor_impl, std::move(drv), std::move(supervisor));
}

}  // namespace edgert
