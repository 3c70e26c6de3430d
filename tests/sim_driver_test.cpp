// sim_driver behaviour beyond the common contract: exact settle timing on a virtual clock,
// board state shared between driver instances through a state directory, the state file
// format, build_system(), and jobs (see the second half).
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "drivers/board_state_file.hpp"
#include "drivers/job_pacing.hpp"
#include "drivers/sim_driver.hpp"
#include "sim/board_config.hpp"
#include "sim/clock.hpp"
#include "sim/timing_model.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace edgert;
using namespace std::chrono_literals;

sim::board_config board_kind(const std::string& kind) {
  auto config = sim::load_board_config(test::board_config_dir() / (kind + ".toml"));
  REQUIRE(config.ok());
  return *config;
}

std::shared_ptr<lease_registry> open_leases(const test::temp_dir& runtime) {
  auto leases = lease_registry::open(runtime.path());
  REQUIRE(leases.ok());
  return *leases;
}

sim::configuration_request clock_profile(unsigned mhz) {
  sim::configuration_request request;
  request.clock_profile_mhz = mhz;
  return request;
}

std::string read_value(driver& drv, const std::string& key) {
  auto config = drv.read_configuration();
  REQUIRE(config.ok());
  const auto found = config->find(key);
  return found == config->end() ? std::string("<missing>") : found->second;
}

bool poll(driver& drv) {
  auto settled = drv.poll_configuration();
  REQUIRE(settled.ok());
  return *settled;
}

// An M.2 board on a virtual clock, in memory only.
struct virtual_board {
  test::temp_dir runtime;
  std::shared_ptr<sim::virtual_clock> clock = std::make_shared<sim::virtual_clock>();
  sim::board_config config = board_kind("m2");
  sim_driver drv{"dev:0", sim::board(config, clock), open_leases(runtime), std::nullopt};
};

// Two drivers for the same M.2 board, as two processes would have them: real clocks and
// one state directory. `settle` replaces the board file's reconfiguration time.
struct shared_board {
  explicit shared_board(std::chrono::nanoseconds settle) {
    config.reconfigure_settle_time = settle;
    first = make("dev:0");
    second = make("dev:4");
  }
  std::unique_ptr<sim_driver> make(const std::string& name) {
    return std::make_unique<sim_driver>(name, sim::board(config, clock), leases, runtime.path());
  }

  test::temp_dir runtime;
  std::shared_ptr<sim::sim_clock> clock = sim::make_real_clock();
  std::shared_ptr<lease_registry> leases = open_leases(runtime);
  sim::board_config config = board_kind("m2");
  std::unique_ptr<sim_driver> first;
  std::unique_ptr<sim_driver> second;
};

}  // namespace

SCENARIO("a sim driver describes its board from the board file") {
  test::temp_dir runtime;
  const auto config = board_kind("m2");
  sim_driver drv("dev:2", sim::board(config, std::make_shared<sim::virtual_clock>()),
                 open_leases(runtime), std::nullopt, 3);
  const board_description& board = drv.describe();
  CHECK(board.id == "m2-3");
  CHECK(board.kind == "m2");
  CHECK(board.product == config.product);
  CHECK(board.type == config.type);
  CHECK(board.sub_devices == config.sub_devices);
  CHECK(board.fusable == config.fusable);
  CHECK(board.firmware_version == config.firmware_version);
  CHECK(board.board_revision == config.board_revision);
  CHECK(board.board_controller_version == config.board_controller_version);
  CHECK(board.max_memory_bytes == config.device_memory_bytes);
  CHECK(board.clock_profiles_mhz == config.clock_profiles_mhz);
}

SCENARIO("a cut-down sim board offers only its enabled sub-devices") {
  test::temp_dir runtime;
  sim_driver drv("dev:0", sim::board(board_kind("m2"), std::make_shared<sim::virtual_clock>(), 2),
                 open_leases(runtime), std::nullopt);
  CHECK(drv.describe().sub_devices == 2);
  CHECK(drv.reserve({2}, lease_holder::current_process()).code() == errc::invalid_argument);
}

