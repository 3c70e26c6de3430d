// edgert devices: lists every device with its state and who holds it.
#include <iostream>

#include "cli.hpp"
#include "device_json.hpp"

namespace edgert::cli {

void add_devices_command(CLI::App& app, const global_options& g, int& status) {
  auto* cmd = app.add_subcommand("devices", "list devices, their state and who holds them");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "print JSON instead of a table");
  cmd->callback([&g, &status, json] {
    status = guarded([&] {
      Context ctx(g.context_options());
      auto devices = ctx.list_devices();
      if (*json) {
        auto list = nlohmann::json::array();
        for (auto& d : devices) list.push_back(to_json(d));
        print_json({{"devices", list}});
      } else {
        print_device_table(std::cout, devices);
      }
      return exit_ok;
    });
  });
}

}  // namespace edgert::cli
