// JSON and table renderings of devices and configurations, shared by several commands.
#pragma once

#include <nlohmann/json.hpp>

#include <ostream>
#include <vector>

#include "edgert/edgert.hpp"

namespace edgert::cli {

nlohmann::json to_json(const DeviceInfo& d);
void print_device_table(std::ostream& out, const std::vector<DeviceInfo>& devices);
void print_configuration(std::ostream& out, const std::string& device,
                         const DeviceConfiguration& config);

}  // namespace edgert::cli