SCENARIO("a clock change stays pending until exactly the settle time") {
  virtual_board board;
  const auto settle = board.config.reconfigure_settle_time;
  REQUIRE(settle > 1ns);
  GIVEN("a new clock profile was requested") {
    auto outcome = board.drv.configure(clock_profile(400));
    REQUIRE(outcome.ok());
    REQUIRE(*outcome == configure_outcome::pending);
    THEN("the driver asks to be polled after the whole settle time") {
      CHECK(board.drv.poll_interval() == settle);
    }
    WHEN("all but one nanosecond has passed") {
      board.clock->advance(settle - 1ns);
      THEN("it is still pending, one nanosecond from settling") {
        CHECK_FALSE(poll(board.drv));
        CHECK(board.drv.poll_interval() == 1ns);
        CHECK(read_value(board.drv, "pending") == "true");
      }
    }
    WHEN("the settle time has passed") {
      board.clock->advance(settle);
      THEN("it is settled with the new profile") {
        CHECK(poll(board.drv));
        CHECK(board.drv.poll_interval() == 0ns);
        CHECK(read_value(board.drv, "clock_profile") == "400");
        CHECK(board.drv.read_counters().configurations_applied == 1);
      }
    }
  }
}

SCENARIO("a configuration the board does not allow is refused") {
  virtual_board board;
  CHECK(board.drv.configure(clock_profile(123)).code() == errc::invalid_configuration);
  CHECK(board.drv.poll_interval() == 0ns);
}

SCENARIO("a reset drops a pending configuration and restores the defaults") {
  virtual_board board;
  REQUIRE(board.drv.configure(clock_profile(200)).ok());
  REQUIRE(board.drv.reset().ok());
  CHECK(poll(board.drv));
  board.clock->advance(board.config.reconfigure_settle_time);
  CHECK(read_value(board.drv, "clock_profile") == std::to_string(board.config.default_clock_mhz));
}

SCENARIO("a sim driver on a virtual clock keeps its board out of the state directory") {
  test::temp_dir runtime;
  sim_driver drv("dev:0", sim::board(board_kind("m2"), std::make_shared<sim::virtual_clock>()),
                 open_leases(runtime), runtime.path() / "state");
  REQUIRE(drv.configure(clock_profile(400)).ok());
  CHECK_FALSE(std::filesystem::exists(runtime.path() / "state" / "m2-0.state"));
}

SCENARIO("a configuration made through one driver is read through another") {
  shared_board board(0ns);
  auto outcome = board.first->configure(clock_profile(400));
  REQUIRE(outcome.ok());
  REQUIRE(*outcome == configure_outcome::complete);
  CHECK(read_value(*board.second, "clock_profile") == "400");
  CHECK(std::filesystem::exists(board.runtime.path() / "m2-0.state"));
}

SCENARIO("quick successive configurations are all seen by the other driver") {
  shared_board board(0ns);
  for (unsigned mhz : {400u, 600u, 200u, 100u}) {
    REQUIRE(board.first->configure(clock_profile(mhz)).ok());
    CHECK(read_value(*board.second, "clock_profile") == std::to_string(mhz));
  }
}

SCENARIO("a driver configures on top of what another driver configured") {
  shared_board board(0ns);
  REQUIRE(board.first->configure(clock_profile(400)).ok());
  sim::configuration_request utilisation;
  utilisation.core_mvm_utilisation_pct[1] = 50;
  REQUIRE(board.second->configure(utilisation).ok());
  CHECK(read_value(*board.first, "clock_profile") == "400");
  CHECK(read_value(*board.first, "mvm_utilisation_core_1") == "50");
}

SCENARIO("a pending configuration written by one driver settles for the other") {
  shared_board board(60ms);
  GIVEN("the first driver requested a new clock profile") {
    auto outcome = board.first->configure(clock_profile(600));
    REQUIRE(outcome.ok());
    REQUIRE(*outcome == configure_outcome::pending);
    THEN("the second driver sees it pending, for at most the settle time") {
      CHECK_FALSE(poll(*board.second));
      CHECK(board.second->poll_interval() > 0ns);
      CHECK(board.second->poll_interval() <= 60ms);
    }
    WHEN("the settle time has passed") {
      std::this_thread::sleep_for(70ms);
      THEN("the second driver sees it settled") {
        CHECK(poll(*board.second));
        CHECK(read_value(*board.second, "clock_profile") == "600");
      }
    }
  }
}

