#include "api/system_setup.hpp"

#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "actors/caf_error.hpp"
#include "api/unwrap.hpp"
#include "drivers/sim_driver.hpp"
#include "edgert/errors.hpp"
#include "sim/system_spec.hpp"

namespace edgert {

namespace {

const char* env(const char* name) {
  const char* value = std::getenv(name);
  return value && *value ? value : nullptr;
}

std::filesystem::path executable_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path{} : exe.parent_path();
}

unsigned env_unsigned(const char* name, unsigned fallback) {
  const char* text = env(name);
  if (!text) return fallback;
  char* end = nullptr;
  unsigned long value = std::strtoul(text, &end, 10);
  if (end == text || *end != '\0' || value > 1024)
    throw InvalidArgument(std::string(name) + " must be a whole number up to 1024, not '" +
                          text + "'");
  return static_cast<unsigned>(value);
}

}  // namespace

std::string resolve_system_spec(const ContextOptions& options) {
  if (!options.system.empty()) return options.system;
  if (const char* from_env = env("EDGERT_SYSTEM")) return from_env;
  return std::string(sim::default_system);
}

std::filesystem::path resolve_board_config_dir(const ContextOptions& options) {
  if (!options.board_config_dir.empty()) return options.board_config_dir;
  if (const char* from_env = env("EDGERT_BOARD_CONFIGS")) return from_env;
  auto beside = executable_dir() / ".." / "share" / "edgert" / "board_configs";
  std::error_code ec;
  if (std::filesystem::is_directory(beside, ec)) return beside.lexically_normal();
  return std::filesystem::path(EDGERT_BUILD_SHARE_DIR) / "board_configs";
}

std::vector<std::shared_ptr<driver>> build_drivers(const ContextOptions& options) {
  return build_drivers(options, nullptr);
}

std::vector<std::shared_ptr<driver>> build_drivers(const ContextOptions& options,
                                                   std::shared_ptr<sim::virtual_clock> clock) {
  auto runtime_dir = options.runtime_dir.empty()
                         ? lease_registry::default_runtime_dir()
                         : std::filesystem::path(options.runtime_dir);
  system_options sys;
  sys.spec = resolve_system_spec(options);
  sys.board_configs = unwrap(sim::load_board_configs(resolve_board_config_dir(options)));
  sys.clock = sim::make_real_clock();
  sys.leases = unwrap(lease_registry::open(runtime_dir));
  sys.state_dir = runtime_dir / "boards";
  if (clock) {
    sys.clock = std::move(clock);
    sys.state_dir.reset();
    sys.pacing = pacing_mode::virtual_time;
  }
  auto built = unwrap(build_system(sys));
  std::vector<std::shared_ptr<driver>> drivers;
  for (auto& d : built) drivers.push_back(std::move(d));
  return drivers;
}

std::unique_ptr<caf::actor_system_config> make_actor_system_config(const SchedulerOptions& options) {
  std::string policy = options.policy;
  if (const char* from_env = env("EDGERT_SCHEDULER_POLICY")) policy = from_env;
  if (policy != "sharing" && policy != "stealing")
    throw InvalidArgument("unknown scheduler policy '" + policy +
                          "': use 'sharing' or 'stealing'");
  unsigned threads = env_unsigned("EDGERT_SCHEDULER_THREADS", options.threads);
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  unsigned throughput = env_unsigned("EDGERT_SCHEDULER_MAX_THROUGHPUT", options.max_throughput);
  if (throughput == 0) throughput = 100;

  auto cfg = std::make_unique<caf::actor_system_config>();
  cfg->set("scheduler.policy", policy == "sharing" ? caf::atom("sharing") : caf::atom("stealing"));
  cfg->set("scheduler.max-threads", static_cast<std::size_t>(threads));
  cfg->set("scheduler.max-throughput", static_cast<std::size_t>(throughput));
  // Under work stealing, idle workers would otherwise poll in 50 us sleeps for ~25 ms
  // after each job, delaying every request from outside the actor system by ~100 us.
  cfg->set("work-stealing.moderate-sleep-duration", caf::timespan{0});
  cfg->add_error_category(edgert_error_category(), render_edgert_error);
  return cfg;
}

}  // namespace edgert
