// host_driver behaviour beyond the common contract: what it reports about the host, that
// it has no clocks to configure, and how it runs jobs.
#include <doctest/doctest.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "drivers/host_driver.hpp"
#include "sim/clock.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace edgert;

std::shared_ptr<lease_registry> open_leases(const test::temp_dir& runtime) {
  auto leases = lease_registry::open(runtime.path());
  REQUIRE(leases.ok());
  return *leases;
}

unsigned online_cores() { return static_cast<unsigned>(::sysconf(_SC_NPROCESSORS_ONLN)); }

}  // namespace

SCENARIO("the host device describes the host") {
  test::temp_dir runtime;
  host_driver drv("dev:5", open_leases(runtime));
  const board_description& board = drv.describe();
  utsname names{};
  REQUIRE(::uname(&names) == 0);
  CHECK(board.id == "host-0");
  CHECK(board.kind == "host");
  CHECK(board.product == "host CPU");
  CHECK(board.type == sim::board_type::host);
  CHECK(board.sub_devices == online_cores());
  CHECK(board.max_memory_bytes == static_cast<std::uint64_t>(::sysconf(_SC_PHYS_PAGES)) *
                                      static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)));
  CHECK(board.firmware_version == names.release);
  CHECK_FALSE(board.board_revision.empty());
  CHECK(board.clock_profiles_mhz.empty());
}

SCENARIO("a host device can be limited to fewer cores") {
  test::temp_dir runtime;
  host_driver drv("dev:0", open_leases(runtime), 1);
  CHECK(drv.describe().sub_devices == 1);
  CHECK(drv.reserve({1}, lease_holder::current_process()).code() == errc::invalid_argument);
}

SCENARIO("a host device never offers more cores than are online") {
  test::temp_dir runtime;
  host_driver drv("dev:0", open_leases(runtime), online_cores() + 3);
  CHECK(drv.describe().sub_devices == online_cores());
}

SCENARIO("host devices are numbered by their ordinal") {
  test::temp_dir runtime;
  host_driver drv("dev:4", open_leases(runtime), 0, 2);
  CHECK(drv.describe().id == "host-2");
}

SCENARIO("the host device has no clocks to configure") {
  test::temp_dir runtime;
  host_driver drv("dev:0", open_leases(runtime));
  sim::configuration_request request;
  request.clock_profile_mhz = 800;
  auto outcome = drv.configure(request);
  REQUIRE(outcome.code() == errc::not_implemented);
  CHECK(outcome.error().message == "the host device has no configurable clocks");
  CHECK(drv.read_counters().configurations_applied == 0);
}

SCENARIO("the host device reports its cores and CPU model as its configuration") {
  test::temp_dir runtime;
  host_driver drv("dev:0", open_leases(runtime), 1);
  auto config = drv.read_configuration();
  REQUIRE(config.ok());
  CHECK(config->at("cores") == "1");
  CHECK(config->at("cpu_model") == drv.describe().board_revision);
  CHECK(config->at("pending") == "false");
  CHECK(config->size() == 3);
}

SCENARIO("the host device is always settled") {
  test::temp_dir runtime;
  host_driver drv("dev:0", open_leases(runtime));
  auto settled = drv.poll_configuration();
  REQUIRE(settled.ok());
  CHECK(*settled);
  CHECK(drv.poll_interval() == std::chrono::nanoseconds::zero());
}