SCENARIO("a reset through one driver resets the board for the other") {
  shared_board board(0ns);
  REQUIRE(board.first->configure(clock_profile(200)).ok());
  REQUIRE(read_value(*board.second, "clock_profile") == "200");
  REQUIRE(board.second->reset().ok());
  CHECK(read_value(*board.first, "clock_profile") ==
        std::to_string(board.config.default_clock_mhz));
}

SCENARIO("a driver started later picks up the shared board state") {
  shared_board board(0ns);
  REQUIRE(board.first->configure(clock_profile(400)).ok());
  auto late = board.make("dev:9");
  CHECK(read_value(*late, "clock_profile") == "400");
}

SCENARIO("a damaged state file is ignored") {
  shared_board board(0ns);
  std::ofstream(board.runtime.path() / "m2-0.state") << "format=edgert-board-state-1\ngarbage";
  CHECK(read_value(*board.first, "clock_profile") ==
        std::to_string(board.config.default_clock_mhz));
  REQUIRE(board.first->configure(clock_profile(400)).ok());
  CHECK(read_value(*board.second, "clock_profile") == "400");
}

SCENARIO("a configuration that cannot be shared fails with io_error and changes nothing") {
  test::temp_dir runtime;
  const auto blocker = runtime.path() / "not-a-directory";
  std::ofstream(blocker) << "x";
  sim_driver drv("dev:0", sim::board(board_kind("m2"), sim::make_real_clock()),
                 open_leases(runtime), blocker / "state");
  CHECK(drv.configure(clock_profile(400)).code() == errc::io_error);
  CHECK(read_value(drv, "pending") == "false");
}

SCENARIO("polling a settled shared board costs about a stat call") {
  shared_board board(0ns);
  REQUIRE(board.first->configure(clock_profile(400)).ok());
  REQUIRE(poll(*board.first));
  constexpr int polls = 20000;
  const auto start = std::chrono::steady_clock::now();
  int settled = 0;
  for (int i = 0; i < polls; ++i) {
    auto answer = board.first->poll_configuration();
    settled += (answer.ok() && *answer) ? 1 : 0;
  }
  const auto per_poll = (std::chrono::steady_clock::now() - start) / polls;
  MESSAGE("poll_configuration: " << per_poll.count() << " ns per call");
  CHECK(settled == polls);
  // About 1 µs on a quiet machine; the bound leaves room for a loaded test run.
  CHECK(per_poll < 10us);
}

SCENARIO("a board snapshot survives its text form") {
  sim::board_snapshot snapshot;
  snapshot.applied.clock_profile_mhz = 800;
  snapshot.applied.cores = {{800, 100}, {600, 50}};
  snapshot.pending = sim::board_settings{400, {{400, 100}, {400, 25}}};
  snapshot.settles_at = sim::sim_time{123456789012};
  auto parsed = parse_board_snapshot(format_board_snapshot(snapshot));
  REQUIRE(parsed.has_value());
  CHECK(parsed->applied == snapshot.applied);
  CHECK(parsed->pending == snapshot.pending);
  CHECK(parsed->settles_at == snapshot.settles_at);
}

SCENARIO("a cut-off board snapshot text is rejected") {
  sim::board_snapshot snapshot;
  snapshot.applied.clock_profile_mhz = 800;
  snapshot.applied.cores = {{800, 100}};
  const std::string text = format_board_snapshot(snapshot);
  CHECK_FALSE(parse_board_snapshot(text.substr(0, text.size() / 2)).has_value());
  CHECK_FALSE(parse_board_snapshot("").has_value());
}

SCENARIO("every new state file version gets a later stamp") {
  test::temp_dir dir;
  const auto file = dir.path() / "m2-0.state";
  sim::board_snapshot snapshot;
  snapshot.applied.clock_profile_mhz = 800;
  snapshot.applied.cores = {{800, 100}};
  CHECK(board_state_stamp(file) == -1);
  auto first = write_board_state(file, snapshot);
  auto second = write_board_state(file, snapshot);
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(*second > *first);
  CHECK(board_state_stamp(file) == *second);
}

