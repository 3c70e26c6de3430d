// edgert configure: applies clock profiles and utilisation limits, optionally waiting for
// a pending configuration to settle.
//
// Options bind in command-line order: --clock-profile before any --core is board-wide;
// --core N makes the following --clock-profile / --mvm-utilisation apply to core N; an
// --mvm-utilisation given before any --core binds to the --core that follows it.
#include <chrono>
#include <optional>
#include <iostream>
#include <thread>

#include "cli.hpp"
#include "device_json.hpp"

namespace edgert::cli {

namespace {

struct configure_args {
  std::string device;
  std::vector<unsigned> cores;
  std::vector<unsigned> clock_profiles;
  std::vector<unsigned> utilisations;
  bool json = false;
};

DeviceSettings settings_in_order(const CLI::App& cmd, const configure_args& args) {
  DeviceSettings settings;
  std::size_t next_core = 0, next_clock = 0, next_util = 0;
  std::optional<unsigned> core;
  std::vector<unsigned> waiting_utilisation;  // given before any --core
  for (const CLI::Option* opt : cmd.parse_order()) {
    auto name = opt->get_name();
    if (name == "--core") {
      core = args.cores.at(next_core++);
      for (auto pct : waiting_utilisation)
        settings["mvm_utilisation_core_" + std::to_string(*core)] = pct;
      waiting_utilisation.clear();
    } else if (name == "--clock-profile") {
      auto mhz = args.clock_profiles.at(next_clock++);
      settings[core ? "clock_profile_core_" + std::to_string(*core) : "clock_profile"] = mhz;
    } else if (name == "--mvm-utilisation") {
      auto pct = args.utilisations.at(next_util++);
      if (core)
        settings["mvm_utilisation_core_" + std::to_string(*core)] = pct;
      else
        waiting_utilisation.push_back(pct);
    }
  }
  if (!waiting_utilisation.empty())
    throw InvalidArgument("--mvm-utilisation applies to one core: add --core N");
  if (settings.empty())
    throw InvalidArgument("nothing to configure: give --clock-profile and/or --mvm-utilisation");
  return settings;
}

}  // namespace

void add_configure_command(CLI::App& app, const global_options& g, int& status) {
  auto* cmd = app.add_subcommand(
      "configure",
      "set clock profiles and MVM utilisation; prints pending, then ready when waiting.\n"
      "Examples:\n"
      "  edgert configure dev:0 --clock-profile 400\n"
      "  edgert configure dev:0 --core 1 --clock-profile 200 --wait\n"
      "  edgert configure dev:0 --mvm-utilisation 50 --core 2");
  auto args = std::make_shared<configure_args>();
  auto wait = std::make_shared<std::vector<std::string>>();
  cmd->add_option("DEVICE", args->device, "device name, e.g. dev:0")->required();
  cmd->add_option("--clock-profile", args->clock_profiles,
                  "clock profile in MHz (board-wide, or for the preceding --core)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--core", args->cores, "core the adjacent setting applies to")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--mvm-utilisation", args->utilisations,
                  "matrix-vector unit utilisation limit in percent (1-100) for a --core")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--wait", *wait,
                  "wait until the configuration settles, at most SECONDS (default 60)")
      ->expected(0, 1)
      ->type_name("[SECONDS]");
  cmd->add_flag("--json", args->json, "print JSON");
  cmd->callback([cmd, &g, &status, args, wait] {
    status = guarded([&] {
      auto settings = settings_in_order(*cmd, *args);
      bool waiting = cmd->count("--wait") > 0;
      double seconds = 60;
      if (waiting && !wait->empty() && !wait->front().empty()) {
        try {
          seconds = std::stod(wait->front());
        } catch (const std::exception&) {
          throw InvalidArgument("--wait takes a number of seconds, not '" + wait->front() + "'");
        }
        if (!(seconds > 0)) throw InvalidArgument("--wait needs a positive number of seconds");
      }
      Context ctx(g.context_options());
      auto name = ctx.device_info(args->device).name;
      auto start = std::chrono::steady_clock::now();
      bool complete = ctx.configure_device(args->device, settings);
      if (!args->json)
        std::cout << name << ": " << (complete ? "configuration applied" : "pending") << std::endl;
      bool ready = complete;
      if (!complete && waiting) {
        auto budget = std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
        ready = ctx.wait_device_ready(args->device, budget);
      }
      auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
      auto config = ctx.read_device_configuration(args->device);
      if (args->json) {
        print_json({{"device", name},
                    {"status", complete ? "complete" : "pending"},
                    {"ready", ready},
                    {"waited_ms", waiting ? waited : 0},
                    {"configuration", config}});
      } else if (!complete && waiting) {
        if (ready)
          std::cout << name << ": ready after " << waited << " ms" << std::endl;
      } else if (!complete) {
        std::cout << name << ": poll with 'edgert config " << name
                  << "' or pass --wait to wait for it" << std::endl;
      }
      if (!complete && waiting && !ready)
        throw Timeout(name + " did not settle within " + CLI::detail::to_string(seconds) + " s");
      return exit_ok;
    });
  });
}

}  // namespace edgert::cli
