// The driver contract, checked against every driver: one suite, one factory per driver.
//
// A factory owns a fresh runtime directory (leases), whatever clock its driver needs, and
// makes drivers for one board. advance() lets device time pass for drivers that model it.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>

#include "drivers/driver.hpp"
#include "drivers/host_driver.hpp"
#include "drivers/sim_driver.hpp"
#include "sim/board_config.hpp"
#include "sim/clock.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace edgert;

std::shared_ptr<lease_registry> open_leases(const test::temp_dir& runtime) {
  auto leases = lease_registry::open(runtime.path());
  REQUIRE(leases.ok());
  return *leases;
}

// A simulated M.2 board on a virtual clock, kept in memory.
struct sim_factory {
  test::temp_dir runtime;
  std::shared_ptr<sim::virtual_clock> clock = std::make_shared<sim::virtual_clock>();
  std::shared_ptr<lease_registry> leases = open_leases(runtime);

  std::unique_ptr<driver> make(const std::string& name = "dev:0") {
    auto config = sim::load_board_config(test::board_config_dir() / "m2.toml");
    REQUIRE(config.ok());
    return std::make_unique<sim_driver>(name, sim::board(*config, clock), leases, std::nullopt);
  }
  void advance(std::chrono::nanoseconds d) { clock->advance(d); }
};

// The host CPU; it has no notion of device time.
struct host_factory {
  test::temp_dir runtime;
  std::shared_ptr<lease_registry> leases = open_leases(runtime);

  std::unique_ptr<driver> make(const std::string& name = "dev:0") {
    return std::make_unique<host_driver>(name, leases);
  }
  void advance(std::chrono::nanoseconds) {}
};

lease_holder holder_named(const std::string& program) {
  lease_holder holder = lease_holder::current_process();
  holder.program = program;
  return holder;
}

// Polls until settled, letting exactly the advertised interval pass between polls.
template <class Factory>
bool settles(Factory& factory, driver& drv) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto settled = drv.poll_configuration();
    REQUIRE(settled.ok());
    if (*settled) return true;
    factory.advance(drv.poll_interval());
  }
  return false;
}

}  // namespace

TYPE_TO_STRING(sim_factory);
TYPE_TO_STRING(host_factory);

SCENARIO_TEMPLATE("a driver describes its board sanely", Factory, sim_factory, host_factory) {
  Factory factory;
  auto drv = factory.make("dev:3");
  const board_description& board = drv->describe();
  CHECK(drv->name() == "dev:3");
  CHECK(board.id == board.kind + "-0");
  CHECK_FALSE(board.kind.empty());
  CHECK_FALSE(board.product.empty());
  CHECK(board.sub_devices > 0);
  CHECK(board.max_memory_bytes > 0);
}

SCENARIO_TEMPLATE("a reserved sub-device reports its holder", Factory, sim_factory,
                  host_factory) {
  Factory factory;
  auto drv = factory.make();
  auto held = drv->reserve({0}, holder_named("conformance"));
  REQUIRE(held.ok());
  auto holder = drv->holder_of(0);
  REQUIRE(holder.has_value());
  CHECK(holder->program == "conformance");
  CHECK(held->board() == drv->describe().id);
}

SCENARIO_TEMPLATE("an unreserved sub-device has no holder", Factory, sim_factory, host_factory) {
  Factory factory;
  auto drv = factory.make();
  CHECK_FALSE(drv->holder_of(0).has_value());
}

SCENARIO_TEMPLATE("releasing a reservation frees the sub-device", Factory, sim_factory,
                  host_factory) {
  Factory factory;
  auto drv = factory.make();
  auto held = drv->reserve({0}, holder_named("first"));
  REQUIRE(held.ok());
  held->release();
  CHECK_FALSE(drv->holder_of(0).has_value());
  CHECK(drv->reserve({0}, holder_named("second")).ok());
}

SCENARIO_TEMPLATE("a second driver for the same board sees a reservation as in use", Factory,
                  sim_factory, host_factory) {
  Factory factory;
  auto first = factory.make("dev:0");
  auto second = factory.make("dev:7");
  auto held = first->reserve({0}, holder_named("first"));
  REQUIRE(held.ok());
  auto attempt = second->reserve({0}, holder_named("second"));
  REQUIRE(attempt.code() == errc::device_in_use);
  CHECK(attempt.error().message.find("dev:7 sub-device 0 is in use by pid") == 0);
}

SCENARIO_TEMPLATE("reserving a sub-device beyond the board is an invalid argument", Factory,
                  sim_factory, host_factory) {
  Factory factory;
  auto drv = factory.make();
  const unsigned beyond = drv->describe().sub_devices;
  CHECK(drv->reserve({0, beyond}, holder_named("too far")).code() == errc::invalid_argument);
  CHECK_FALSE(drv->holder_of(0).has_value());
}

SCENARIO_TEMPLATE("reserving no sub-device is an invalid argument", Factory, sim_factory,
                  host_factory) {
  Factory factory;
  auto drv = factory.make();
  CHECK(drv->reserve({}, holder_named("nothing")).code() == errc::invalid_argument);
}

SCENARIO_TEMPLATE("a sub-device beyond the board has no holder", Factory, sim_factory,
                  host_factory) {
  Factory factory;
  auto drv = factory.make();
  CHECK_FALSE(drv->holder_of(drv->describe().sub_devices).has_value());
}

SCENARIO_TEMPLATE("an empty configuration request completes", Factory, sim_factory,
                  host_factory) {
  Factory factory;
  auto drv = factory.make();
  auto outcome = drv->configure(sim::configuration_request{});
  REQUIRE(outcome.ok());
  CHECK(*outcome == configure_outcome::complete);
}

SCENARIO_TEMPLATE("configuration polling settles", Factory, sim_factory, host_factory) {
  Factory factory;
  auto drv = factory.make();
  REQUIRE(drv->configure(sim::configuration_request{}).ok());
  CHECK(settles(factory, *drv));
  CHECK(drv->poll_interval() == std::chrono::nanoseconds::zero());
}

SCENARIO_TEMPLATE("a settled driver reports its configuration as not pending", Factory,
                  sim_factory, host_factory) {
  Factory factory;
  auto drv = factory.make();
  auto config = drv->read_configuration();
  REQUIRE(config.ok());
  REQUIRE(config->count("pending") == 1);
  CHECK(config->at("pending") == "false");
}

SCENARIO_TEMPLATE("a reset succeeds and is counted", Factory, sim_factory, host_factory) {
  Factory factory;
  auto drv = factory.make();
  const auto before = drv->read_counters().resets;
  REQUIRE(drv->reset().ok());
  CHECK(drv->read_counters().resets == before + 1);
  auto settled = drv->poll_configuration();
  REQUIRE(settled.ok());
  CHECK(*settled);
}

SCENARIO_TEMPLATE("configuration requests are counted", Factory, sim_factory, host_factory) {
  Factory factory;
  auto drv = factory.make();
  REQUIRE(drv->configure(sim::configuration_request{}).ok());
  CHECK(drv->read_counters().configurations_requested == 1);
}

SCENARIO_TEMPLATE("job launch and polling answer not_implemented before model execution exists", Factory, sim_factory, host_factory) {
  Factory factory;
  auto drv = factory.make();
  job_request job;
  job.sub_devices = {0};
  CHECK(drv->launch_job(job).code() == errc::not_implemented);
  CHECK(drv->poll_job(1).code() == errc::not_implemented);
}
