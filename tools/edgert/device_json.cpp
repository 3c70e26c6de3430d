#include "device_json.hpp"

#include <algorithm>
#include <iomanip>

#include "cli.hpp"

namespace edgert::cli {

nlohmann::json to_json(const DeviceInfo& d) {
  return {
      {"name", d.name},
      {"id", d.id},
      {"kind", d.kind},
      {"product", d.product},
      {"board_type", std::string(to_string(d.board_type))},
      {"sub_devices", d.sub_devices},
      {"fusable", d.fusable},
      {"board_revision", d.board_revision},
      {"firmware_version", d.firmware_version},
      {"flashed_firmware_version", d.flashed_firmware_version},
      {"board_controller_version", d.board_controller_version},
      {"max_memory", d.max_memory},
      {"clock_profiles_mhz", d.clock_profiles_mhz},
      {"state", std::string(to_string(d.state))},
      {"fault", d.fault},
      {"in_use", d.in_use},
      {"in_use_by", d.in_use_by},
      {"sub_device_holders", d.sub_device_holders},
  };
}

namespace {

std::string leased_summary(const DeviceInfo& d) {
  if (!d.in_use) return "-";
  auto busy = std::count_if(d.sub_device_holders.begin(), d.sub_device_holders.end(),
                            [](const std::string& h) { return !h.empty(); });
  return std::to_string(busy) + "/" + std::to_string(d.sub_devices) + " by " + d.in_use_by;
}

}  // namespace

void print_device_table(std::ostream& out, const std::vector<DeviceInfo>& devices) {
  // The firmware column is as wide as its longest value (the host's is its kernel version).
  std::size_t firmware_width = std::string("FIRMWARE").size();
  for (auto& d : devices) firmware_width = std::max(firmware_width, d.firmware_version.size());
  const int firmware_column = static_cast<int>(firmware_width) + 2;
  out << std::left << std::setw(7) << "NAME" << std::setw(12) << "ID" << std::setw(10) << "TYPE"
      << std::setw(5) << "SUBS" << std::setw(13) << "STATE" << std::setw(10) << "MEMORY"
      << std::setw(firmware_column) << "FIRMWARE" << "IN USE\n";
  for (auto& d : devices) {
    std::string state(to_string(d.state));
    out << std::left << std::setw(7) << d.name << std::setw(12) << d.id << std::setw(10)
        << to_string(d.board_type) << std::setw(5) << d.sub_devices << std::setw(13) << state
        << std::setw(10) << human_bytes(d.max_memory) << std::setw(firmware_column)
        << d.firmware_version << leased_summary(d) << "\n";
    if (!d.fault.empty()) out << "       fault: " << d.fault << "\n";
  }
}

void print_configuration(std::ostream& out, const std::string& device,
                         const DeviceConfiguration& config) {
  out << device << " configuration:\n";
  std::size_t width = 0;
  for (auto& [key, value] : config) width = std::max(width, key.size());
  for (auto& [key, value] : config)
    out << "  " << std::left << std::setw(static_cast<int>(width) + 2) << key << value << "\n";
}

}  // namespace edgert::cli
