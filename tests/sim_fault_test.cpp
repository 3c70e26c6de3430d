// Fault injection on a simulated board in virtual time: every fault kind, every trigger,
// seeded determinism, validation, and fault scripts in TOML.
#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "drivers/sim_driver.hpp"
#include "sim/fault_plan.hpp"
#include "sim/timing_model.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace edgert;
using namespace std::chrono_literals;

// Two fusable cores at 1000 MHz with 1000 MACs per cycle: a job of 1e9 MACs computes for
// 1 ms and pays 50 us launch cost, so it takes 1.05 ms.
sim::board_config test_config() {
  sim::board_config c;
  c.kind = "faulty";
  c.sub_devices = 2;
  c.fusable = true;
  c.macs_per_cycle_per_core = 1000;
  c.clock_profiles_mhz = {500, 1000};
  c.default_clock_mhz = 1000;
  c.max_core_clock_mhz = 1000;
  c.device_memory_bytes = 1 << 30;
  c.dma_bandwidth_bytes_per_second = 4e9;
  c.job_launch_cost = 50us;
  c.reconfigure_settle_time = 10ms;
  return c;
}

constexpr auto job_time = 1050us;

std::shared_ptr<lease_registry> open_leases(const test::temp_dir& runtime) {
  auto leases = lease_registry::open(runtime.path());
  REQUIRE(leases.ok());
  return *leases;
}

struct fault_board {
  test::temp_dir runtime;
  std::shared_ptr<sim::virtual_clock> clock = std::make_shared<sim::virtual_clock>();
  sim_driver drv{"dev:0", sim::board(test_config(), clock), open_leases(runtime), std::nullopt, 0,
                 pacing_mode::virtual_time};
  int computes = 0;

  job_id launch(unsigned sub_device = 0) {
    job_request job;
    job.sub_devices = {sub_device};
    job.cost.macs = 1'000'000'000;
    job.compute = [this]() -> result<void> {
      ++computes;
      return {};
    };
    auto id = drv.launch_job(job);
    REQUIRE(id.ok());
    return *id;
  }
  job_status poll(job_id id) {
    auto status = drv.poll_job(id);
    REQUIRE(status.ok());
    return *status;
  }
  // Lets board time pass until the job's state may have changed, then polls it.
  job_status finish(job_id id) {
    job_status status = poll(id);
    while (status.poll_after > 0ns) {
      clock->advance(status.poll_after);
      status = poll(id);
    }
    return status;
  }
  // Runs one job on `sub_device` to its end and says whether it succeeded.
  bool run(unsigned sub_device = 0) { return finish(launch(sub_device)).state == job_state::done; }
  void inject(const sim::fault& f) { REQUIRE(drv.inject_fault(f).ok()); }
  core_health health(unsigned sub_device) {
    auto all = drv.read_health();
    REQUIRE(all.ok());
    return all->at(sub_device);
  }
};

sim::fault make_fault(sim::fault_kind kind, sim::fault_trigger trigger = {}) {
  sim::fault f;
  f.kind = kind;
  f.trigger = trigger;
  return f;
}

sim::configuration_request clock_profile(unsigned mhz) {
  sim::configuration_request request;
  request.clock_profile_mhz = mhz;
  return request;
}

std::vector<bool> outcomes_with_seed(std::uint64_t seed, int jobs) {
  fault_board board;
  sim::fault_script script;
  script.seed = seed;
  script.faults.push_back(
      make_fault(sim::fault_kind::job_error, sim::fault_trigger::with_probability(0.5)));
  REQUIRE(board.drv.install_faults(script).ok());
  std::vector<bool> outcomes;
  for (int i = 0; i < jobs; ++i) outcomes.push_back(board.run());
  return outcomes;
}

}  // namespace

