// sub_device_leases: the lease side of driver::reserve() and driver::holder_of(), shared
// by every driver that keys its leases by board_description::id.
//
// Thread-safety: stateless; called from the driver's owning actor.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "drivers/driver.hpp"

namespace edgert {

/// Checks `sub_devices` against the board (invalid_argument when empty or out of range)
/// and takes the lease for all of them. A device_in_use failure names the sub-device by
/// the driver's name, e.g. "dev:0 sub-device 1 is in use by pid 1234 (...)". Fails with
/// internal_error when the driver was built without a lease registry.
result<lease> reserve_sub_devices(const lease_registry* leases, const std::string& driver_name,
                                  const board_description& board,
                                  const std::vector<unsigned>& sub_devices,
                                  const lease_holder& holder);

/// The holder of one sub-device's lease; nothing when it is free, out of range, or the
/// driver has no lease registry.
std::optional<lease_holder> sub_device_holder(const lease_registry* leases,
                                              const board_description& board,
                                              unsigned sub_device);

}  // namespace edgert