SCENARIO("the default system has one driver per entry with stable ids") {
  test::temp_dir runtime;
  auto configs = sim::load_board_configs(test::board_config_dir());
  REQUIRE(configs.ok());
  system_options options;
  options.spec = std::string(sim::default_system);
  options.board_configs = *configs;
  options.clock = std::make_shared<sim::virtual_clock>();
  options.leases = open_leases(runtime);
  auto drivers = build_system(options);
  REQUIRE(drivers.ok());
  REQUIRE(drivers->size() == 6);
  const char* ids[] = {"m2-0", "pcie-0", "devboard-0", "sbc-0", "duo-0", "host-0"};
  for (std::size_t i = 0; i < 6; ++i) {
    CHECK((*drivers)[i]->name() == "dev:" + std::to_string(i));
    CHECK((*drivers)[i]->describe().id == ids[i]);
  }
  CHECK((*drivers)[5]->describe().type == sim::board_type::host);
}

SCENARIO("repeated boards of one kind are numbered by kind") {
  test::temp_dir runtime;
  auto configs = sim::load_board_configs(test::board_config_dir());
  REQUIRE(configs.ok());
  system_options options;
  options.board_configs = *configs;
  options.clock = std::make_shared<sim::virtual_clock>();
  options.leases = open_leases(runtime);
  WHEN("the spec repeats a board with a count") {
    options.spec = "m2*2";
    auto drivers = build_system(options);
    REQUIRE(drivers.ok());
    REQUIRE(drivers->size() == 2);
    CHECK((*drivers)[0]->describe().id == "m2-0");
    CHECK((*drivers)[1]->describe().id == "m2-1");
    CHECK((*drivers)[1]->name() == "dev:1");
  }
  WHEN("the spec lists a kind twice with another in between") {
    options.spec = "m2,sbc,m2";
    auto drivers = build_system(options);
    REQUIRE(drivers.ok());
    REQUIRE(drivers->size() == 3);
    CHECK((*drivers)[1]->describe().id == "sbc-0");
    CHECK((*drivers)[2]->describe().id == "m2-1");
  }
}

SCENARIO("build_system refuses specs it cannot build") {
  test::temp_dir runtime;
  auto configs = sim::load_board_configs(test::board_config_dir());
  REQUIRE(configs.ok());
  system_options options;
  options.board_configs = *configs;
  options.clock = std::make_shared<sim::virtual_clock>();
  options.leases = open_leases(runtime);
  WHEN("a kind is unknown") {
    options.spec = "m2,warp";
    auto drivers = build_system(options);
    REQUIRE(drivers.code() == errc::invalid_argument);
    THEN("the message lists the known kinds and host") {
      CHECK(drivers.error().message.find("warp") != std::string::npos);
      CHECK(drivers.error().message.find("m2, ") != std::string::npos);
      CHECK(drivers.error().message.find("host") != std::string::npos);
    }
  }
  WHEN("a board asks for zero cores") {
    options.spec = "m2(0)";
    CHECK(build_system(options).code() == errc::invalid_argument);
  }
  WHEN("a board asks for more cores than it has") {
    options.spec = "m2(5)";
    CHECK(build_system(options).code() == errc::invalid_argument);
  }
  WHEN("the host asks for more cores than are online") {
    options.spec = "host(" + std::to_string(::sysconf(_SC_NPROCESSORS_ONLN) + 1) + ")";
    CHECK(build_system(options).code() == errc::invalid_argument);
  }
  WHEN("the spec is malformed") {
    options.spec = "m2,,";
    CHECK(build_system(options).code() == errc::invalid_argument);
  }
}

SCENARIO("core counts in the spec cut boards down") {
  test::temp_dir runtime;
  auto configs = sim::load_board_configs(test::board_config_dir());
  REQUIRE(configs.ok());
  system_options options;
  options.spec = "m2(2),host(1)";
  options.board_configs = *configs;
  options.clock = std::make_shared<sim::virtual_clock>();
  options.leases = open_leases(runtime);
  auto drivers = build_system(options);
  REQUIRE(drivers.ok());
  REQUIRE(drivers->size() == 2);
  CHECK((*drivers)[0]->describe().sub_devices == 2);
  CHECK((*drivers)[1]->describe().sub_devices == 1);
}

