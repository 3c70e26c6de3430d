// idle_cpu: how much CPU an idle Context costs the process.
//
// It creates a Context with default options (leases and shared board state in a fresh
// temporary runtime directory, removed at the end), lets it settle for one second, then
// measures the process CPU time (getrusage RUSAGE_SELF, user + system, all threads) over
// a quiet window in which nothing calls the Context. It then makes a burst of device_ready
// calls and measures a second quiet window starting right after the burst, because a
// work-stealing scheduler keeps its workers polling for a while after work. Both are
// printed as a percentage of one core, with a PASS/FAIL line for "<= 1 % in both windows".
//
// The EDGERT_SYSTEM and EDGERT_SCHEDULER_* variables would change what "default options"
// means here, so it unsets them (and says so); --policy / --threads choose a scheduler
// explicitly instead.
//
// Threads: only the main thread calls into the Context and reads the clocks; the actor
// system's workers are what is being measured.
//
// Usage: idle_cpu [--seconds N] [--calls N] [--policy sharing|stealing] [--threads N]
#include <stdlib.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "scratch_dir.hpp"
#include "edgert/context.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

struct arguments {
  double seconds = 5.0;
  unsigned long calls = 1000;
  std::string policy;    // empty: the library default
  unsigned threads = 0;  // 0: the library default
};

void usage(const char* program) {
  std::fprintf(stderr,
               "usage: %s [--seconds N] [--calls N] [--policy sharing|stealing] [--threads N]\n",
               program);
}

bool parse_arguments(int argc, char** argv, arguments& args) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return false;
    const char* value = argv[++i];
    char* end = nullptr;
    if (a == "--seconds") {
      args.seconds = std::strtod(value, &end);
      if (end == value || *end != '\0' || !(args.seconds > 0) || args.seconds > 3600) return false;
    } else if (a == "--calls") {
      args.calls = std::strtoul(value, &end, 10);
      if (end == value || *end != '\0') return false;
    } else if (a == "--threads") {
      args.threads = static_cast<unsigned>(std::strtoul(value, &end, 10));
      if (end == value || *end != '\0') return false;
    } else if (a == "--policy") {
      args.policy = value;
    } else {
      return false;
    }
  }
  return true;
}

// Process CPU time (user + system, every thread) in seconds.
double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

struct window {
  double cpu_seconds = 0;
  double wall_seconds = 0;
  double percent() const { return wall_seconds > 0 ? 100.0 * cpu_seconds / wall_seconds : 0; }
};

// Sleeps for `seconds` and reports the CPU the process used meanwhile. The main thread
// sleeps in one call, so nearly all of the CPU counted belongs to the actor system.
window quiet_window(double seconds) {
  auto cpu0 = process_cpu_seconds();
  auto wall0 = clock_type::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  window w;
  w.cpu_seconds = process_cpu_seconds() - cpu0;
  w.wall_seconds = std::chrono::duration<double>(clock_type::now() - wall0).count();
  return w;
}

}  // namespace

int main(int argc, char** argv) {
  arguments args;
  if (!parse_arguments(argc, argv, args)) {
    usage(argv[0]);
    return 2;
  }
  for (const char* name : {"EDGERT_SYSTEM", "EDGERT_SCHEDULER_POLICY", "EDGERT_SCHEDULER_THREADS",
                           "EDGERT_SCHEDULER_MAX_THROUGHPUT"}) {
    if (std::getenv(name)) {
      std::fprintf(stderr, "note: ignoring %s for this benchmark\n", name);
      unsetenv(name);
    }
  }

  try {
    scratch_dir runtime;
    edgert::ContextOptions options;
    options.runtime_dir = runtime.path().string();
    if (!args.policy.empty()) options.scheduler.policy = args.policy;
    if (args.threads != 0) options.scheduler.threads = args.threads;
    edgert::Context context(options);
    const std::string device = context.list_devices().front().name;

    std::printf("scheduler: %s, %s threads; quiet windows of %.1f s\n",
                options.scheduler.policy.c_str(),
                options.scheduler.threads == 0 ? "default"
                                               : std::to_string(options.scheduler.threads).c_str(),
                args.seconds);

    std::this_thread::sleep_for(std::chrono::seconds(1));  // let start-up work finish
    window idle = quiet_window(args.seconds);
    std::printf("idle after start-up:       %6.3f s CPU in %6.3f s = %6.2f %% of a core\n",
                idle.cpu_seconds, idle.wall_seconds, idle.percent());

    auto cpu0 = process_cpu_seconds();
    auto wall0 = clock_type::now();
    for (unsigned long i = 0; i < args.calls; ++i) context.device_ready(device);
    double burst_wall = std::chrono::duration<double>(clock_type::now() - wall0).count();
    double burst_cpu = process_cpu_seconds() - cpu0;
    std::printf("burst: %lu device_ready(%s) calls: %.1f ms wall, %.1f ms CPU\n", args.calls,
                device.c_str(), burst_wall * 1e3, burst_cpu * 1e3);

    // The first quarter second shows any post-work polling on its own; the rest of the
    // window follows so that both together span args.seconds.
    const double head = std::min(0.25, args.seconds / 2);
    window after_head = quiet_window(head);
    window after_rest = quiet_window(args.seconds - head);
    window after{after_head.cpu_seconds + after_rest.cpu_seconds,
                 after_head.wall_seconds + after_rest.wall_seconds};
    std::printf(
        "idle right after activity: %6.3f s CPU in %6.3f s = %6.2f %% of a core"
        " (first %.2f s: %.2f %%)\n",
        after.cpu_seconds, after.wall_seconds, after.percent(), head, after_head.percent());

    const bool pass = idle.percent() <= 1.0 && after.percent() <= 1.0;
    std::printf("target idle <= 1%% of a core: %s (%.2f %% idle, %.2f %% after activity)\n",
                pass ? "PASS" : "FAIL", idle.percent(), after.percent());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "idle_cpu: %s\n", e.what());
    return 1;
  }
  return 0;
}
