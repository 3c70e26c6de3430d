// Deterministic tests of the execution watchdog and of automatic board recovery, on CAF's
// test coordinator: the driver actor fails a hung job with timeout exactly at its deadline
// (board time) and exactly once, the device actor goes faulted -> recovering -> ready
// (resetting the board), jobs in flight during the reset fail once with device_fault, a
// board that resets itself is recovered without another reset, and health tells the truth.
#include "support/scenario.hpp"

#include <algorithm>
#include <vector>

#include "actors/device_actor.hpp"
#include "actors/device_readiness.hpp"
#include "drivers/sim_driver.hpp"
#include "sim/board_config.hpp"
#include "support/actor_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace edgert;
using namespace std::chrono_literals;

namespace {

struct watchdog_fixture : test::actor_fixture {
  test::temp_dir runtime;
  std::shared_ptr<lease_registry> leases = *lease_registry::open(runtime.path());
  sim::board_config config = *sim::load_board_config(test::board_config_dir() / "m2.toml");
  std::shared_ptr<sim_driver> board;  // the test injects faults between steps (one thread)
  std::shared_ptr<device_readiness> readiness;
  device_actor dev;
  driver_actor drv;

  watchdog_fixture() {
    board = std::make_shared<sim_driver>("dev:0", sim::board(config, clock), leases, std::nullopt);
    readiness = std::make_shared<device_readiness>(board->status());
    dev = keep(spawn_device_actor(sys, "dev:0", board, {}, readiness));
    run();
    drv = ask<driver_actor>(dev, driver_atom::value).value();
  }

  void inject(sim::fault_kind kind, unsigned core) {
    sim::fault f;
    f.kind = kind;
    f.core = core;
    REQUIRE(board->inject_fault(f).ok());
  }

  // Launches a timing-only job on `core`; the answer is collected later.
  void launch(unsigned core, std::uint64_t macs, std::chrono::nanoseconds budget) {
    job_request request;
    request.sub_devices = {core};
    request.cost.macs = macs;
    job_watchdog watchdog;
    watchdog.budget = budget;
    watchdog.owner = "model-under-test on dev:0";
    self->send(drv, launch_atom::value, std::move(request), std::move(watchdog));
    run();
  }

  // The answer to an attach request sent earlier: the driver and epoch, a failure, or
  // nothing yet.
  std::optional<std::pair<driver_actor, std::uint64_t>> attached;
  std::optional<failure> refused;
  void collect_attach() {
    attached.reset();
    refused.reset();
    self->receive([&](driver_actor& d, std::uint64_t epoch) { attached.emplace(d, epoch); },
                  [&](caf::error& e) { refused = from_caf_error(e); },
                  caf::after(std::chrono::seconds(0)) >> [] {});
  }

  void attach(std::chrono::nanoseconds wait) {
    self->send(dev, attach_atom::value, std::chrono::duration_cast<caf::timespan>(wait));
    run();
  }

  // A job's outcome: ok, the error of a failed status, or the error it was answered with.
  static errc outcome(const test::answer<job_status>& a) {
    if (!a.ok()) return a.code();
    return a.value().state == job_state::failed ? a.value().error : errc::ok;
  }

  device_health_report health() { return ask<device_health_report>(dev, health_atom::value).value(); }
};

}  // namespace

SCENARIO_FIXTURE(watchdog_fixture, "a hung job fails with timeout exactly once at its deadline") {
  GIVEN("a job that hangs on core 1 under a 50 ms watchdog") {
    inject(sim::fault_kind::job_hang, 1);
    launch(1, 1000, 50ms);
    CHECK(collect<job_status>().pending());
    WHEN("one nanosecond less than the watchdog passes") {
      advance(50ms - 1ns);
      THEN("it is still unanswered") { CHECK(collect<job_status>().pending()); }
      AND_WHEN("the last nanosecond passes") {
        advance(1ns);
        auto answer = collect<job_status>();
        THEN("it fails with timeout naming the model the sub-device and the watchdog") {
          CHECK(answer.code() == errc::timeout);
          CHECK(answer.message().find("model-under-test on dev:0") != std::string::npos);
          CHECK(answer.message().find("sub-device 1") != std::string::npos);
          CHECK(answer.message().find("50 ms") != std::string::npos);
        }
        THEN("no second answer ever comes") {
          advance(10s);
          CHECK(collect<job_status>().pending());
        }
        THEN("the device recovered by resetting the board once") {
          auto h = health();
          CHECK(h.state == device_state::ready);
          CHECK(h.recoveries == 1);
          CHECK(h.last_fault.find("watchdog") != std::string::npos);
          REQUIRE(h.cores.size() == 4);
          CHECK(h.cores[1].state == health_state::ok);
          CHECK(ask<driver_counters>(dev, counters_atom::value).value().resets == 1);
        }
      }
    }
  }
}

SCENARIO_FIXTURE(watchdog_fixture, "a healthy job finishes under its automatic watchdog") {
  GIVEN("a job with the automatic watchdog") {
    launch(0, 1000, 0ns);
    WHEN("its device time passes") {
      advance(100ms);
      THEN("it is done and the device never left service") {
        auto answer = collect<job_status>();
        REQUIRE(answer.ok());
        CHECK(answer.value().state == job_state::done);
        CHECK(health().recoveries == 0);
        CHECK(health().epoch == 0);
      }
    }
  }
}

