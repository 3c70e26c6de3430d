// The simulator's control through the C++ API (Context::sim()): fault injection, health
// and virtual time on simulated boards.
#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <thread>

#include "edgert/edgert.hpp"
#include "support/temp_dir.hpp"

using namespace edgert;
using namespace std::chrono_literals;

namespace {

ContextOptions virtual_options(const test::temp_dir& dir, std::string system = "m2,host") {
  ContextOptions o;
  o.system = std::move(system);
  o.board_config_dir = test::board_config_dir().string();
  o.runtime_dir = dir.path().string();
  o.virtual_time = true;
  return o;
}

std::filesystem::path mnist() {
  return std::filesystem::path(EDGERT_TEST_DATA_DIR) / "models" / "mnist_cnn" / "model.onnx";
}

std::vector<Tensor> zero_inputs(const Model& model) {
  std::vector<Tensor> inputs;
  for (auto& info : model.inputs()) inputs.emplace_back(info.dtype, info.shape);
  return inputs;
}

// Waits (bounded, in real time) until `count` jobs are on the boards, so that moving the
// clock afterwards finds them launched.
bool wait_for_jobs(SimControl& sim, std::uint64_t count) {
  const auto end = std::chrono::steady_clock::now() + 10s;
  while (sim.jobs_in_flight() != count) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace

SCENARIO("virtual time settles a pending configuration exactly at its settle time") {
  test::temp_dir dir;
  Context ctx(virtual_options(dir));
  auto sim = ctx.sim();
  REQUIRE(sim.virtual_time());
  CHECK(sim.now() == 0ns);
  REQUIRE_FALSE(ctx.configure_device("dev:0", {{"clock_profile", 400}}));
  sim.advance(249ms);
  CHECK_FALSE(ctx.device_ready("dev:0"));
  sim.advance(1ms);
  CHECK(sim.now() == 250ms);
  CHECK(ctx.device_ready("dev:0"));
}

SCENARIO("a job completes only when simulated time reaches its device time") {
  test::temp_dir dir;
  Context ctx(virtual_options(dir));
  auto sim = ctx.sim();
  auto model = ctx.load_model(mnist());
  RunnerOptions ro;
  ro.device = "dev:0";
  auto runner = ctx.create_runner(model, ro);
  auto result = runner.run_async(zero_inputs(model));
  REQUIRE(wait_for_jobs(sim, 1));
  CHECK(result.wait_for(10ms) == std::future_status::timeout);
  sim.advance(10ms);
  REQUIRE(result.wait_for(10s) == std::future_status::ready);
  auto r = result.get();
  CHECK(r.ok());
  CHECK(r.device_time_ns > 0);
}

SCENARIO("an injected job error fails the next job with its code") {
  test::temp_dir dir;
  Context ctx(virtual_options(dir));
  auto sim = ctx.sim();
  sim.inject("dev:0", parse_fault_spec("job_error@code=io_error,count=1"));
  auto model = ctx.load_model(mnist());
  RunnerOptions ro;
  ro.device = "dev:0";
  auto runner = ctx.create_runner(model, ro);
  auto first = runner.run_async(zero_inputs(model));
  // The failed job may end at launch or at its device time: wait for either.
  const auto end = std::chrono::steady_clock::now() + 10s;
  while (first.wait_for(0s) != std::future_status::ready && sim.jobs_in_flight() != 1)
    REQUIRE(std::chrono::steady_clock::now() < end);
  sim.advance(10ms);
  REQUIRE(first.wait_for(10s) == std::future_status::ready);
  CHECK(first.get().code == errc::io_error);
  auto second = runner.run_async(zero_inputs(model));
  REQUIRE(wait_for_jobs(sim, 1));
  sim.advance(10ms);
  REQUIRE(second.wait_for(10s) == std::future_status::ready);
  CHECK(second.get().ok());
}

SCENARIO("a hung job shows as a hung core until the board is reset") {
  test::temp_dir dir;
  Context ctx(virtual_options(dir));
  auto sim = ctx.sim();
  Fault hang;
  hang.kind = FaultKind::job_hang;
  hang.core = 0;
  sim.inject("dev:0", hang);
  auto model = ctx.load_model(mnist());
  RunnerOptions ro;
  ro.device = "dev:0";  // the first free core: 0
  auto runner = ctx.create_runner(model, ro);
  auto result = runner.run_async(zero_inputs(model));
  REQUIRE(wait_for_jobs(sim, 1));
  sim.advance(100ms);
  CHECK(sim.jobs_in_flight() == 1);
  auto health = sim.health("dev:0");
  REQUIRE(health.size() == 4);
  CHECK(health[0].state == CoreState::hung);
  CHECK(health[1].state == CoreState::ok);
  ctx.reset_device("dev:0");
  REQUIRE(result.wait_for(10s) == std::future_status::ready);
  CHECK(result.get().code == errc::device_fault);
  CHECK(sim.health("dev:0")[0].state == CoreState::ok);
}

SCENARIO("a fault spec reads like a fault script entry") {
  auto f = parse_fault_spec("job_error@core=1,after=100,count=5,code=timeout");
  CHECK(f.kind == FaultKind::job_error);
  REQUIRE(f.core.has_value());
  CHECK(*f.core == 1);
  CHECK(f.trigger.kind == FaultTrigger::Kind::after_events);
  CHECK(f.trigger.events == 100);
  CHECK(f.count == 5);
  CHECK(f.code == errc::timeout);
  auto t = parse_fault_spec("thermal_throttle@at_ms=20,clock_mhz=300,duration_ms=50");
  CHECK(t.trigger.kind == FaultTrigger::Kind::at_time);
  CHECK(t.trigger.at == 20ms);
  CHECK(t.duration == 50ms);
}

SCENARIO("a bad fault spec is rejected with a clear error") {
  CHECK_THROWS_AS(parse_fault_spec("meltdown@core=1"), InvalidArgument);
  CHECK_THROWS_AS(parse_fault_spec("job_error@core"), InvalidArgument);
  CHECK_THROWS_AS(parse_fault_spec("job_error@colour=red"), InvalidArgument);
  CHECK_THROWS_AS(parse_fault_spec("thermal_throttle@clock_mhz=300"), InvalidArgument);
}

SCENARIO("a fault on a core the board does not have is refused") {
  test::temp_dir dir;
  Context ctx(virtual_options(dir));
  CHECK_THROWS_AS(ctx.sim().inject("dev:0", parse_fault_spec("job_hang@core=9")), InvalidArgument);
}

SCENARIO("the host device is not controlled by the simulator") {
  test::temp_dir dir;
  Context ctx(virtual_options(dir));
  CHECK_THROWS_AS(ctx.sim().inject("dev:1", parse_fault_spec("job_error")), NotImplemented);
  CHECK_THROWS_AS(ctx.sim().health("host"), NotImplemented);
}

SCENARIO("simulated time cannot be moved on a real-time context") {
  test::temp_dir dir;
  auto o = virtual_options(dir);
  o.virtual_time = false;
  Context ctx(o);
  auto sim = ctx.sim();
  CHECK_FALSE(sim.virtual_time());
  CHECK_THROWS_AS(sim.now(), NotImplemented);
  CHECK_THROWS_AS(sim.advance(1ms), NotImplemented);
}

SCENARIO("a runner on dev:0:2 serves on sub-device 2 of the board") {
  test::temp_dir dir;
  Context ctx(virtual_options(dir));
  auto sim = ctx.sim();
  Fault hang;
  hang.kind = FaultKind::job_hang;
  hang.core = 2;
  sim.inject("dev:0", hang);
  auto model = ctx.load_model(mnist());
  RunnerOptions ro;
  ro.device = "dev:0:2";
  auto runner = ctx.create_runner(model, ro);
  auto result = runner.run_async(zero_inputs(model));
  REQUIRE(wait_for_jobs(sim, 1));
  sim.advance(100ms);
  auto health = sim.health("dev:0");
  REQUIRE(health.size() == 4);
  CHECK(health[2].state == CoreState::hung);
  CHECK(health[0].state == CoreState::ok);
  ctx.reset_device("dev:0");
  REQUIRE(result.wait_for(10s) == std::future_status::ready);
  CHECK(result.get().code == errc::device_fault);
}
