#include "actors/sub_device_actor.hpp"

#include <caf/all.hpp>

namespace edgert {

namespace {

struct sub_device_state {
  sub_device_status status;
  const char* name = "edgert.sub_device";
};

sub_device_actor::behavior_type sub_device_impl(
    sub_device_actor::stateful_pointer<sub_device_state> self, unsigned index) {
  self->state.status.index = index;
  self->set_default_handler(caf::drop);
  return {
      [=](info_atom) -> sub_device_status { return self->state.status; },
      [=](assign_atom, std::uint64_t lease_id) { self->state.status.lease_id = lease_id; },
      [=](settings_atom, unsigned clock_mhz, unsigned mvm_utilisation_pct) {
        self->state.status.clock_mhz = clock_mhz;
        self->state.status.mvm_utilisation_pct = mvm_utilisation_pct;
      },
  };
}

}  // namespace

sub_device_actor spawn_sub_device_actor(caf::local_actor* parent, unsigned index) {
  return parent->spawn(sub_device_impl, index);
}

}  // namespace edgert
