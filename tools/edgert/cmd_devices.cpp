// edgert devices: lists every device with its state, who holds it, and its health (the
// device's fault and recovery history, and each sub-device's health).
#include <iostream>
#include <sstream>

#include "cli.hpp"
#include "device_json.hpp"

namespace edgert::cli {

namespace {

nlohmann::json health_json(const DeviceHealth& h) {
  auto cores = nlohmann::json::array();
  for (auto& c : h.cores)
    cores.push_back({{"sub_device", c.sub_device},
                     {"state", std::string(to_string(c.state))},
                     {"reason", c.reason}});
  return {{"ok", h.ok()},
          {"state", std::string(to_string(h.state))},
          {"fault", h.fault},
          {"last_fault", h.last_fault},
          {"recoveries", h.recoveries},
          {"cores", cores}};
}

// Below a device's table row: what is not healthy, and the recovery history.
void print_health(std::ostream& out, const DeviceHealth& h) {
  for (auto& c : h.cores)
    if (c.state != CoreState::ok)
      out << "       core " << c.sub_device << ": " << to_string(c.state)
          << (c.reason.empty() ? "" : " (" + c.reason + ")") << "\n";
  if (h.recoveries > 0 || !h.last_fault.empty())
    out << "       recoveries: " << h.recoveries
        << (h.last_fault.empty() ? "" : ", last fault: " + h.last_fault) << "\n";
}

}  // namespace

void add_devices_command(CLI::App& app, const global_options& g, int& status) {
  auto* cmd = app.add_subcommand("devices", "list devices, their state, health and who holds them");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "print JSON instead of a table");
  cmd->callback([&g, &status, json] {
    status = guarded([&] {
      Context ctx(g.context_options());
      auto devices = ctx.list_devices();
      std::vector<DeviceHealth> health;
      for (auto& d : devices) health.push_back(ctx.device_health(d.name));
      if (*json) {
        auto list = nlohmann::json::array();
        for (std::size_t i = 0; i < devices.size(); ++i) {
          auto entry = to_json(devices[i]);
          entry["health"] = health_json(health[i]);
          list.push_back(std::move(entry));
        }
        print_json({{"devices", list}});
      } else {
        print_device_table(std::cout, devices);
        // Health details follow the table only for devices with something to say.
        bool any = false;
        for (std::size_t i = 0; i < devices.size(); ++i) {
          std::ostringstream details;
          print_health(details, health[i]);
          if (details.str().empty()) continue;
          if (!any) std::cout << "\nhealth:\n";
          any = true;
          std::cout << "  " << devices[i].name << " (" << to_string(health[i].state) << ")\n"
                    << details.str();
        }
      }
      return exit_ok;
    });
  });
}

}  // namespace edgert::cli