SCENARIO("a hung job never completes and hangs only its own core") {
  fault_board board;
  auto hang = make_fault(sim::fault_kind::job_hang);
  hang.core = 1;
  board.inject(hang);
  const job_id hung = board.launch(1);
  CHECK(board.run(0));
  board.clock->advance(1h);
  CHECK(board.poll(hung).state == job_state::running);
  CHECK(board.health(1).state == health_state::hung);
  CHECK(board.health(1).reason.find("job " + std::to_string(hung)) != std::string::npos);
  CHECK(board.health(0).state == health_state::ok);
  CHECK(board.computes == 1);
}

SCENARIO("after a reset a hung core runs jobs again") {
  fault_board board;
  board.inject(make_fault(sim::fault_kind::job_hang));
  board.launch(0);
  const job_id behind = board.launch(0);
  REQUIRE(board.drv.reset().ok());
  const job_status status = board.poll(behind);
  CHECK(status.state == job_state::failed);
  CHECK(status.message == "board reset");
  CHECK(board.run(0));
}

SCENARIO("a job error after one job fails the next count jobs") {
  fault_board board;
  auto error = make_fault(sim::fault_kind::job_error, sim::fault_trigger::after(1));
  error.count = 2;
  board.inject(error);
  CHECK(board.run());
  CHECK_FALSE(board.run());
  CHECK_FALSE(board.run());
  CHECK(board.run());
  CHECK(board.computes == 2);
}

SCENARIO("an injected job error fails when the job's device time is over") {
  fault_board board;
  board.inject(make_fault(sim::fault_kind::job_error));
  const job_id id = board.launch();
  CHECK(board.poll(id).state == job_state::running);
  CHECK(board.health(0).state == health_state::ok);
  board.clock->advance(job_time);
  const job_status status = board.poll(id);
  CHECK(status.state == job_state::failed);
  CHECK(status.finished == sim::sim_time(job_time));
  CHECK(board.health(0).state == health_state::faulted);
}

SCENARIO("a job error carries the code and message it was given") {
  fault_board board;
  auto error = make_fault(sim::fault_kind::job_error);
  error.code = errc::timeout;
  error.message = "watchdog expired";
  board.inject(error);
  const job_status status = board.finish(board.launch());
  CHECK(status.error == errc::timeout);
  CHECK(status.message == "watchdog expired");
}

SCENARIO("a job error limited to one core spares the others") {
  fault_board board;
  auto error = make_fault(sim::fault_kind::job_error);
  error.core = 1;
  board.inject(error);
  CHECK(board.run(0));
  CHECK(board.run(0));
  CHECK_FALSE(board.run(1));
  CHECK(board.health(0).state == health_state::ok);
  CHECK(board.health(1).state == health_state::faulted);
}

SCENARIO("a job fault at a board time hits the first job launched from then on") {
  fault_board board;
  board.inject(make_fault(sim::fault_kind::dma_failure, sim::fault_trigger::at_time(sim::sim_time(5ms))));
  CHECK(board.run());
  board.clock->set(sim::sim_time(5ms));
  const job_status status = board.finish(board.launch());
  CHECK(status.state == job_state::failed);
  CHECK(status.error == errc::io_error);
  CHECK(board.run());
}

SCENARIO("a board reset at a board time fails only the jobs still running then") {
  fault_board board;
  REQUIRE(board.drv.configure(clock_profile(500)).ok());
  board.clock->advance(10ms);
  REQUIRE(board.drv.poll_configuration().ok());
  const auto resets = board.drv.read_counters().resets;
  // At 500 MHz a job takes 2.05 ms; two jobs back to back on core 0 end at 12.05 and 14.1 ms.
  const job_id first = board.launch(0);
  const job_id second = board.launch(0);
  board.inject(make_fault(sim::fault_kind::board_reset, sim::fault_trigger::at_time(sim::sim_time(13ms))));
  board.clock->set(sim::sim_time(20ms));
  CHECK(board.poll(first).state == job_state::done);
  const job_status cut = board.poll(second);
  CHECK(cut.state == job_state::failed);
  CHECK(cut.error == errc::device_fault);
  CHECK(cut.message == "board reset");
  CHECK(cut.finished == sim::sim_time(13ms));
  CHECK(board.drv.read_counters().resets == resets + 1);
  auto config = board.drv.read_configuration();
  REQUIRE(config.ok());
  CHECK(config->at("clock_profile") == "1000");
}

