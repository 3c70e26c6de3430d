// edgert demo: the main job for now. Enumerates the simulated system, reconfigures a board
// with a visible pending -> ready transition, leases sub-devices, shows the lease from the
// listing and from a contending context, and puts everything back as it found it.
#include <chrono>
#include <iostream>
#include <thread>

#include "cli.hpp"
#include "device_json.hpp"

namespace edgert::cli {

namespace {

using clock_type = std::chrono::steady_clock;

long long ms_since(clock_type::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - start).count();
}

// Polls device_ready() until the configuration settles, printing each poll's answer.
void poll_until_ready(Context& ctx, const std::string& device) {
  auto start = clock_type::now();
  auto deadline = start + std::chrono::seconds(60);
  int polls = 0;
  while (!ctx.device_ready(device)) {
    ++polls;
    if (polls <= 3 || polls % 10 == 0)
      std::cout << "  poll " << polls << " at " << ms_since(start) << " ms: pending\n";
    if (clock_type::now() > deadline) throw Timeout(device + " did not settle within 60 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  std::cout << "  poll " << polls + 1 << " at " << ms_since(start) << " ms: ready\n";
}

const DeviceInfo* first_configurable(const std::vector<DeviceInfo>& devices) {
  for (auto& d : devices)
    if (!d.clock_profiles_mhz.empty() && d.state == DeviceState::ready) return &d;
  return nullptr;
}

}  // namespace

void add_demo_command(CLI::App& app, const global_options& g, int& status) {
  auto* cmd = app.add_subcommand("demo", "tour of the simulated system: devices, pending "
                                         "configuration, leases and contention");
  cmd->callback([&g, &status] {
    status = guarded([&] {
      auto options = g.context_options();
      Context ctx(options);
      auto devices = ctx.list_devices();
      std::cout << "edgert " << version() << " demo: " << devices.size()
                << " devices on the simulated system\n\n";
      print_device_table(std::cout, devices);

      auto* board = first_configurable(devices);
      if (!board) {
        std::cout << "\nno ready device with configurable clocks; nothing more to show\n";
        return exit_ok;
      }
      auto name = board->name;
      auto before = ctx.read_device_configuration(name);
      unsigned current = std::stoul(before.at("clock_profile"));
      const auto& profiles = board->clock_profiles_mhz;
      unsigned target = profiles.front() != current ? profiles.front() : profiles.back();

      std::cout << "\n1. Reconfigure " << name << " (" << board->product << ") from " << current
                << " MHz to " << target << " MHz\n";
      bool complete = ctx.configure_device(name, {{"clock_profile", target}});
      std::cout << "  configure_device -> " << (complete ? "complete" : "pending") << "\n";
      if (!complete) poll_until_ready(ctx, name);
      print_configuration(std::cout, name, ctx.read_device_configuration(name));

      unsigned want = std::min(2u, board->sub_devices);
      std::cout << "\n2. Lease " << want << " sub-device(s) of " << name << "\n";
      auto lease = ctx.device_connect(name, want);
      std::cout << "  connected sub-devices";
      for (auto s : lease.sub_devices()) std::cout << " " << s;
      std::cout << "\n";
      print_device_table(std::cout, ctx.list_devices());

      std::cout << "\n3. A second context asks for every sub-device of " << name << "\n";
      {
        Context other(options);
        try {
          auto all = other.device_connect(name, board->sub_devices);
          std::cout << "  unexpectedly granted\n";
        } catch (const DeviceInUse& e) {
          std::cout << "  DeviceInUse: " << e.what() << "\n";
        }
      }

      std::cout << "\n4. Release the lease and restore " << current << " MHz\n";
      lease.release();
      if (!ctx.configure_device(name, {{"clock_profile", current}})) {
        auto start = clock_type::now();
        ctx.wait_device_ready(name, std::chrono::seconds(60));
        std::cout << "  settled after " << ms_since(start) << " ms\n";
      }
      print_device_table(std::cout, ctx.list_devices());
      return exit_ok;
    });
  });
}

}  // namespace edgert::cli
