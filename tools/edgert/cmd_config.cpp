// edgert config: prints a device's current configuration.
#include <iostream>

#include "cli.hpp"
#include "device_json.hpp"

namespace edgert::cli {

void add_config_command(CLI::App& app, const global_options& g, int& status) {
  auto* cmd = app.add_subcommand("config", "print a device's current configuration");
  auto device = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("DEVICE", *device, "device name, e.g. dev:0")->required();
  cmd->add_flag("--json", *json, "print JSON");
  cmd->callback([&g, &status, device, json] {
    status = guarded([&] {
      Context ctx(g.context_options());
      auto config = ctx.read_device_configuration(*device);
      auto name = ctx.device_info(*device).name;
      if (*json)
        print_json({{"device", name}, {"configuration", config}});
      else
        print_configuration(std::cout, name, config);
      return exit_ok;
    });
  });
}

}  // namespace edgert::cli