SCENARIO("built sim boards run on the clock they were given") {
  test::temp_dir runtime;
  auto configs = sim::load_board_configs(test::board_config_dir());
  REQUIRE(configs.ok());
  auto clock = std::make_shared<sim::virtual_clock>();
  system_options options;
  options.spec = "m2";
  options.board_configs = *configs;
  options.clock = clock;
  options.leases = open_leases(runtime);
  auto drivers = build_system(options);
  REQUIRE(drivers.ok());
  driver& m2 = *drivers->front();
  REQUIRE(m2.configure(clock_profile(400)).ok());
  REQUIRE_FALSE(poll(m2));
  clock->advance(m2.poll_interval());
  CHECK(poll(m2));
}

// Jobs on simulated boards: queueing in device time, fused groups, pacing modes and the
// EDGERT_SIM_PACING variable, bounded bookkeeping and destruction with work in flight.
namespace {

// 1e9 MACs: about 37 us of compute on an M.2 core at 800 MHz.
job_request timed_job(unsigned sub_device, std::function<result<void>()> compute = {}) {
  job_request job;
  job.sub_devices = {sub_device};
  job.cost.macs = 1'000'000'000;
  job.cost.input_bytes = 150'528;
  job.cost.output_bytes = 4'000;
  job.compute = std::move(compute);
  return job;
}

std::chrono::nanoseconds model_time(const sim::board_config& config, unsigned cores,
                                    const sim::job_cost& cost) {
  std::vector<sim::core_rate> rates(cores);
  for (auto& rate : rates) rate.clock_mhz = config.default_clock_mhz;
  auto time = sim::estimate_device_time(config, rates, cost);
  REQUIRE(time.ok());
  return time->total();
}

job_status poll_job(driver& drv, job_id id) {
  auto status = drv.poll_job(id);
  REQUIRE(status.ok());
  return *status;
}

// A board of `kind` on a virtual clock with the given pacing.
struct job_board {
  explicit job_board(const std::string& kind = "m2",
                     pacing_mode pacing = pacing_mode::virtual_time)
      : config(board_kind(kind)),
        drv("dev:0", sim::board(config, clock), open_leases(runtime), std::nullopt, 0, pacing) {}
  test::temp_dir runtime;
  std::shared_ptr<sim::virtual_clock> clock = std::make_shared<sim::virtual_clock>();
  sim::board_config config;
  sim_driver drv;
};

// Scoped EDGERT_SIM_PACING; restores "unset" afterwards.
struct pacing_variable {
  explicit pacing_variable(const char* value) { ::setenv(pacing_environment_variable, value, 1); }
  ~pacing_variable() { ::unsetenv(pacing_environment_variable); }
};

// Waits (real time) until `flag` is set by a worker thread; false after two seconds.
bool wait_for(const std::atomic<bool>& flag) {
  for (int i = 0; i < 2000 && !flag.load(); ++i) std::this_thread::sleep_for(1ms);
  return flag.load();
}

}  // namespace

SCENARIO("jobs on one sub-device run back to back in device time") {
  job_board board;
  const auto d = model_time(board.config, 1, timed_job(0).cost);
  auto first = board.drv.launch_job(timed_job(0));
  auto second = board.drv.launch_job(timed_job(0));
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  job_status waiting = poll_job(board.drv, *second);
  CHECK(waiting.state == job_state::queued);
  CHECK(waiting.started == d);
  CHECK(waiting.finished == 2 * d);
  CHECK(waiting.poll_after == d);
  board.clock->advance(d);
  CHECK(poll_job(board.drv, *first).state == job_state::done);
  CHECK(poll_job(board.drv, *second).state == job_state::running);
  board.clock->advance(d - 1ns);
  CHECK(poll_job(board.drv, *second).state == job_state::running);
  board.clock->advance(1ns);
  CHECK(poll_job(board.drv, *second).state == job_state::done);
}

