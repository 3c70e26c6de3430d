// The runtime actor: the root of a Context's actors. It owns one device actor per board
// (spawned at start, taken down with it), answers device listings by asking every device,
// and resolves device names to device actors.
#pragma once

#include <memory>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/device_actor.hpp"
#include "actors/protocol.hpp"
#include "drivers/driver.hpp"

namespace edgert {

/// Spawns the runtime actor over `drivers` (ownership passes to the device actors).
/// `readiness`, when not empty, holds one published-state cell per driver, in the same
/// order, for callers that answer device_ready without a message (see device_readiness).
runtime_actor spawn_runtime_actor(caf::actor_system& sys,
                                  std::vector<std::shared_ptr<driver>> drivers,
                                  device_timeouts timeouts = {},
                                  std::vector<std::shared_ptr<device_readiness>> readiness = {});

}  // namespace edgert
