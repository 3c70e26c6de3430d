// What edgert reports about a device (one board) and its state.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace edgert {

enum class BoardType { pcie, m2, devboard, sbc, host };
std::string_view to_string(BoardType t) noexcept;

/// The device's state machine: offline (starting) -> configuring (a configuration is
/// pending) <-> ready; faulted when the board or its driver failed; recovering during a reset.
enum class DeviceState { offline, configuring, ready, faulted, recovering };
std::string_view to_string(DeviceState s) noexcept;

struct DeviceInfo {
  std::string name;     // "dev:0": index in this process's system
  std::string id;       // "m2-0": stable across processes (kind + ordinal)
  std::string kind;     // board kind, the board_configs/ file stem
  std::string product;  // human-readable product line
  BoardType board_type = BoardType::pcie;
  unsigned sub_devices = 0;
  bool fusable = false;  // whether sub-devices can be fused into one device
  std::string board_revision;
  std::string firmware_version;
  std::string flashed_firmware_version;
  std::string board_controller_version;
  std::uint64_t max_memory = 0;  // bytes of device memory
  std::vector<unsigned> clock_profiles_mhz;  // empty when clocks are not configurable
  DeviceState state = DeviceState::offline;
  std::string fault;  // why the device is faulted; empty otherwise
  bool in_use = false;     // some sub-device is leased, by any process (this one included)
  std::string in_use_by;   // the holders, e.g. "pid 4242 (user ci, program edgert connect, ...)"
  std::vector<std::string> sub_device_holders;  // per sub-device; "" when free
};

/// Health of one sub-device (core or processing element).
enum class CoreState {
  ok,
  degraded,  // works, but slower: a thermal throttle or slow core is in force
  hung,      // a job hung on it; nothing completes there until the board is reset
  faulted,   // a job on it failed with a device fault since the last reset
};
std::string_view to_string(CoreState s) noexcept;

struct CoreHealth {
  unsigned sub_device = 0;
  CoreState state = CoreState::ok;
  std::string reason;  // empty when ok
};

/// What Context::device_health() reports: the truth about a device at the moment of asking.
struct DeviceHealth {
  std::string name;  // "dev:0"
  DeviceState state = DeviceState::offline;
  std::string fault;       // faulted: why; recovering: what it recovers from; else empty
  std::string last_fault;  // the most recent fault, kept after recovery; empty if none yet
  std::uint64_t recoveries = 0;  // recoveries and resets completed since the context started
  std::vector<CoreHealth> cores;  // per sub-device; empty when the driver cannot say
  /// Ready or configuring, and no core hung or faulted.
  bool ok() const noexcept;
};

/// Device settings, keyed as in the peer runtimes: "clock_profile" (MHz, every core),
/// "clock_profile_core_N" (MHz, core N), "mvm_utilisation_core_N" (1..100 %, core N).
using DeviceSettings = std::map<std::string, std::int64_t>;
/// A device's configuration as read back: the keys above plus "pending" and, while
/// pending, "settles_in_ms".
using DeviceConfiguration = std::map<std::string, std::string>;

}  // namespace edgert
