#include "actors/protocol.hpp"

namespace edgert {

std::string_view to_string(device_state s) noexcept {
  switch (s) {
    case device_state::offline: return "offline";
    case device_state::configuring: return "configuring";
    case device_state::ready: return "ready";
    case device_state::faulted: return "faulted";
    case device_state::recovering: return "recovering";
  }
  return "unknown";
}

}  // namespace edgert