// Jobs on the host: measured device time, one worker thread per sub-device, and the fault
// kinds the host cannot simulate.
namespace {

job_status wait_done(host_driver& drv, job_id id) {
  for (int i = 0; i < 4000; ++i) {
    auto status = drv.poll_job(id);
    REQUIRE(status.ok());
    if (status->state == job_state::done || status->state == job_state::failed) return *status;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  FAIL("job " << id << " never finished");
  return {};
}

job_request host_job(unsigned sub_device, std::function<result<void>()> compute) {
  job_request job;
  job.sub_devices = {sub_device};
  job.compute = std::move(compute);
  return job;
}

}  // namespace

SCENARIO("a host job's device time is its measured compute time") {
  test::temp_dir runtime;
  host_driver drv("dev:0", open_leases(runtime), 1);
  auto id = drv.launch_job(host_job(0, []() -> result<void> {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    return {};
  }));
  REQUIRE(id.ok());
  const job_status status = wait_done(drv, *id);
  CHECK(status.state == job_state::done);
  CHECK(status.device_time >= std::chrono::milliseconds(20));
  CHECK(status.finished - status.started == status.device_time);
}

SCENARIO("host jobs on one sub-device compute one after another") {
  test::temp_dir runtime;
  host_driver drv("dev:0", open_leases(runtime), 1);
  std::atomic<int> active{0};
  std::atomic<int> most_active{0};
  auto compute = [&]() -> result<void> {
    const int now_active = ++active;
    int seen = most_active.load();
    while (now_active > seen && !most_active.compare_exchange_weak(seen, now_active)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    --active;
    return {};
  };
  std::vector<job_id> ids;
  for (int i = 0; i < 4; ++i) {
    auto id = drv.launch_job(host_job(0, compute));
    REQUIRE(id.ok());
    ids.push_back(*id);
  }
  for (job_id id : ids) CHECK(wait_done(drv, id).state == job_state::done);
  CHECK(most_active.load() == 1);
  CHECK(drv.worker_threads() == 1);
}

SCENARIO("host jobs on two sub-devices run on two worker threads at once") {
  if (online_cores() < 2) return;
  test::temp_dir runtime;
  host_driver drv("dev:0", open_leases(runtime), 2);
  std::atomic<bool> first_started{false};
  std::atomic<bool> overlapped{false};
  // The first compute waits (up to two seconds) for the second to start beside it.
  auto first = drv.launch_job(host_job(0, [&]() -> result<void> {
    first_started = true;
    for (int i = 0; i < 2000 && !overlapped; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return {};
  }));
  auto second = drv.launch_job(host_job(1, [&]() -> result<void> {
    for (int i = 0; i < 2000 && !first_started; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    overlapped = first_started.load();
    return {};
  }));
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  wait_done(drv, *first);
  wait_done(drv, *second);
  CHECK(overlapped.load());
  CHECK(drv.worker_threads() == 2);
}

SCENARIO("the host cannot simulate clock or configuration faults") {
  test::temp_dir runtime;
  host_driver drv("dev:0", open_leases(runtime), 1);
  sim::fault throttle;
  throttle.kind = sim::fault_kind::thermal_throttle;
  throttle.clock_mhz = 100;
  throttle.duration = std::chrono::seconds(1);
  CHECK(drv.inject_fault(throttle).code() == errc::not_implemented);
  sim::fault never;
  never.kind = sim::fault_kind::config_never_settles;
  CHECK(drv.inject_fault(never).code() == errc::not_implemented);
  sim::fault_script script;
  script.faults.push_back(throttle);
  CHECK(drv.install_faults(script).code() == errc::not_implemented);
}

SCENARIO("a board reset due at a host time fails the host's jobs in flight") {
  test::temp_dir runtime;
  host_driver drv("dev:0", open_leases(runtime), 1);
  sim::fault hang;
  hang.kind = sim::fault_kind::job_hang;
  REQUIRE(drv.inject_fault(hang).ok());
  auto id = drv.launch_job(host_job(0, {}));
  REQUIRE(id.ok());
  sim::fault reset;
  reset.kind = sim::fault_kind::board_reset;
  reset.trigger = sim::fault_trigger::at_time(sim::real_clock().now());
  REQUIRE(drv.inject_fault(reset).ok());
  const job_status status = wait_done(drv, *id);
  CHECK(status.state == job_state::failed);
  CHECK(status.message == "board reset");
  CHECK(drv.read_counters().resets == 1);
}
