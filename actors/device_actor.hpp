// The device actor: one per board, the device's state machine and its leases.
//
// It owns (spawns, monitors, and takes down with it) the board's driver actor and one
// sub-device actor per core. States: offline (until the driver first answers) ->
// configuring (a configuration is pending) <-> ready; any failure of the driver moves it to
// faulted, and reset() goes faulted -> recovering -> ready. Requests are answered by state:
// a faulted or recovering device refuses configuration and connections with device_fault
// and the reason, instead of letting callers wait.
//
// Recovery: when its driver actor reports a hung sub-device (a job's watchdog expired) or
// a board that reset itself, the device goes faulted -> recovering (resetting the board
// through the driver when a core hung, up to recovery_attempts times) -> ready by itself.
// Each departure from service bumps the device's epoch, so an execution unit whose job
// failed can tell a board fault (epoch moved) from its own. Execution units attach
// (attach_atom) to get the driver actor; while the device recovers they wait, bounded,
// or are refused at once, as their recovery policy says.
#pragma once

#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/device_readiness.hpp"
#include "actors/protocol.hpp"
#include "drivers/driver.hpp"

namespace edgert {

/// Timeouts the device actor uses towards its driver actor.
///
/// Requests the driver actor answers at once (poll, configure, read, reserve, release,
/// reset) carry no CAF timer: the driver actor is a local child this actor monitors, so if
/// it dies those requests fail immediately, and in CAF 0.17 a request timer costs a wake-up
/// of the clock thread on every call (about half of device_ready's latency). Only the wait
/// for a pending configuration, which the driver answers later, is timed.
struct device_timeouts {
  /// Base of the wait for a pending configuration (plus settle_grace); the runtime also
  /// uses it for its own requests to device actors.
  std::chrono::milliseconds driver_request{10000};
  /// Extra time, beyond the board's remaining settle time, before a pending configuration
  /// that never settles faults the device.
  std::chrono::milliseconds settle_grace{30000};
  /// Reset attempts of one automatic recovery before the device stays faulted (then only
  /// an explicit reset brings it back).
  unsigned recovery_attempts = 3;
};

/// Spawns a device actor for the board behind `drv` (ownership of the driver passes to the
/// device's driver actor; see spawn_driver_actor). The actor publishes its state into
/// `readiness` (created from the driver's status register when null).
device_actor spawn_device_actor(caf::local_actor* parent, std::string name,
                                std::shared_ptr<driver> drv, device_timeouts timeouts = {},
                                std::shared_ptr<device_readiness> readiness = nullptr);

/// Spawns a device actor directly in an actor system (tests and tools).
device_actor spawn_device_actor(caf::actor_system& sys, std::string name,
                                std::shared_ptr<driver> drv, device_timeouts timeouts = {},
                                std::shared_ptr<device_readiness> readiness = nullptr);

}  // namespace edgert