SCENARIO("a board reset after two jobs happens before the third is accepted") {
  fault_board board;
  board.inject(make_fault(sim::fault_kind::board_reset, sim::fault_trigger::after(2)));
  const job_id first = board.launch(0);
  const job_id second = board.launch(1);
  const job_id third = board.launch(0);
  CHECK(board.poll(first).state == job_state::failed);
  CHECK(board.poll(second).state == job_state::failed);
  CHECK(board.finish(third).state == job_state::done);
}

SCENARIO("a thermal throttle slows jobs that start while it lasts") {
  fault_board board;
  auto throttle = make_fault(sim::fault_kind::thermal_throttle,
                             sim::fault_trigger::at_time(sim::sim_time(10ms)));
  throttle.clock_mhz = 500;
  throttle.duration = 20ms;
  board.inject(throttle);
  CHECK(board.finish(board.launch()).device_time == job_time);
  board.clock->set(sim::sim_time(10ms));
  CHECK(board.health(0).state == health_state::degraded);
  CHECK(board.health(0).reason.find("500 MHz") != std::string::npos);
  // Compute doubles at half the clock; the launch cost stays.
  CHECK(board.finish(board.launch()).device_time == 2ms + 50us);
  board.clock->set(sim::sim_time(30ms));
  CHECK(board.finish(board.launch()).device_time == job_time);
  CHECK(board.health(0).state == health_state::ok);
}

SCENARIO("a throttle triggered by a job starts with that job") {
  fault_board board;
  auto throttle = make_fault(sim::fault_kind::thermal_throttle, sim::fault_trigger::after(1));
  throttle.clock_mhz = 250;
  throttle.duration = 1s;
  throttle.core = 0;
  board.inject(throttle);
  CHECK(board.finish(board.launch(0)).device_time == job_time);
  CHECK(board.finish(board.launch(0)).device_time == 4ms + 50us);
  CHECK(board.finish(board.launch(1)).device_time == job_time);
}

SCENARIO("a slow core computes slower by its factor") {
  fault_board board;
  auto slow = make_fault(sim::fault_kind::slow_core, sim::fault_trigger::at_time(sim::sim_time(0)));
  slow.core = 1;
  slow.factor = 3;
  board.inject(slow);
  CHECK(board.finish(board.launch(1)).device_time == 3ms + 50us);
  CHECK(board.finish(board.launch(0)).device_time == job_time);
  CHECK(board.health(1).state == health_state::degraded);
  CHECK(board.health(1).reason.find("slow core") != std::string::npos);
}

SCENARIO("a configuration that never settles stays pending until a reset") {
  fault_board board;
  board.inject(make_fault(sim::fault_kind::config_never_settles));
  auto outcome = board.drv.configure(clock_profile(500));
  REQUIRE(outcome.ok());
  CHECK(*outcome == configure_outcome::pending);
  board.clock->advance(1h);
  auto settled = board.drv.poll_configuration();
  REQUIRE(settled.ok());
  CHECK_FALSE(*settled);
  CHECK(board.drv.poll_interval() > 0ns);
  REQUIRE(board.drv.reset().ok());
  settled = board.drv.poll_configuration();
  REQUIRE(settled.ok());
  CHECK(*settled);
  auto config = board.drv.read_configuration();
  REQUIRE(config.ok());
  CHECK(config->at("clock_profile") == "1000");
}

SCENARIO("a failing configuration changes nothing and the next one applies") {
  fault_board board;
  auto broken = make_fault(sim::fault_kind::config_fails);
  broken.code = errc::invalid_configuration;
  broken.message = "PLL did not lock";
  board.inject(broken);
  auto refused = board.drv.configure(clock_profile(500));
  REQUIRE(refused.code() == errc::invalid_configuration);
  CHECK(refused.error().message == "PLL did not lock");
  CHECK(board.drv.poll_interval() == 0ns);
  auto accepted = board.drv.configure(clock_profile(500));
  REQUIRE(accepted.ok());
  CHECK(*accepted == configure_outcome::pending);
}

