// edgert connect: takes a lease on sub-devices and holds it (for maintenance windows and
// for testing contention). Releases on --hold expiry, SIGINT or SIGTERM and exits 0; when
// the sub-devices are taken it exits 3 naming the holder.
#include <signal.h>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <iostream>

#include "cli.hpp"

namespace edgert::cli {

namespace {

// Blocks SIGINT/SIGTERM in this thread (and in the actor threads started after it) so
// the hold loop can wait for them with sigtimedwait instead of being killed mid-lease.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// Waits for a stop signal, at most `seconds` (negative: forever). Returns the signal or 0.
int wait_for_stop(const sigset_t& set, double seconds) {
  while (true) {
    int sig = 0;
    if (seconds < 0) {
      sig = sigwaitinfo(&set, nullptr);
    } else {
      timespec limit{static_cast<time_t>(seconds),
                     static_cast<long>((seconds - static_cast<time_t>(seconds)) * 1e9)};
      sig = sigtimedwait(&set, nullptr, &limit);
      if (sig < 0 && errno == EAGAIN) return 0;
    }
    if (sig > 0) return sig;
    if (errno != EINTR) return 0;
  }
}

}  // namespace

void add_connect_command(CLI::App& app, const global_options& g, int& status) {
  auto* cmd = app.add_subcommand(
      "connect",
      "lease sub-devices and hold them until --hold runs out or Ctrl-C / SIGTERM.\n"
      "DEVICE may name sub-devices explicitly: dev:0:1 or dev:0:0-1.");
  auto device = std::make_shared<std::string>();
  auto sub_devices = std::make_shared<unsigned>(1);
  auto hold = std::make_shared<double>(-1);
  auto json = std::make_shared<bool>(false);
  cmd->add_option("DEVICE", *device, "device name, e.g. dev:0 or dev:0:1-2")->required();
  auto* subs_opt = cmd->add_option("--sub-devices", *sub_devices,
                                   "how many free sub-devices to lease (default 1)");
  cmd->add_option("--hold", *hold, "seconds to hold the lease (default: until interrupted)")
      ->check([](const std::string& text) -> std::string {
        try {
          if (std::stod(text) >= 0) return {};
        } catch (const std::exception&) {
        }
        return "--hold takes a number of seconds, 0 or more";
      });
  cmd->add_flag("--json", *json, "print JSON");
  cmd->callback([&g, &status, device, sub_devices, subs_opt, hold, json] {
    status = guarded([&] {
      auto stop_signals = block_stop_signals();
      Context ctx(g.context_options());
      // Default to one sub-device only when --sub-devices is absent and DEVICE names no
      // sub-devices; an explicit --sub-devices 0 goes to the library, which rejects it.
      bool names_sub_devices = device->find(':') != device->rfind(':');
      unsigned count = 0;
      if (subs_opt->count() > 0)
        count = *sub_devices;
      else if (!names_sub_devices)
        count = 1;
      if (count == 0 && !names_sub_devices)
        throw InvalidArgument("--sub-devices must be at least 1");
      auto lease = ctx.device_connect(*device, count);
      std::string list;
      for (auto s : lease.sub_devices()) list += (list.empty() ? "" : ",") + std::to_string(s);
      if (*json)
        print_json({{"device", lease.device()},
                    {"sub_devices", lease.sub_devices()},
                    {"holder_pid", static_cast<long>(::getpid())},
                    {"hold_seconds", *hold}});
      else
        std::cout << "connected " << lease.device() << " sub-devices " << list << " (pid "
                  << ::getpid() << ")" << std::endl;
      int sig = wait_for_stop(stop_signals, *hold);
      lease.release();
      if (!*json)
        std::cout << "released " << lease.device()
                  << (sig ? std::string(" on ") + strsignal(sig) : std::string(" after --hold"))
                  << std::endl;
      return exit_ok;
    });
  });
}

}  // namespace edgert::cli