SCENARIO("jobs on different sub-devices run side by side") {
  job_board board;
  const auto d = model_time(board.config, 1, timed_job(0).cost);
  auto first = board.drv.launch_job(timed_job(0));
  auto second = board.drv.launch_job(timed_job(3));
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  board.clock->advance(d);
  CHECK(poll_job(board.drv, *first).state == job_state::done);
  CHECK(poll_job(board.drv, *second).state == job_state::done);
}

SCENARIO("a fused group on a fusable board is faster and occupies both sub-devices") {
  job_board board("duo");
  job_request fused = timed_job(0);
  fused.sub_devices = {0, 1};
  fused.cost.macs = 100'000'000'000;
  const auto group_time = model_time(board.config, 2, fused.cost);
  CHECK(group_time < model_time(board.config, 1, fused.cost));
  auto id = board.drv.launch_job(fused);
  REQUIRE(id.ok());
  CHECK(poll_job(board.drv, *id).device_time == group_time);
  auto behind = board.drv.launch_job(timed_job(1));
  REQUIRE(behind.ok());
  CHECK(poll_job(board.drv, *behind).started == group_time);
}

SCENARIO("a board that cannot fuse refuses a group job") {
  job_board board;
  job_request group = timed_job(0);
  group.sub_devices = {0, 1};
  CHECK(board.drv.launch_job(group).code() == errc::incompatible_device);
}

SCENARIO("a fused group must be adjacent and ascending") {
  job_board board("duo");
  job_request group = timed_job(0);
  group.sub_devices = {1, 0};
  CHECK(board.drv.launch_job(group).code() == errc::invalid_argument);
}

SCENARIO("a job whose cost cannot be timed is refused") {
  job_board board;
  job_request huge = timed_job(0);
  huge.cost.input_bytes = UINT64_MAX;
  CHECK(board.drv.launch_job(huge).code() == errc::invalid_argument);
  CHECK(board.drv.read_counters().jobs_launched == 0);
}

SCENARIO("virtual-time pacing runs the compute inside launch_job") {
  job_board board;
  int runs = 0;
  auto id = board.drv.launch_job(timed_job(0, [&]() -> result<void> {
    ++runs;
    return {};
  }));
  REQUIRE(id.ok());
  CHECK(runs == 1);
  CHECK(poll_job(board.drv, *id).state == job_state::running);
  CHECK(board.drv.worker_threads() == 0);
}

SCENARIO("paced jobs finish no earlier than their device time") {
  job_board board("m2", pacing_mode::paced);
  std::atomic<bool> notified{false};
  job_request job = timed_job(0, []() -> result<void> { return {}; });
  job.notify = [&](job_id) { notified = true; };
  auto id = board.drv.launch_job(job);
  REQUIRE(id.ok());
  REQUIRE(wait_for(notified));
  const job_status computed = poll_job(board.drv, *id);
  CHECK(computed.state == job_state::running);
  CHECK(computed.poll_after == model_time(board.config, 1, job.cost));
  board.clock->advance(computed.poll_after);
  CHECK(poll_job(board.drv, *id).state == job_state::done);
}

SCENARIO("fast jobs finish as soon as their compute has") {
  job_board board("m2", pacing_mode::fast);
  std::atomic<bool> notified{false};
  job_request job = timed_job(2, []() -> result<void> { return {}; });
  job.notify = [&](job_id) { notified = true; };
  auto id = board.drv.launch_job(job);
  REQUIRE(id.ok());
  REQUIRE(wait_for(notified));
  const job_status status = poll_job(board.drv, *id);
  CHECK(status.state == job_state::done);
  CHECK(status.device_time == model_time(board.config, 1, job.cost));
  CHECK(board.drv.worker_threads() == 1);
}

SCENARIO("the pacing mode defaults to the clock's kind") {
  test::temp_dir runtime;
  ::unsetenv(pacing_environment_variable);
  sim_driver on_virtual("dev:0", sim::board(board_kind("m2"), std::make_shared<sim::virtual_clock>()),
                        open_leases(runtime), std::nullopt);
  sim_driver on_real("dev:1", sim::board(board_kind("m2"), sim::make_real_clock()),
                     open_leases(runtime), std::nullopt);
  CHECK(on_virtual.pacing() == pacing_mode::virtual_time);
  CHECK(on_real.pacing() == pacing_mode::paced);
}

