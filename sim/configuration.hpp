// Device configuration vocabulary shared by the simulator and the drivers.
//
// Users configure a device with string keys (as in the peer runtimes):
//   clock_profile            board-wide clock profile in MHz, applied to every core
//   clock_profile_core_N     clock of core N in MHz
//   mvm_utilisation_core_N   matrix-vector-unit utilisation limit of core N, 1..100 (%)
// parse_configuration_request() turns them into a typed request; board::configure()
// checks the values against the board's limits.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace edgert::sim {

struct configuration_request {
  std::optional<unsigned> clock_profile_mhz;
  std::map<unsigned, unsigned> core_clock_mhz;            // core index -> MHz
  std::map<unsigned, unsigned> core_mvm_utilisation_pct;  // core index -> 1..100
  bool empty() const {
    return !clock_profile_mhz && core_clock_mhz.empty() && core_mvm_utilisation_pct.empty();
  }
};

/// Fails with invalid_configuration on an unknown key, a malformed core index or a
/// negative value; range checks against a board happen in board::configure().
result<configuration_request> parse_configuration_request(
    const std::map<std::string, std::int64_t>& settings);

struct core_settings {
  unsigned clock_mhz = 0;
  unsigned mvm_utilisation_pct = 100;
  bool operator==(const core_settings& o) const {
    return clock_mhz == o.clock_mhz && mvm_utilisation_pct == o.mvm_utilisation_pct;
  }
  bool operator!=(const core_settings& o) const { return !(*this == o); }
};

struct board_settings {
  unsigned clock_profile_mhz = 0;
  std::vector<core_settings> cores;
  bool operator==(const board_settings& o) const {
    return clock_profile_mhz == o.clock_profile_mhz && cores == o.cores;
  }
  bool operator!=(const board_settings& o) const { return !(*this == o); }
};

/// Flattens settings to the read_device_configuration() key space
/// (clock_profile, clock_profile_core_N, mvm_utilisation_core_N).
std::map<std::string, std::string> to_configuration_map(const board_settings& s);

}  // namespace edgert::sim
