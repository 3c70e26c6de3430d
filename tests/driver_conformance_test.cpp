// The driver contract, checked against every driver: one suite, one factory per driver.
//
// A factory owns a fresh runtime directory (leases), whatever clock its driver needs, and
// makes drivers for one board. advance() lets device time pass for drivers that model it.
// The simulated board runs under each pacing mode (drivers/job_pacing.hpp).
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

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

// A simulated M.2 board on a virtual clock, kept in memory, with jobs paced by `Pacing`.
template <pacing_mode Pacing>
struct sim_board_factory {
  test::temp_dir runtime;
  std::shared_ptr<sim::virtual_clock> clock = std::make_shared<sim::virtual_clock>();
  std::shared_ptr<lease_registry> leases = open_leases(runtime);

  std::unique_ptr<driver> make(const std::string& name = "dev:0") {
    auto config = sim::load_board_config(test::board_config_dir() / "m2.toml");
    REQUIRE(config.ok());
    return std::make_unique<sim_driver>(name, sim::board(*config, clock), leases, std::nullopt,
                                        0, Pacing);
  }
  void advance(std::chrono::nanoseconds d) { clock->advance(d); }
};
using sim_factory = sim_board_factory<pacing_mode::virtual_time>;
using sim_paced_factory = sim_board_factory<pacing_mode::paced>;
using sim_fast_factory = sim_board_factory<pacing_mode::fast>;

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

