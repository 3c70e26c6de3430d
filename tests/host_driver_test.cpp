// host_driver behaviour beyond the common contract: what it reports about the host and
// that it has no clocks to configure.
#include <doctest/doctest.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "drivers/host_driver.hpp"
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
