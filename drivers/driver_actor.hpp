// The driver actor: owns one driver object and is the only code that calls it.
//
// It answers configuration requests with complete/pending, polls the board while a
// configuration is pending (timed by the driver's poll_interval(), so virtual-time tests
// see the exact settle time) and answers every waiter once it settles. It holds the
// cross-process leases the driver grants, so they live exactly as long as this actor.
#pragma once

#include <memory>

#include <caf/fwd.hpp>

#include "actors/protocol.hpp"
#include "drivers/driver.hpp"

namespace edgert {

/// Spawns a driver actor owning `drv`. The caller hands ownership over: it must not keep
/// or use its own copy of the pointer afterwards (a shared_ptr only because CAF copies
/// spawn arguments). `parent` spawns it (so it runs in the parent's actor system).
driver_actor spawn_driver_actor(caf::local_actor* parent, std::shared_ptr<driver> drv);

}  // namespace edgert