SCENARIO("configuration faults count configuration requests, not jobs") {
  fault_board board;
  auto broken = make_fault(sim::fault_kind::config_fails, sim::fault_trigger::after(1));
  board.inject(broken);
  CHECK(board.run());
  CHECK(board.drv.configure(clock_profile(500)).ok());
  CHECK(board.drv.configure(clock_profile(1000)).code() == errc::device_fault);
}

SCENARIO("the same seed gives the same faults") {
  const auto first = outcomes_with_seed(7, 64);
  const auto again = outcomes_with_seed(7, 64);
  const auto other = outcomes_with_seed(8, 64);
  CHECK(first == again);
  CHECK(first != other);
  const auto failures = std::count(first.begin(), first.end(), false);
  CHECK(failures > 10);
  CHECK(failures < 54);
}

SCENARIO("a probability of zero never fires and one always does") {
  fault_board board;
  auto never = make_fault(sim::fault_kind::job_hang, sim::fault_trigger::with_probability(0));
  board.inject(never);
  for (int i = 0; i < 20; ++i) CHECK(board.run());
  auto always = make_fault(sim::fault_kind::dma_failure, sim::fault_trigger::with_probability(1));
  board.inject(always);
  for (int i = 0; i < 5; ++i) CHECK_FALSE(board.run());
}

SCENARIO("installing a script replaces the earlier faults") {
  fault_board board;
  board.inject(make_fault(sim::fault_kind::job_error));
  sim::fault_script script;
  script.faults.push_back(make_fault(sim::fault_kind::dma_failure, sim::fault_trigger::after(1)));
  REQUIRE(board.drv.install_faults(script).ok());
  CHECK(board.run());
  const job_status status = board.finish(board.launch());
  CHECK(status.error == errc::io_error);
  REQUIRE(board.drv.install_faults(sim::fault_script{}).ok());
  CHECK(board.drv.faults().empty());
  CHECK(board.run());
}

SCENARIO("bad faults are refused and leave the plan unchanged") {
  fault_board board;
  auto beyond = make_fault(sim::fault_kind::job_error);
  beyond.core = 2;
  CHECK(board.drv.inject_fault(beyond).code() == errc::invalid_argument);
  auto endless = make_fault(sim::fault_kind::thermal_throttle);
  endless.clock_mhz = 100;
  CHECK(board.drv.inject_fault(endless).code() == errc::invalid_argument);
  auto wrong_code = make_fault(sim::fault_kind::config_fails);
  wrong_code.code = errc::io_error;
  CHECK(board.drv.inject_fault(wrong_code).code() == errc::invalid_argument);
  CHECK(board.drv.inject_fault(make_fault(sim::fault_kind::job_hang,
                                          sim::fault_trigger::with_probability(1.5)))
            .code() == errc::invalid_argument);
  auto faster = make_fault(sim::fault_kind::slow_core);
  faster.factor = 0.5;
  CHECK(board.drv.inject_fault(faster).code() == errc::invalid_argument);
  sim::fault_script script;
  script.faults = {make_fault(sim::fault_kind::job_error), beyond};
  CHECK(board.drv.install_faults(script).code() == errc::invalid_argument);
  CHECK(board.drv.faults().empty());
  CHECK(board.run());
}

