// The status register and the device's published readiness: device_ready() is answered
// without a message only while the answer is certain, and the driver is asked whenever the
// board may have moved on (settle time passed, another process changed it).
#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <thread>

#include "actors/device_readiness.hpp"
#include "drivers/board_state_file.hpp"
#include "drivers/sim_driver.hpp"
#include "drivers/status_register.hpp"
#include "sim/board_config.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace edgert;
using namespace std::chrono_literals;
using reading = status_register::reading;

sim::board_config m2_config() {
  auto config = sim::load_board_config(test::board_config_dir() / "m2.toml");
  REQUIRE(config.ok());
  return *config;
}

sim::configuration_request clock_profile(unsigned mhz) {
  sim::configuration_request request;
  request.clock_profile_mhz = mhz;
  return request;
}

}  // namespace

SCENARIO("a register nobody has published yet sends readers to the driver") {
  status_register reg(std::make_shared<sim::virtual_clock>(), std::nullopt);
  CHECK(reg.read() == reading::ask_driver);
}

SCENARIO("a settled board reads settled") {
  status_register reg(std::make_shared<sim::virtual_clock>(), std::nullopt);
  reg.publish(std::nullopt, -1);
  CHECK(reg.read() == reading::settled);
}

SCENARIO("a pending board reads pending until exactly its settle time, then asks") {
  auto clock = std::make_shared<sim::virtual_clock>();
  status_register reg(clock, std::nullopt);
  reg.publish(sim::sim_time{250ms}, -1);
  CHECK(reg.read() == reading::pending);
  clock->set(sim::sim_time{250ms - 1ns});
  CHECK(reg.read() == reading::pending);
  clock->set(sim::sim_time{250ms});
  CHECK(reg.read() == reading::ask_driver);
}

SCENARIO("a state file changed since the publication sends readers to the driver") {
  test::temp_dir dir;
  const auto file = dir.path() / "board.state";
  std::ofstream(file) << "first";
  status_register reg(std::make_shared<sim::virtual_clock>(), file);
  reg.publish(std::nullopt, board_state_stamp(file));
  CHECK(reg.read() == reading::settled);
  std::this_thread::sleep_for(2ms);  // a later mtime; the stamp is the file's, not a clock we own
  std::ofstream(file) << "second";
  CHECK(reg.read() == reading::ask_driver);
}

SCENARIO("a sim driver publishes pending on configure and settled once polled") {
  auto clock = std::make_shared<sim::virtual_clock>();
  auto config = m2_config();
  sim_driver drv("dev:0", sim::board(config, clock), nullptr, std::nullopt);
  auto reg = drv.status();
  REQUIRE(reg != nullptr);
  CHECK(reg->read() == reading::settled);
  REQUIRE(drv.configure(clock_profile(400)).ok());
  CHECK(reg->read() == reading::pending);
  clock->advance(config.reconfigure_settle_time);
  CHECK(reg->read() == reading::ask_driver);
  auto settled = drv.poll_configuration();
  REQUIRE(settled.ok());
  CHECK(*settled);
  CHECK(reg->read() == reading::settled);
}

SCENARIO("a configuration through one driver makes the other driver's register ask") {
  test::temp_dir runtime;
  auto leases = lease_registry::open(runtime.path());
  REQUIRE(leases.ok());
  auto clock = sim::make_real_clock();
  auto config = m2_config();
  sim_driver first("dev:0", sim::board(config, clock), *leases, runtime.path());
  sim_driver second("dev:4", sim::board(config, clock), *leases, runtime.path());
  REQUIRE(second.status()->read() == reading::settled);
  REQUIRE(first.configure(clock_profile(400)).ok());
  CHECK(second.status()->read() == reading::ask_driver);
  auto settled = second.poll_configuration();
  REQUIRE(settled.ok());
  CHECK_FALSE(*settled);
  CHECK(second.status()->read() == reading::pending);
}

SCENARIO("published readiness is certain only where state and register agree") {
  auto clock = std::make_shared<sim::virtual_clock>();
  auto reg = std::make_shared<status_register>(clock, std::nullopt);
  device_readiness readiness(reg);

  reg->publish(std::nullopt, -1);
  CHECK_FALSE(readiness.certain_answer().has_value());  // offline: the actor explains
  readiness.publish(device_state::ready);
  CHECK(readiness.certain_answer() == std::optional<bool>(true));
  readiness.publish(device_state::faulted);
  CHECK_FALSE(readiness.certain_answer().has_value());

  reg->publish(sim::sim_time{1ms}, -1);
  readiness.publish(device_state::ready);
  CHECK_FALSE(readiness.certain_answer().has_value());  // the actor has not seen it yet
  readiness.publish(device_state::configuring);
  CHECK(readiness.certain_answer() == std::optional<bool>(false));
  clock->set(sim::sim_time{1ms});
  CHECK_FALSE(readiness.certain_answer().has_value());

  device_readiness without_register(nullptr);
  without_register.publish(device_state::ready);
  CHECK_FALSE(without_register.certain_answer().has_value());
}