SCENARIO("EDGERT_SIM_PACING chooses the pacing of boards not given one") {
  pacing_variable fast("fast");
  job_board implicit_board;
  test::temp_dir runtime;
  sim_driver implicit("dev:0", sim::board(board_kind("m2"), std::make_shared<sim::virtual_clock>()),
                      open_leases(runtime), std::nullopt);
  CHECK(implicit.pacing() == pacing_mode::fast);
  CHECK(implicit_board.drv.pacing() == pacing_mode::virtual_time);
}

SCENARIO("a bad EDGERT_SIM_PACING makes job launches fail and says why") {
  pacing_variable bad("turbo");
  test::temp_dir runtime;
  sim_driver drv("dev:0", sim::board(board_kind("m2"), std::make_shared<sim::virtual_clock>()),
                 open_leases(runtime), std::nullopt);
  auto id = drv.launch_job(timed_job(0));
  REQUIRE(id.code() == errc::invalid_configuration);
  CHECK(id.error().message.find("EDGERT_SIM_PACING") != std::string::npos);
  CHECK(id.error().message.find("turbo") != std::string::npos);
}

SCENARIO("pacing modes have stable names") {
  for (auto mode : {pacing_mode::virtual_time, pacing_mode::paced, pacing_mode::fast}) {
    auto parsed = parse_pacing_mode(to_string(mode));
    REQUIRE(parsed.ok());
    CHECK(*parsed == mode);
  }
  CHECK(to_string(pacing_mode::virtual_time) == "virtual");
  CHECK(parse_pacing_mode("slow").code() == errc::invalid_configuration);
}

SCENARIO("a hundred thousand jobs leave no bookkeeping behind") {
  job_board board;
  std::uint64_t runs = 0;
  std::size_t most_unreported = 0;
  for (int i = 0; i < 100'000; ++i) {
    auto id = board.drv.launch_job(timed_job(static_cast<unsigned>(i % 4), [&]() -> result<void> {
      ++runs;
      return {};
    }));
    REQUIRE(id.ok());
    most_unreported = std::max(most_unreported, board.drv.unreported_jobs());
    job_status status = poll_job(board.drv, *id);
    while (status.state != job_state::done) {
      board.clock->advance(status.poll_after);
      status = poll_job(board.drv, *id);
    }
  }
  CHECK(runs == 100'000);
  CHECK(most_unreported == 1);
  CHECK(board.drv.unreported_jobs() == 0);
  CHECK(board.drv.read_counters().jobs_completed == 100'000);
}

SCENARIO("a caller that never polls is stopped at the bound") {
  job_board board;
  job_request job;
  job.sub_devices = {0};
  for (int i = 0; i < 65'536; ++i) REQUIRE(board.drv.launch_job(job).ok());
  auto over = board.drv.launch_job(job);
  CHECK(over.code() == errc::queue_full);
  REQUIRE(board.drv.release_job(1).ok());
  CHECK(board.drv.launch_job(job).ok());
}

SCENARIO("destroying a driver waits for a running compute and skips queued ones") {
  std::atomic<int> started{0};
  std::atomic<bool> first_running{false};
  {
    job_board board("m2", pacing_mode::fast);
    auto slow = [&]() -> result<void> {
      ++started;
      first_running = true;
      std::this_thread::sleep_for(50ms);
      return {};
    };
    REQUIRE(board.drv.launch_job(timed_job(0, slow)).ok());
    REQUIRE(board.drv.launch_job(timed_job(0, slow)).ok());
    REQUIRE(wait_for(first_running));
  }
  CHECK(started.load() == 1);
}

SCENARIO("a reset fails queued jobs that had not started") {
  job_board board;
  auto first = board.drv.launch_job(timed_job(0));
  auto queued = board.drv.launch_job(timed_job(0));
  REQUIRE(first.ok());
  REQUIRE(queued.ok());
  REQUIRE(board.drv.reset().ok());
  const job_status status = poll_job(board.drv, *queued);
  CHECK(status.state == job_state::failed);
  CHECK(status.error == errc::device_fault);
  CHECK(status.started == 0ns);
}