// Polls until the job is done or failed. Board time moves by what the driver asks for;
// when it asks for nothing (a compute on a worker thread), a little real time passes.
template <class Factory>
job_status finish(Factory& factory, driver& drv, job_id id) {
  for (int attempt = 0; attempt < 20000; ++attempt) {
    auto status = drv.poll_job(id);
    REQUIRE(status.ok());
    if (status->state == job_state::done || status->state == job_state::failed) return *status;
    if (status->poll_after > std::chrono::nanoseconds::zero()) {
      factory.advance(status->poll_after);
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
  FAIL("job " << id << " never finished");
  return {};
}

job_request counted_job(std::atomic<int>& runs, unsigned sub_device = 0) {
  job_request job;
  job.sub_devices = {sub_device};
  job.cost.macs = 1'000'000;
  job.cost.input_bytes = 4096;
  job.cost.output_bytes = 1024;
  job.compute = [&runs]() -> result<void> {
    ++runs;
    return {};
  };
  return job;
}

// Lets board time pass while a job is stuck, to show it stays stuck.
template <class Factory>
void let_time_pass(Factory& factory) {
  factory.advance(std::chrono::seconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

}  // namespace

TYPE_TO_STRING(sim_factory);
TYPE_TO_STRING(sim_paced_factory);
TYPE_TO_STRING(sim_fast_factory);
TYPE_TO_STRING(host_factory);

#define ALL_DRIVERS sim_factory, sim_paced_factory, sim_fast_factory, host_factory

SCENARIO_TEMPLATE("a driver describes its board sanely", Factory, ALL_DRIVERS) {
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

SCENARIO_TEMPLATE("a reserved sub-device reports its holder", Factory, ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  auto held = drv->reserve({0}, holder_named("conformance"));
  REQUIRE(held.ok());
  auto holder = drv->holder_of(0);
  REQUIRE(holder.has_value());
  CHECK(holder->program == "conformance");
  CHECK(held->board() == drv->describe().id);
}

SCENARIO_TEMPLATE("an unreserved sub-device has no holder", Factory, ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  CHECK_FALSE(drv->holder_of(0).has_value());
}

SCENARIO_TEMPLATE("releasing a reservation frees the sub-device", Factory, ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  auto held = drv->reserve({0}, holder_named("first"));
  REQUIRE(held.ok());
  held->release();
  CHECK_FALSE(drv->holder_of(0).has_value());
  CHECK(drv->reserve({0}, holder_named("second")).ok());
}

SCENARIO_TEMPLATE("a second driver for the same board sees a reservation as in use", Factory, ALL_DRIVERS) {
  Factory factory;
  auto first = factory.make("dev:0");
  auto second = factory.make("dev:7");
  auto held = first->reserve({0}, holder_named("first"));
  REQUIRE(held.ok());
  auto attempt = second->reserve({0}, holder_named("second"));
  REQUIRE(attempt.code() == errc::device_in_use);
  CHECK(attempt.error().message.find("dev:7 sub-device 0 is in use by pid") == 0);
}

SCENARIO_TEMPLATE("reserving a sub-device beyond the board is an invalid argument", Factory, ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  const unsigned beyond = drv->describe().sub_devices;
  CHECK(drv->reserve({0, beyond}, holder_named("too far")).code() == errc::invalid_argument);
  CHECK_FALSE(drv->holder_of(0).has_value());
}

SCENARIO_TEMPLATE("reserving no sub-device is an invalid argument", Factory, ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  CHECK(drv->reserve({}, holder_named("nothing")).code() == errc::invalid_argument);
}

SCENARIO_TEMPLATE("a sub-device beyond the board has no holder", Factory, ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  CHECK_FALSE(drv->holder_of(drv->describe().sub_devices).has_value());
}

SCENARIO_TEMPLATE("an empty configuration request completes", Factory, ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  auto outcome = drv->configure(sim::configuration_request{});
  REQUIRE(outcome.ok());
  CHECK(*outcome == configure_outcome::complete);
}

SCENARIO_TEMPLATE("configuration polling settles", Factory, ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  REQUIRE(drv->configure(sim::configuration_request{}).ok());
  CHECK(settles(factory, *drv));
  CHECK(drv->poll_interval() == std::chrono::nanoseconds::zero());
}

SCENARIO_TEMPLATE("a settled driver reports its configuration as not pending", Factory, ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  auto config = drv->read_configuration();
  REQUIRE(config.ok());
  REQUIRE(config->count("pending") == 1);
  CHECK(config->at("pending") == "false");
}

SCENARIO_TEMPLATE("a reset succeeds and is counted", Factory, ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  const auto before = drv->read_counters().resets;
  REQUIRE(drv->reset().ok());
  CHECK(drv->read_counters().resets == before + 1);
  auto settled = drv->poll_configuration();
  REQUIRE(settled.ok());
  CHECK(*settled);
}

SCENARIO_TEMPLATE("configuration requests are counted", Factory, ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  REQUIRE(drv->configure(sim::configuration_request{}).ok());
  CHECK(drv->read_counters().configurations_requested == 1);
}


SCENARIO_TEMPLATE("a launched job completes and its compute runs exactly once", Factory,
                  ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  std::atomic<int> runs{0};
  auto id = drv->launch_job(counted_job(runs));
  REQUIRE(id.ok());
  const job_status status = finish(factory, *drv, *id);
  CHECK(status.state == job_state::done);
  CHECK(status.id == *id);
  CHECK(status.error == errc::ok);
  CHECK(status.finished >= status.started);
  CHECK(runs.load() == 1);
}

SCENARIO_TEMPLATE("a job without a compute completes", Factory, ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  job_request job;
  job.sub_devices = {0};
  job.cost.macs = 1000;
  auto id = drv->launch_job(job);
  REQUIRE(id.ok());
  CHECK(finish(factory, *drv, *id).state == job_state::done);
}

SCENARIO_TEMPLATE("a failing compute fails its job with the compute's error", Factory,
                  ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  job_request job;
  job.sub_devices = {0};
  job.compute = []() -> result<void> { return fail(errc::out_of_memory, "scratch too small"); };
  auto id = drv->launch_job(job);
  REQUIRE(id.ok());
  const job_status status = finish(factory, *drv, *id);
  CHECK(status.state == job_state::failed);
  CHECK(status.error == errc::out_of_memory);
  CHECK(status.message == "scratch too small");
}

SCENARIO_TEMPLATE("a compute that throws fails its job with internal_error", Factory,
                  ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  job_request job;
  job.sub_devices = {0};
  job.compute = []() -> result<void> { throw std::runtime_error("kernel bug"); };
  auto id = drv->launch_job(job);
  REQUIRE(id.ok());
  const job_status status = finish(factory, *drv, *id);
  CHECK(status.state == job_state::failed);
  CHECK(status.error == errc::internal_error);
  CHECK(status.message.find("kernel bug") != std::string::npos);
}

SCENARIO_TEMPLATE("a job needs sub-devices that exist on the board", Factory, ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  job_request job;
  CHECK(drv->launch_job(job).code() == errc::invalid_argument);
  job.sub_devices = {drv->describe().sub_devices};
  CHECK(drv->launch_job(job).code() == errc::invalid_argument);
  job.sub_devices = {0, 0};
  CHECK(drv->launch_job(job).code() == errc::invalid_argument);
  CHECK(drv->read_counters().jobs_launched == 0);
}

SCENARIO_TEMPLATE("a job reported done is forgotten", Factory, ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  std::atomic<int> runs{0};
  auto id = drv->launch_job(counted_job(runs));
  REQUIRE(id.ok());
  REQUIRE(finish(factory, *drv, *id).state == job_state::done);
  CHECK(drv->poll_job(*id).code() == errc::invalid_argument);
}

SCENARIO_TEMPLATE("polling a job that was never launched is an invalid argument", Factory,
                  ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  CHECK(drv->poll_job(42).code() == errc::invalid_argument);
  CHECK(drv->release_job(42).code() == errc::invalid_argument);
}

SCENARIO_TEMPLATE("job ids are distinct and increasing", Factory, ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  std::atomic<int> runs{0};
  auto first = drv->launch_job(counted_job(runs));
  auto second = drv->launch_job(counted_job(runs));
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(*second > *first);
  finish(factory, *drv, *first);
  finish(factory, *drv, *second);
  CHECK(runs.load() == 2);
}

SCENARIO_TEMPLATE("a released job is forgotten", Factory, ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  std::atomic<int> runs{0};
  auto id = drv->launch_job(counted_job(runs));
  REQUIRE(id.ok());
  REQUIRE(drv->release_job(*id).ok());
  CHECK(drv->poll_job(*id).code() == errc::invalid_argument);
  CHECK(runs.load() <= 1);
}

SCENARIO_TEMPLATE("job outcomes are counted", Factory, ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  std::atomic<int> runs{0};
  auto good = drv->launch_job(counted_job(runs));
  job_request bad;
  bad.sub_devices = {0};
  bad.compute = []() -> result<void> { return fail(errc::io_error, "no input"); };
  auto failing = drv->launch_job(bad);
  REQUIRE(good.ok());
  REQUIRE(failing.ok());
  finish(factory, *drv, *good);
  finish(factory, *drv, *failing);
  const driver_counters counters = drv->read_counters();
  CHECK(counters.jobs_launched == 2);
  CHECK(counters.jobs_completed == 1);
  CHECK(counters.jobs_failed == 1);
}

SCENARIO_TEMPLATE("a fresh board reports every sub-device healthy", Factory, ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  auto health = drv->read_health();
  REQUIRE(health.ok());
  REQUIRE(health->size() == drv->describe().sub_devices);
  for (unsigned i = 0; i < health->size(); ++i) {
    CHECK((*health)[i].sub_device == i);
    CHECK((*health)[i].state == health_state::ok);
  }
}

SCENARIO_TEMPLATE("an injected job error fails the next job without running its compute",
                  Factory, ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  sim::fault error;
  error.kind = sim::fault_kind::job_error;
  error.message = "parity error";
  REQUIRE(drv->inject_fault(error).ok());
  std::atomic<int> runs{0};
  auto id = drv->launch_job(counted_job(runs));
  REQUIRE(id.ok());
  const job_status status = finish(factory, *drv, *id);
  CHECK(status.state == job_state::failed);
  CHECK(status.error == errc::device_fault);
  CHECK(status.message == "parity error");
  CHECK(runs.load() == 0);
  auto health = drv->read_health();
  REQUIRE(health.ok());
  CHECK(health->at(0).state == health_state::faulted);
}

SCENARIO_TEMPLATE("an injected DMA failure fails the job with io_error", Factory, ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  sim::fault dma;
  dma.kind = sim::fault_kind::dma_failure;
  REQUIRE(drv->inject_fault(dma).ok());
  std::atomic<int> runs{0};
  auto id = drv->launch_job(counted_job(runs));
  REQUIRE(id.ok());
  const job_status status = finish(factory, *drv, *id);
  CHECK(status.state == job_state::failed);
  CHECK(status.error == errc::io_error);
}

SCENARIO_TEMPLATE("a hung job stays unfinished until a reset fails it", Factory, ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  sim::fault hang;
  hang.kind = sim::fault_kind::job_hang;
  REQUIRE(drv->inject_fault(hang).ok());
  std::atomic<int> runs{0};
  auto id = drv->launch_job(counted_job(runs));
  REQUIRE(id.ok());
  let_time_pass(factory);
  auto stuck = drv->poll_job(*id);
  REQUIRE(stuck.ok());
  CHECK(stuck->state == job_state::running);
  auto health = drv->read_health();
  REQUIRE(health.ok());
  CHECK(health->at(0).state == health_state::hung);

  REQUIRE(drv->reset().ok());
  auto after = drv->poll_job(*id);
  REQUIRE(after.ok());
  CHECK(after->state == job_state::failed);
  CHECK(after->error == errc::device_fault);
  CHECK(after->message == "board reset");
  CHECK(runs.load() == 0);
  health = drv->read_health();
  REQUIRE(health.ok());
  CHECK(health->at(0).state == health_state::ok);
}

SCENARIO_TEMPLATE("a job launched on a hung sub-device stays queued", Factory, ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  sim::fault hang;
  hang.kind = sim::fault_kind::job_hang;
  REQUIRE(drv->inject_fault(hang).ok());
  std::atomic<int> runs{0};
  REQUIRE(drv->launch_job(counted_job(runs)).ok());
  auto behind = drv->launch_job(counted_job(runs));
  REQUIRE(behind.ok());
  let_time_pass(factory);
  auto status = drv->poll_job(*behind);
  REQUIRE(status.ok());
  CHECK(status->state == job_state::queued);
  CHECK(runs.load() == 0);
}

SCENARIO_TEMPLATE("destroying a driver with a hung job returns", Factory, ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  sim::fault hang;
  hang.kind = sim::fault_kind::job_hang;
  REQUIRE(drv->inject_fault(hang).ok());
  std::atomic<int> runs{0};
  REQUIRE(drv->launch_job(counted_job(runs)).ok());
  REQUIRE(drv->launch_job(counted_job(runs)).ok());
  drv.reset();
  CHECK(runs.load() == 0);
}

SCENARIO_TEMPLATE("job bookkeeping stays bounded over many jobs", Factory, ALL_DRIVERS) {
  Factory factory;
  auto drv = factory.make();
  std::atomic<int> runs{0};
  constexpr int jobs = 2000;
  for (int i = 0; i < jobs; ++i) {
    auto id = drv->launch_job(counted_job(runs, static_cast<unsigned>(i) % drv->describe().sub_devices));
    REQUIRE(id.ok());
    REQUIRE(finish(factory, *drv, *id).state == job_state::done);
  }
  CHECK(runs.load() == jobs);
  CHECK(drv->read_counters().jobs_completed == static_cast<std::uint64_t>(jobs));
}
