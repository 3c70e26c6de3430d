// sub_device_leases: range checks and message wording around lease_registry.
#include "drivers/sub_device_leases.hpp"

namespace edgert {

result<lease> reserve_sub_devices(const lease_registry* leases, const std::string& driver_name,
                                  const board_description& board,
                                  const std::vector<unsigned>& sub_devices,
                                  const lease_holder& holder) {
  if (leases == nullptr) {
    return fail(errc::internal_error, driver_name + " has no lease registry to reserve with");
  }
  if (sub_devices.empty()) {
    return fail(errc::invalid_argument,
                driver_name + ": a reservation needs at least one sub-device");
  }
  for (unsigned sub : sub_devices) {
    if (sub >= board.sub_devices) {
      const std::string range =
          board.sub_devices == 0
              ? std::string(" has no sub-devices")
              : " has " + std::to_string(board.sub_devices) + " sub-devices (0 to " +
                    std::to_string(board.sub_devices - 1) + ")";
      return fail(errc::invalid_argument, driver_name + range + "; sub-device " +
                                              std::to_string(sub) + " does not exist");
    }
  }
  auto taken = leases->acquire(board.id, sub_devices, holder);
  if (!taken && taken.code() == errc::device_in_use) {
    // The registry names the board by its stable id; users know it by this process's name.
    std::string message = taken.error().message;
    if (message.compare(0, board.id.size(), board.id) == 0) {
      message.replace(0, board.id.size(), driver_name);
    }
    return fail(errc::device_in_use, std::move(message));
  }
  return taken;
}

std::optional<lease_holder> sub_device_holder(const lease_registry* leases,
                                              const board_description& board,
                                              unsigned sub_device) {
  if (leases == nullptr || sub_device >= board.sub_devices) return std::nullopt;
  return leases->holder_of(board.id, sub_device);
}

}  // namespace edgert
