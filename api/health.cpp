// Health reports of the facade: names of the health states, and health() of the handles
// that serve a model (Runner, Submitter; ModelInstance's is beside its state).
#include "api/context_core.hpp"
#include "api/execution_units.hpp"
#include "api/serving_core.hpp"
#include "edgert/device.hpp"
#include "edgert/runner.hpp"

namespace edgert {

CoreState to_public(health_state s) {
  switch (s) {
    case health_state::ok: return CoreState::ok;
    case health_state::degraded: return CoreState::degraded;
    case health_state::hung: return CoreState::hung;
    case health_state::faulted: return CoreState::faulted;
  }
  return CoreState::faulted;
}

std::string_view to_string(CoreState s) noexcept {
  switch (s) {
    case CoreState::ok: return "ok";
    case CoreState::degraded: return "degraded";
    case CoreState::hung: return "hung";
    case CoreState::faulted: return "faulted";
  }
  return "unknown";
}

std::string_view to_string(InstanceState s) noexcept {
  switch (s) {
    case InstanceState::ok: return "ok";
    case InstanceState::restarting: return "restarting";
    case InstanceState::failed: return "failed";
  }
  return "unknown";
}

bool DeviceHealth::ok() const noexcept {
  if (state != DeviceState::ready && state != DeviceState::configuring) return false;
  for (auto& c : cores)
    if (c.state == CoreState::hung || c.state == CoreState::faulted) return false;
  return true;
}

namespace {

InstanceHealth health_of(const std::shared_ptr<serving_core>& core) {
  if (!core) throw Closed("this handle was moved from or never created");
  if (!core->supervisor) return InstanceHealth{};
  return to_public(core->supervisor->health());
}

}  // namespace

InstanceHealth Runner::health() const { return health_of(core_); }
InstanceHealth Submitter::health() const { return health_of(core_); }

}  // namespace edgert