SCENARIO("a fault script in TOML gives every field") {
  auto script = sim::parse_fault_script(R"(
seed = 99
[[fault]]
kind = "job_error"
core = 1
after = 3
count = 2
code = "timeout"
message = "watchdog"
[[fault]]
kind = "thermal_throttle"
at_ms = 12.5
clock_mhz = 300
duration_ms = 40
[[fault]]
kind = "slow_core"
probability = 0.25
factor = 1.5
)",
                                        "plan.toml");
  REQUIRE(script.ok());
  CHECK(script->seed == 99);
  REQUIRE(script->faults.size() == 3);
  const sim::fault& error = script->faults[0];
  CHECK(error.kind == sim::fault_kind::job_error);
  CHECK(error.core == 1u);
  CHECK(error.trigger.kind == sim::trigger_kind::after_events);
  CHECK(error.trigger.events == 3);
  CHECK(error.count == 2);
  CHECK(error.code == errc::timeout);
  CHECK(error.message == "watchdog");
  const sim::fault& throttle = script->faults[1];
  CHECK(throttle.trigger.kind == sim::trigger_kind::at_time);
  CHECK(throttle.trigger.at == sim::sim_time(12'500'000));
  CHECK(throttle.clock_mhz == 300);
  CHECK(throttle.duration == 40ms);
  const sim::fault& slow = script->faults[2];
  CHECK(slow.trigger.kind == sim::trigger_kind::probability);
  CHECK(slow.trigger.probability == doctest::Approx(0.25));
  CHECK(slow.factor == doctest::Approx(1.5));
  CHECK_FALSE(slow.core.has_value());
}

SCENARIO("a bad fault script is refused with its position") {
  auto unknown_key = sim::parse_fault_script("[[fault]]\nkind = \"job_hang\"\nwhen = 3\n", "p.toml");
  REQUIRE(unknown_key.code() == errc::invalid_configuration);
  CHECK(unknown_key.error().message.find("p.toml:3:1: unknown key 'when'") == 0);

  auto two_triggers =
      sim::parse_fault_script("[[fault]]\nkind = \"job_hang\"\nafter = 1\nat_ms = 2\n", "p.toml");
  REQUIRE(two_triggers.code() == errc::invalid_configuration);
  CHECK(two_triggers.error().message.find("more than one trigger") != std::string::npos);

  auto bad_kind = sim::parse_fault_script("[[fault]]\nkind = \"meltdown\"\n", "p.toml");
  REQUIRE(bad_kind.code() == errc::invalid_configuration);
  CHECK(bad_kind.error().message.find("p.toml:2:8: ") == 0);
  CHECK(bad_kind.error().message.find("meltdown") != std::string::npos);

  auto bad_code = sim::parse_fault_script("[[fault]]\nkind = \"job_error\"\ncode = \"oops\"\n", "p.toml");
  CHECK(bad_code.code() == errc::invalid_configuration);

  auto no_kind = sim::parse_fault_script("[[fault]]\ncore = 1\n", "p.toml");
  CHECK(no_kind.code() == errc::invalid_configuration);

  auto invalid_fault = sim::parse_fault_script(
      "[[fault]]\nkind = \"thermal_throttle\"\nclock_mhz = 100\n", "p.toml");
  REQUIRE(invalid_fault.code() == errc::invalid_configuration);
  CHECK(invalid_fault.error().message.find("duration") != std::string::npos);

  auto syntax = sim::parse_fault_script("[[fault]\n", "p.toml");
  CHECK(syntax.code() == errc::invalid_configuration);
}

SCENARIO("a fault script is read from a file") {
  test::temp_dir dir;
  const auto file = dir.path() / "faults.toml";
  std::ofstream(file) << "seed = 5\n[[fault]]\nkind = \"board_reset\"\nat_ms = 1\n";
  auto script = sim::load_fault_script(file);
  REQUIRE(script.ok());
  CHECK(script->seed == 5);
  REQUIRE(script->faults.size() == 1);
  CHECK(script->faults[0].kind == sim::fault_kind::board_reset);
  CHECK(sim::load_fault_script(dir.path() / "missing.toml").code() == errc::io_error);
}

SCENARIO("fault kinds have stable names") {
  for (auto kind : {sim::fault_kind::job_hang, sim::fault_kind::job_error,
                    sim::fault_kind::dma_failure, sim::fault_kind::board_reset,
                    sim::fault_kind::thermal_throttle, sim::fault_kind::slow_core,
                    sim::fault_kind::config_never_settles, sim::fault_kind::config_fails}) {
    auto parsed = sim::parse_fault_kind(sim::to_string(kind));
    REQUIRE(parsed.ok());
    CHECK(*parsed == kind);
  }
  CHECK(sim::parse_fault_kind("gremlins").code() == errc::invalid_argument);
}
