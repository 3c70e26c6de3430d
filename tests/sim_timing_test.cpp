// The timing model: the device-time formula on hand-built boards, and device times as a
// simulated board reports them for jobs under its applied (not pending) settings.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>

#include "drivers/sim_driver.hpp"
#include "sim/board.hpp"
#include "sim/timing_model.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace edgert;
using namespace std::chrono_literals;

// 1000 MACs per cycle per core, 4 GB/s DMA with 2 us latency, 50 us launch cost.
sim::board_config round_config() {
  sim::board_config c;
  c.kind = "round";
  c.sub_devices = 2;
  c.fusable = true;
  c.macs_per_cycle_per_core = 1000;
  c.clock_profiles_mhz = {500, 1000};
  c.default_clock_mhz = 1000;
  c.max_core_clock_mhz = 1000;
  c.device_memory_bytes = 1 << 30;
  c.dma_bandwidth_bytes_per_second = 4e9;
  c.dma_latency = 2us;
  c.job_launch_cost = 50us;
  c.reconfigure_settle_time = 10ms;
  return c;
}

sim::core_rate rate(unsigned mhz, unsigned pct = 100, double slowdown = 1.0) {
  sim::core_rate r;
  r.clock_mhz = mhz;
  r.mvm_utilisation_pct = pct;
  r.slowdown = slowdown;
  return r;
}

sim::job_cost cost(std::uint64_t macs, std::uint64_t in = 0, std::uint64_t out = 0) {
  sim::job_cost c;
  c.macs = macs;
  c.input_bytes = in;
  c.output_bytes = out;
  return c;
}

sim::device_time_breakdown estimate(const std::vector<sim::core_rate>& cores,
                                    const sim::job_cost& job) {
  auto t = sim::estimate_device_time(round_config(), cores, job);
  REQUIRE(t.ok());
  return *t;
}

std::shared_ptr<lease_registry> open_leases(const test::temp_dir& runtime) {
  auto leases = lease_registry::open(runtime.path());
  REQUIRE(leases.ok());
  return *leases;
}

// The device time a virtual-time board reports for a timing-only job.
std::chrono::nanoseconds reported_device_time(sim_driver& drv, const job_request& job) {
  auto id = drv.launch_job(job);
  REQUIRE(id.ok());
  auto status = drv.poll_job(*id);
  REQUIRE(status.ok());
  return status->device_time;
}

// Compute dominates this job on every shipped board (about 7 ms of compute on an M.2
// card against some 60 us of fixed costs).
job_request compute_heavy_job(unsigned sub_device = 0) {
  job_request job;
  job.sub_devices = {sub_device};
  job.cost = cost(200'000'000'000, 1024, 1024);
  return job;
}

}  // namespace

