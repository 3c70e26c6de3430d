#include "drivers/driver_actor.hpp"

#include <algorithm>
#include <map>
#include <vector>

#include <caf/all.hpp>

#include "actors/caf_error.hpp"
#include "sim/configuration.hpp"

namespace edgert {

namespace {

// State of one driver actor; lives and dies with it, touched only from its handlers.
struct driver_actor_state {
  std::shared_ptr<driver> drv;
  std::map<std::uint64_t, lease> leases;  // granted leases by id; destroying one frees it
  std::uint64_t next_lease_id = 1;
  std::vector<caf::typed_response_promise<bool>> settle_waiters;
  std::map<job_id, caf::typed_response_promise<job_status>> jobs;  // launched, not yet final
  bool poll_scheduled = false;
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

// Polls one job: a final status answers its launcher; otherwise the next poll is timed by
// the board (poll_after), or left to the driver's completion notice when the job waits
// for a compute still running or is hung (a board reset then fails it).
void poll_job(driver_pointer self, job_id id) {
  auto& st = self->state;
  auto waiting = st.jobs.find(id);
  if (waiting == st.jobs.end()) return;  // already answered (a notice after a timed poll)
  auto status = st.drv->poll_job(id);
  if (!status) {
    waiting->second.deliver(to_caf_error(status.error()));
    st.jobs.erase(waiting);
    return;
  }
  if (status->state == job_state::done || status->state == job_state::failed) {
    waiting->second.deliver(std::move(*status));
    st.jobs.erase(waiting);
    return;
  }
  if (status->poll_after > std::chrono::nanoseconds::zero())
    self->delayed_send(self, status->poll_after, job_poll_atom::value, id);
}

// A board reset fails the jobs in flight; their launchers hear it from the next poll.
void poll_all_jobs(driver_pointer self) {
  std::vector<job_id> ids;
  for (auto& entry : self->state.jobs) ids.push_back(entry.first);
  for (auto id : ids) poll_job(self, id);
}

driver_actor::behavior_type driver_actor_impl(driver_pointer self, std::shared_ptr<driver> drv) {
  self->state.drv = std::move(drv);
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
        if (!done) return to_caf_error(done.error());
        answer_waiters(self, result<bool>(true));
        poll_all_jobs(self);
        return true;
      },
      [=](counters_atom) -> driver_counters { return self->state.drv->read_counters(); },
      [=](launch_atom, job_request& request) -> caf::result<job_status> {
        // The driver's worker threads report a finished compute with a message; the
        // address is weak, so a job outliving this actor notifies nobody.
        request.notify = [address = self->address()](job_id id) {
          if (auto target = caf::actor_cast<caf::actor>(address))
            caf::anon_send(target, job_poll_atom::value, id);
        };
        auto id = self->state.drv->launch_job(request);
        if (!id) return to_caf_error(id.error());
        auto promise = self->make_response_promise<job_status>();
        self->state.jobs.emplace(*id, promise);
        poll_job(self, *id);
        return promise;
      },
      [=](job_poll_atom, job_id id) { poll_job(self, id); },
  };
}

}  // namespace

driver_actor spawn_driver_actor(caf::local_actor* parent, std::shared_ptr<driver> drv) {
  return parent->spawn(driver_actor_impl, std::move(drv));
}

}  // namespace edgert
