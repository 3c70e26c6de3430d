// sim_driver behaviour beyond the common contract: exact settle timing on a virtual clock,
// board state shared between driver instances through a state directory, the state file
// format, and build_system().
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "drivers/board_state_file.hpp"
#include "drivers/sim_driver.hpp"
#include "sim/board_config.hpp"
#include "sim/clock.hpp"
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