SCENARIO_FIXTURE(watchdog_fixture, "a hung core takes the device faulted then recovering then ready") {
  GIVEN("a job hanging on core 2 under a 10 ms watchdog") {
    inject(sim::fault_kind::job_hang, 2);
    launch(2, 1000, 10ms);
    WHEN("the watchdog fires and the actors run one message at a time") {
      sched.advance_time(std::chrono::duration_cast<caf::timespan>(10ms));
      std::vector<device_state> seen{readiness->state()};
      while (sched.try_run_once())
        if (readiness->state() != seen.back()) seen.push_back(readiness->state());
      THEN("the published states are ready faulted recovering ready") {
        CHECK(seen == std::vector<device_state>{device_state::ready, device_state::faulted,
                                                device_state::recovering, device_state::ready});
        CHECK(collect<job_status>().code() == errc::timeout);
      }
    }
  }
}

SCENARIO_FIXTURE(watchdog_fixture, "jobs in flight during a recovery fail with device_fault exactly once") {
  GIVEN("a long job on core 0 and a job hanging on core 3 with a short watchdog") {
    launch(0, 1'000'000'000'000ull, 0ns);  // seconds of device time
    inject(sim::fault_kind::job_hang, 3);
    launch(3, 1000, 5ms);
    WHEN("the watchdog fires and the board is reset") {
      advance(5ms);
      std::vector<errc> codes;
      for (auto a = collect<job_status>(); !a.pending(); a = collect<job_status>())
        codes.push_back(outcome(a));
      advance(1h);  // long past the first job's device time
      for (auto a = collect<job_status>(); !a.pending(); a = collect<job_status>())
        codes.push_back(outcome(a));
      THEN("the hung job timed out and the neighbour failed with device_fault, once each") {
        REQUIRE(codes.size() == 2);
        CHECK(std::count(codes.begin(), codes.end(), errc::timeout) == 1);
        CHECK(std::count(codes.begin(), codes.end(), errc::device_fault) == 1);
        CHECK(health().state == device_state::ready);
      }
    }
  }
}

SCENARIO_FIXTURE(watchdog_fixture, "a board that resets itself is recovered without another reset") {
  GIVEN("a long job and a board reset due in 3 ms") {
    launch(0, 1'000'000'000'000ull, 0ns);
    sim::fault f;
    f.kind = sim::fault_kind::board_reset;
    f.trigger = sim::fault_trigger::at_time(board->board_time() + 3ms);
    REQUIRE(board->inject_fault(f).ok());
    WHEN("the reset time passes and the job is polled") {
      advance(3ms);
      self->send(drv, job_poll_atom::value, job_id{1});
      run();
      THEN("the job fails with device_fault and the device recovered once, with one reset") {
        auto answer = collect<job_status>();
        REQUIRE_FALSE(answer.pending());
        CHECK(outcome(answer) == errc::device_fault);
        CHECK(collect<job_status>().pending());
        auto h = health();
        CHECK(h.state == device_state::ready);
        CHECK(h.recoveries == 1);
        CHECK(h.epoch == 1);
        CHECK(h.last_fault.find("reset itself") != std::string::npos);
        CHECK(ask<driver_counters>(dev, counters_atom::value).value().resets == 1);
      }
    }
  }
}

SCENARIO_FIXTURE(watchdog_fixture, "health reports a hung core until the board recovers") {
  GIVEN("a hung job under a long watchdog") {
    inject(sim::fault_kind::job_hang, 1);
    launch(1, 1000, 1s);
    THEN("core 1 is hung and the others are ok while the device is still ready") {
      auto h = health();
      CHECK(h.state == device_state::ready);
      REQUIRE(h.cores.size() == 4);
      CHECK(h.cores[1].state == health_state::hung);
      CHECK(h.cores[0].state == health_state::ok);
    }
    WHEN("the watchdog fires") {
      advance(1s);
      CHECK(collect<job_status>().code() == errc::timeout);
      THEN("every core is ok again") {
        for (auto& c : health().cores) CHECK(c.state == health_state::ok);
      }
    }
  }
}

SCENARIO_FIXTURE(watchdog_fixture, "an execution unit attaches at once when the device is ready") {
  attach(0ns);
  collect_attach();
  REQUIRE(attached);
  CHECK(attached->first == drv);
  CHECK(attached->second == 0);
}

SCENARIO_FIXTURE(watchdog_fixture, "recovery policy reject fails at once and wait waits for the reset") {
  GIVEN("a device marked faulted") {
    self->send(dev, fault_atom::value, std::string("link down"));
    run();
    WHEN("a unit attaches with the reject policy") {
      attach(0ns);
      collect_attach();
      THEN("it fails at once with device_fault naming the fault") {
        REQUIRE(refused);
        CHECK(refused->code == errc::device_fault);
        CHECK(refused->message.find("link down") != std::string::npos);
      }
    }
    WHEN("a unit attaches with the wait policy and the device is reset in time") {
      attach(100ms);
      advance(50ms);
      collect_attach();
      CHECK_FALSE(attached);
      CHECK_FALSE(refused);
      REQUIRE(ask<bool>(dev, reset_atom::value).ok());
      collect_attach();
      THEN("it gets the driver under the new epoch") {
        REQUIRE(attached);
        CHECK(attached->first == drv);
        CHECK(attached->second == 2);  // the fault and the reset each left service once
      }
    }
    WHEN("a unit attaches with the wait policy and the device stays faulted") {
      attach(100ms);
      advance(100ms);
      collect_attach();
      THEN("it fails with device_fault after the wait") {
        REQUIRE(refused);
        CHECK(refused->code == errc::device_fault);
        CHECK(refused->message.find("in vain") != std::string::npos);
      }
    }
  }
}
