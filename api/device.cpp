#include "edgert/device.hpp"

namespace edgert {

std::string_view to_string(BoardType t) noexcept {
  switch (t) {
    case BoardType::pcie: return "pcie";
    case BoardType::m2: return "m2";
    case BoardType::devboard: return "devboard";
    case BoardType::sbc: return "sbc";
    case BoardType::host: return "host";
  }
  return "unknown";
}

std::string_view to_string(DeviceState s) noexcept {
  switch (s) {
    case DeviceState::offline: return "offline";
    case DeviceState::configuring: return "configuring";
    case DeviceState::ready: return "ready";
    case DeviceState::faulted: return "faulted";
    case DeviceState::recovering: return "recovering";
  }
  return "unknown";
}

}  // namespace edgert
