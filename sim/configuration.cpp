// Translation between the string-keyed device configuration users write and the typed
// configuration_request / board_settings the simulator works with. Pure functions; any
// thread may call them.
#include "sim/configuration.hpp"

#include <limits>
#include <string_view>

namespace edgert::sim {

namespace {

constexpr std::string_view board_clock_key = "clock_profile";
constexpr std::string_view core_clock_prefix = "clock_profile_core_";
constexpr std::string_view core_utilisation_prefix = "mvm_utilisation_core_";
constexpr std::string_view valid_keys =
    "clock_profile, clock_profile_core_N, mvm_utilisation_core_N (N = core index)";

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// A core index is a plain decimal without sign or leading zeros, so "core_1" and "core_01"
// can never name the same core twice in one request.
result<unsigned> parse_core_index(const std::string& key, std::string_view digits) {
  auto malformed = [&](const std::string& why) {
    return fail(errc::invalid_configuration,
                "malformed core index in configuration key '" + key + "': " + why);
  };
  if (digits.empty()) return malformed("the index is missing");
  std::uint64_t value = 0;
  for (char ch : digits) {
    if (ch < '0' || ch > '9') return malformed("'" + std::string(digits) + "' is not a plain decimal");
    value = value * 10 + static_cast<unsigned>(ch - '0');
    if (value > std::numeric_limits<unsigned>::max()) return malformed("the index is too large");
  }
  if (digits.size() > 1 && digits.front() == '0') return malformed("leading zeros are not allowed");
  return static_cast<unsigned>(value);
}

result<unsigned> checked_value(const std::string& key, std::int64_t value) {
  if (value < 0) {
    return fail(errc::invalid_configuration,
                "configuration value for '" + key + "' must not be negative (got " +
                    std::to_string(value) + ")");
  }
  if (static_cast<std::uint64_t>(value) > std::numeric_limits<unsigned>::max()) {
    return fail(errc::invalid_configuration, "configuration value for '" + key +
                                                 "' is too large (got " + std::to_string(value) +
                                                 ")");
  }
  return static_cast<unsigned>(value);
}

}  // namespace

result<configuration_request> parse_configuration_request(
    const std::map<std::string, std::int64_t>& settings) {
  configuration_request request;
  for (const auto& [key, raw] : settings) {
    std::map<unsigned, unsigned>* per_core = nullptr;
    std::string_view index_text;
    if (key == board_clock_key) {
      auto value = checked_value(key, raw);
      if (!value) return value.error();
      request.clock_profile_mhz = *value;
      continue;
    }
    if (starts_with(key, core_clock_prefix)) {
      per_core = &request.core_clock_mhz;
      index_text = std::string_view(key).substr(core_clock_prefix.size());
    } else if (starts_with(key, core_utilisation_prefix)) {
      per_core = &request.core_mvm_utilisation_pct;
      index_text = std::string_view(key).substr(core_utilisation_prefix.size());
    } else {
      return fail(errc::invalid_configuration, "unknown configuration key '" + key +
                                                   "'; valid keys: " + std::string(valid_keys));
    }
    auto core = parse_core_index(key, index_text);
    if (!core) return core.error();
    auto value = checked_value(key, raw);
    if (!value) return value.error();
    (*per_core)[*core] = *value;
  }
  return request;
}

std::map<std::string, std::string> to_configuration_map(const board_settings& s) {
  std::map<std::string, std::string> out;
  out.emplace(board_clock_key, std::to_string(s.clock_profile_mhz));
  for (std::size_t core = 0; core < s.cores.size(); ++core) {
    const std::string index = std::to_string(core);
    out.emplace(std::string(core_clock_prefix) + index, std::to_string(s.cores[core].clock_mhz));
    out.emplace(std::string(core_utilisation_prefix) + index,
                std::to_string(s.cores[core].mvm_utilisation_pct));
  }
  return out;
}

}  // namespace edgert::sim
