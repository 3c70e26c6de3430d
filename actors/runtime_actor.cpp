#include "actors/runtime_actor.hpp"

#include <caf/all.hpp>

#include "actors/caf_error.hpp"
#include "common/device_spec.hpp"

namespace edgert {

namespace {

struct runtime_state {
  std::vector<device_name_entry> names;  // index-aligned with devices
  std::vector<device_actor> devices;
  device_timeouts timeouts;
  const char* name = "edgert.runtime";
};

using runtime_pointer = runtime_actor::stateful_pointer<runtime_state>;

// Collects one answer per device into a vector, then delivers it; shared by the handlers
// that fan a request out to every device. Lives until the last answer arrives.
template <class T>
struct gather {
  std::vector<T> answers;
  std::size_t outstanding = 0;
  caf::typed_response_promise<std::vector<T>> promise;
};

runtime_actor::behavior_type runtime_impl(runtime_pointer self,
                                          std::vector<std::shared_ptr<driver>> drivers,
                                          device_timeouts timeouts,
                                          std::vector<std::shared_ptr<device_readiness>> readiness) {
  auto& st = self->state;
  st.timeouts = timeouts;
  for (std::size_t i = 0; i < drivers.size(); ++i) {
    auto& drv = drivers[i];
    auto& d = drv->describe();
    st.names.push_back(device_name_entry{drv->name(), d.id, d.kind});
    auto name = drv->name();
    auto published = i < readiness.size() ? readiness[i] : nullptr;
    st.devices.push_back(
        spawn_device_actor(self, std::move(name), std::move(drv), timeouts, std::move(published)));
    self->monitor(st.devices.back());
  }
  drivers.clear();
  std::vector<caf::actor> children;
  for (auto& d : st.devices) children.push_back(caf::actor_cast<caf::actor>(d));
  self->attach_functor([children](const caf::error&) {
    for (auto& c : children) caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
  });
  // A device actor that stops is replaced by nothing: its name then resolves to an error.
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& st = self->state;
    for (auto& d : st.devices)
      if (d && d.address() == msg.source) d = device_actor{};
  });
  self->set_default_handler(caf::drop);

  return {
      [=](list_atom) -> caf::result<std::vector<device_status>> {
        auto& st = self->state;
        auto g = std::make_shared<gather<device_status>>();
        g->promise = self->make_response_promise<std::vector<device_status>>();
        g->answers.resize(st.devices.size());
        for (std::size_t i = 0; i < st.devices.size(); ++i) {
          auto& slot = g->answers[i];
          slot.name = st.names[i].name;
          slot.id = st.names[i].id;
          slot.kind = st.names[i].kind;
          slot.state = device_state::faulted;
          slot.fault = "device actor stopped";
          if (!st.devices[i]) continue;
          ++g->outstanding;
          auto done = [g] {
            if (--g->outstanding == 0) g->promise.deliver(std::move(g->answers));
          };
          self->request(st.devices[i], st.timeouts.driver_request * 2, info_atom::value)
              .then([g, i, done](device_status& s) { g->answers[i] = std::move(s); done(); },
                    [g, i, done](caf::error& e) {
                      g->answers[i].fault = "no answer: " + from_caf_error(e).message;
                      done();
                    });
        }
        if (g->outstanding == 0) g->promise.deliver(std::move(g->answers));
        return g->promise;
      },
      [=](lookup_atom, const std::string& text) -> caf::result<device_actor, std::string> {
        auto& st = self->state;
        auto index = resolve_device_name(text, st.names);
        if (!index) return to_caf_error(index.error());
        if (!st.devices[*index])
          return to_caf_error(errc::connection_error,
                              st.names[*index].name + " is gone: its device actor stopped");
        return caf::make_result(st.devices[*index], st.names[*index].name);
      },
      [=](online_atom) -> caf::result<bool> {
        auto& st = self->state;
        auto promise = self->make_response_promise<bool>();
        std::size_t outstanding = 0;
        for (auto& d : st.devices) outstanding += d ? 1 : 0;
        if (outstanding == 0) return true;
        auto remaining = std::make_shared<std::size_t>(outstanding);
        for (auto& d : st.devices) {
          if (!d) continue;
          self->request(d, st.timeouts.driver_request * 2, online_atom::value)
              .then(
                  [=](bool) mutable {
                    if (--*remaining == 0) promise.deliver(true);
                  },
                  [=](caf::error&) mutable {
                    if (--*remaining == 0) promise.deliver(true);
                  });
        }
        return promise;
      },
  };
}

}  // namespace

runtime_actor spawn_runtime_actor(caf::actor_system& sys,
                                  std::vector<std::shared_ptr<driver>> drivers,
                                  device_timeouts timeouts,
                                  std::vector<std::shared_ptr<device_readiness>> readiness) {
  return sys.spawn(runtime_impl, std::move(drivers), timeouts, std::move(readiness));
}

}  // namespace edgert
