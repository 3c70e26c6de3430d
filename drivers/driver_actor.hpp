// The driver actor: owns one driver object and is the only code that calls it.
//
// It answers configuration requests with complete/pending, polls the board while a
// configuration is pending (timed by the driver's poll_interval(), so virtual-time tests
// see the exact settle time) and answers every waiter once it settles. It holds the
// cross-process leases the driver grants, so they live exactly as long as this actor.
//
// Every job runs under an execution watchdog measured on the board's clock: a job still
// unfinished at its deadline is released in the driver, its launcher is answered with
// timeout, and the device actor is told its sub-device hung. Deadlines are re-checked by
// a timer (real clock, CAF's test clock) and whenever the simulator's control reports
// that a virtual board clock moved (advanced_atom).
#pragma once

#include <memory>

#include <caf/fwd.hpp>

#include "actors/protocol.hpp"
#include "drivers/driver.hpp"

namespace edgert {

/// Spawns a driver actor owning `drv`. The caller hands ownership over: it must not keep
/// or use its own copy of the pointer afterwards (a shared_ptr only because CAF copies
/// spawn arguments). `parent` spawns it (so it runs in the parent's actor system).
/// `supervisor`, when set, is the device actor told (recover_atom) when a job's watchdog
/// expires (a hung sub-device) or the board reset itself; the address is weak.
driver_actor spawn_driver_actor(caf::local_actor* parent, std::shared_ptr<driver> drv,
                                caf::actor_addr supervisor = {});

}  // namespace edgert