SCENARIO("device time adds compute, transfer, latencies and launch cost exactly") {
  // 2e9 MACs at 1e12 MAC/s = 2 ms; 8e6 bytes at 4 GB/s = 2 ms; 2 x 2 us + 50 us.
  const auto t = estimate({rate(1000)}, cost(2'000'000'000, 4'000'000, 4'000'000));
  CHECK(t.compute == 2ms);
  CHECK(t.transfer == 2ms);
  CHECK(t.fixed == 54us);
  CHECK(t.total() == 4ms + 54us);
}

SCENARIO("a job that moves no data pays no DMA latency") {
  const auto t = estimate({rate(1000)}, cost(1'000'000));
  CHECK(t.transfer == 0ns);
  CHECK(t.fixed == 50us);
  CHECK(t.compute == 1us);
}

SCENARIO("a job with input only pays one DMA latency") {
  const auto t = estimate({rate(1000)}, cost(0, 4000));
  CHECK(t.transfer == 1us);
  CHECK(t.fixed == 52us);
}

SCENARIO("doubling the clock halves the compute time") {
  const auto slow = estimate({rate(500)}, cost(3'000'000'000));
  const auto fast = estimate({rate(1000)}, cost(3'000'000'000));
  CHECK(slow.compute == 2 * fast.compute);
  CHECK(slow.transfer == fast.transfer);
  CHECK(slow.fixed == fast.fixed);
}

SCENARIO("half the MVM utilisation doubles the compute time") {
  const auto full = estimate({rate(1000, 100)}, cost(1'000'000'000));
  const auto half = estimate({rate(1000, 50)}, cost(1'000'000'000));
  CHECK(half.compute == 2 * full.compute);
}

SCENARIO("a slow core computes slower by its factor") {
  const auto normal = estimate({rate(1000)}, cost(1'000'000'000));
  const auto slowed = estimate({rate(1000, 100, 2.5)}, cost(1'000'000'000));
  CHECK(slowed.compute == normal.compute * 5 / 2);
}

SCENARIO("a fused pair of cores halves the compute time") {
  const auto one = estimate({rate(1000)}, cost(4'000'000'000));
  const auto two = estimate({rate(1000), rate(1000)}, cost(4'000'000'000));
  CHECK(two.compute * 2 == one.compute);
}

SCENARIO("a fused group runs at the pace of its slowest core") {
  const auto mixed = estimate({rate(1000), rate(500)}, cost(4'000'000'000));
  const auto both_slow = estimate({rate(500), rate(500)}, cost(4'000'000'000));
  CHECK(mixed.compute == both_slow.compute);
}

SCENARIO("the timing model refuses what it cannot time") {
  const auto config = round_config();
  CHECK(sim::estimate_device_time(config, {}, cost(1)).code() == errc::invalid_argument);
  CHECK(sim::estimate_device_time(config, {rate(1000, 0)}, cost(1)).code() ==
        errc::invalid_argument);
  CHECK(sim::estimate_device_time(config, {rate(1000, 100, 0.0)}, cost(1)).code() ==
        errc::invalid_argument);
  CHECK(sim::estimate_device_time(config, {rate(0)}, cost(1)).code() ==
        errc::invalid_configuration);
  CHECK(sim::estimate_device_time(config, {rate(1)}, cost(UINT64_MAX)).code() ==
        errc::invalid_argument);
  auto no_dma = config;
  no_dma.dma_bandwidth_bytes_per_second = 0;
  CHECK(sim::estimate_device_time(no_dma, {rate(1000)}, cost(0, 1)).code() ==
        errc::invalid_configuration);
  CHECK(sim::estimate_device_time(no_dma, {rate(1000)}, cost(1)).ok());
}

SCENARIO("applied core rates follow the board's applied settings") {
  auto clock = std::make_shared<sim::virtual_clock>();
  sim::board b(round_config(), clock);
  sim::configuration_request request;
  request.core_mvm_utilisation_pct[1] = 40;
  REQUIRE(b.configure(request).ok());
  clock->advance(10ms);
  REQUIRE(b.poll_configuration());
  auto rates = sim::applied_core_rates(b, {1});
  REQUIRE(rates.ok());
  CHECK(rates->at(0).clock_mhz == 1000);
  CHECK(rates->at(0).mvm_utilisation_pct == 40);
  CHECK(sim::applied_core_rates(b, {2}).code() == errc::invalid_argument);
}

SCENARIO("a simulated board reports the device time of the timing model") {
  test::temp_dir runtime;
  auto clock = std::make_shared<sim::virtual_clock>();
  sim_driver drv("dev:0", sim::board(round_config(), clock), open_leases(runtime), std::nullopt, 0,
                 pacing_mode::virtual_time);
  const auto expected = estimate({rate(1000)}, compute_heavy_job().cost).total();
  CHECK(reported_device_time(drv, compute_heavy_job()) == expected);
}

SCENARIO("a job on a doubled clock takes about half the time on a shipped board") {
  test::temp_dir runtime;
  auto config = sim::load_board_config(test::board_config_dir() / "m2.toml");
  REQUIRE(config.ok());
  auto clock = std::make_shared<sim::virtual_clock>();
  sim_driver drv("dev:0", sim::board(*config, clock), open_leases(runtime), std::nullopt, 0,
                 pacing_mode::virtual_time);
  sim::configuration_request request;
  request.clock_profile_mhz = 400;
  REQUIRE(drv.configure(request).ok());
  clock->advance(config->reconfigure_settle_time);
  const auto at_400 = reported_device_time(drv, compute_heavy_job(0));
  request.clock_profile_mhz = 800;
  REQUIRE(drv.configure(request).ok());
  clock->advance(config->reconfigure_settle_time);
  const auto at_800 = reported_device_time(drv, compute_heavy_job(1));
  const double ratio = static_cast<double>(at_400.count()) / static_cast<double>(at_800.count());
  CHECK(ratio == doctest::Approx(2.0).epsilon(0.05));
}

SCENARIO("a pending configuration does not change device time until it settles") {
  test::temp_dir runtime;
  auto clock = std::make_shared<sim::virtual_clock>();
  sim_driver drv("dev:0", sim::board(round_config(), clock), open_leases(runtime), std::nullopt, 0,
                 pacing_mode::virtual_time);
  const auto at_1000 = estimate({rate(1000)}, compute_heavy_job().cost).total();
  const auto at_500 = estimate({rate(500)}, compute_heavy_job().cost).total();
  sim::configuration_request request;
  request.clock_profile_mhz = 500;
  auto outcome = drv.configure(request);
  REQUIRE(outcome.ok());
  REQUIRE(*outcome == configure_outcome::pending);
  clock->advance(5ms);
  CHECK(reported_device_time(drv, compute_heavy_job(0)) == at_1000);
  clock->advance(5ms);
  CHECK(reported_device_time(drv, compute_heavy_job(1)) == at_500);
}
