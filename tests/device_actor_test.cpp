// Deterministic tests of the device actor (with its driver and sub-device actors) on
// CAF's test coordinator: the state machine, pending -> ready at the exact settle time,
// answers by state, and leases.
#include "support/scenario.hpp"

#include "actors/device_actor.hpp"
#include "drivers/sim_driver.hpp"
#include "sim/board_config.hpp"
#include "support/actor_fixture.hpp"
#include "support/scripted_driver.hpp"
#include "support/temp_dir.hpp"

using namespace edgert;
using namespace std::chrono_literals;

namespace {

struct device_fixture : test::actor_fixture {
  test::temp_dir runtime;
  std::shared_ptr<lease_registry> leases = *lease_registry::open(runtime.path());
  sim::board_config config = *sim::load_board_config(test::board_config_dir() / "m2.toml");

  device_actor spawn_m2() {
    sim::board board(config, clock);
    auto drv = std::make_shared<sim_driver>("dev:0", std::move(board), leases, std::nullopt);
    auto dev = keep(spawn_device_actor(sys, "dev:0", drv));
    run();
    return dev;
  }

  device_state state_of(const device_actor& dev) { return ask<device_state>(dev, state_atom::value).value(); }
};

lease_holder holder(long pid, const char* program) {
  lease_holder h;
  h.pid = pid;
  h.user = "tester";
  h.program = program;
  h.since = "2026-01-01T00:00:00Z";
  return h;
}

}  // namespace

SCENARIO_FIXTURE(device_fixture, "a device actor comes online ready") {
  GIVEN("a freshly spawned M.2 board") {
    auto dev = keep(spawn_device_actor(
        sys, "dev:0",
        std::make_shared<sim_driver>("dev:0", sim::board(config, clock), leases, std::nullopt)));
    THEN("it is offline until its driver has answered, then ready") {
      CHECK(sched.has_job());
      run();
      CHECK(state_of(dev) == device_state::ready);
      CHECK(ask<bool>(dev, online_atom::value).value());
    }
  }
}

SCENARIO_FIXTURE(device_fixture, "a clock change is pending until exactly the settle time") {
  GIVEN("a ready M.2 board") {
    auto dev = spawn_m2();
    auto settle = config.reconfigure_settle_time;
    REQUIRE(settle > 0ns);
    WHEN("its clock profile changes") {
      auto applied = ask<bool>(dev, configure_atom::value, settings_map{{"clock_profile", 400}});
      REQUIRE(applied.ok());
      THEN("the configuration is pending and the device is configuring") {
        CHECK_FALSE(applied.value());
        CHECK(state_of(dev) == device_state::configuring);
        CHECK_FALSE(ask<bool>(dev, ready_atom::value).value());
      }
      AND_WHEN("one nanosecond less than the settle time passes") {
        advance(settle - 1ns);
        THEN("it is still pending") {
          CHECK_FALSE(ask<bool>(dev, ready_atom::value).value());
          CHECK(state_of(dev) == device_state::configuring);
        }
        AND_WHEN("the last nanosecond passes") {
          advance(1ns);
          THEN("the device is ready with the new clock") {
            CHECK(state_of(dev) == device_state::ready);
            CHECK(ask<bool>(dev, ready_atom::value).value());
            auto config_now = ask<configuration_map>(dev, read_config_atom::value).value();
            CHECK(config_now.at("clock_profile") == "400");
            CHECK(config_now.at("clock_profile_core_3") == "400");
            CHECK(config_now.at("pending") == "false");
          }
        }
      }
    }
  }
}

SCENARIO_FIXTURE(device_fixture, "a waiter is answered when the configuration settles") {
  GIVEN("a board with a pending configuration and a waiter") {
    auto dev = spawn_m2();
    ask<bool>(dev, configure_atom::value, settings_map{{"clock_profile", 200}});
    auto early = ask<bool>(dev, wait_atom::value);
    CHECK(early.pending());
    WHEN("the settle time passes") {
      advance(config.reconfigure_settle_time);
      THEN("the waiter gets true") {
        auto later = collect<bool>();
        REQUIRE(later.ok());
        CHECK(later.value());
      }
    }
  }
}

SCENARIO_FIXTURE(device_fixture, "per-core settings apply to their core only") {
  GIVEN("a ready M.2 board") {
    auto dev = spawn_m2();
    WHEN("core 2 gets its own clock and utilisation") {
      ask<bool>(dev, configure_atom::value,
                settings_map{{"clock_profile_core_2", 200}, {"mvm_utilisation_core_2", 50}});
      advance(config.reconfigure_settle_time);
      THEN("core 2 changed and core 1 did not") {
        auto c = ask<configuration_map>(dev, read_config_atom::value).value();
        CHECK(c.at("clock_profile_core_2") == "200");
        CHECK(c.at("mvm_utilisation_core_2") == "50");
        CHECK(c.at("clock_profile_core_1") == std::to_string(config.default_clock_mhz));
        CHECK(c.at("mvm_utilisation_core_1") == "100");
      }
    }
  }
}

SCENARIO_FIXTURE(device_fixture, "invalid settings are refused and change nothing") {
  GIVEN("a ready M.2 board") {
    auto dev = spawn_m2();
    WHEN("a clock profile the board does not allow is requested") {
      auto r = ask<bool>(dev, configure_atom::value, settings_map{{"clock_profile", 975}});
      THEN("it fails with invalid_configuration and the device stays ready") {
        CHECK(r.code() == errc::invalid_configuration);
        CHECK(r.message().find("975") != std::string::npos);
        CHECK(state_of(dev) == device_state::ready);
      }
    }
    WHEN("a core index is out of range") {
      auto r = ask<bool>(dev, configure_atom::value, settings_map{{"clock_profile_core_9", 400}});
      THEN("it fails with invalid_configuration") { CHECK(r.code() == errc::invalid_configuration); }
    }
    WHEN("an unknown key is given") {
      auto r = ask<bool>(dev, configure_atom::value, settings_map{{"turbo", 1}});
      THEN("it fails naming the key") {
        CHECK(r.code() == errc::invalid_configuration);
        CHECK(r.message().find("turbo") != std::string::npos);
      }
    }
  }
}

SCENARIO_FIXTURE(device_fixture, "leases are granted from free sub-devices") {
  GIVEN("a ready 4-core board with two cores leased") {
    auto dev = spawn_m2();
    auto first = ask<lease_grant>(dev, connect_atom::value, std::vector<unsigned>{}, 2u,
                                  holder(111, "first"));
    REQUIRE(first.ok());
    CHECK(first.value().sub_devices == std::vector<unsigned>{0, 1});
    WHEN("three more are requested") {
      auto second = ask<lease_grant>(dev, connect_atom::value, std::vector<unsigned>{}, 3u,
                                     holder(222, "second"));
      THEN("the request fails naming the holder") {
        CHECK(second.code() == errc::device_in_use);
        CHECK(second.message().find("pid 111") != std::string::npos);
      }
    }
    WHEN("two more are requested") {
      auto second = ask<lease_grant>(dev, connect_atom::value, std::vector<unsigned>{}, 2u,
                                     holder(222, "second"));
      THEN("the other two are granted") {
        REQUIRE(second.ok());
        CHECK(second.value().sub_devices == std::vector<unsigned>{2, 3});
        auto info = ask<device_status>(dev, info_atom::value).value();
        CHECK(info.holders[0].find("pid 111") != std::string::npos);
        CHECK(info.holders[3].find("pid 222") != std::string::npos);
      }
    }
    WHEN("the first lease is released") {
      CHECK(ask<bool>(dev, release_atom::value, first.value().lease_id).value());
      THEN("all four can be leased again") {
        auto all = ask<lease_grant>(dev, connect_atom::value, std::vector<unsigned>{}, 4u,
                                    holder(333, "third"));
        CHECK(all.ok());
      }
    }
  }
}

SCENARIO_FIXTURE(device_fixture, "explicit and impossible lease requests") {
  GIVEN("a ready 4-core board") {
    auto dev = spawn_m2();
    THEN("named sub-devices are granted exactly") {
      auto g = ask<lease_grant>(dev, connect_atom::value, std::vector<unsigned>{1, 3}, 0u,
                                holder(1, "x"));
      REQUIRE(g.ok());
      CHECK(g.value().sub_devices == std::vector<unsigned>{1, 3});
    }
    THEN("a sub-device out of range is an invalid argument") {
      auto g = ask<lease_grant>(dev, connect_atom::value, std::vector<unsigned>{4}, 0u,
                                holder(1, "x"));
      CHECK(g.code() == errc::invalid_argument);
    }
    THEN("zero or too many sub-devices are invalid arguments") {
      CHECK(ask<lease_grant>(dev, connect_atom::value, std::vector<unsigned>{}, 0u, holder(1, "x"))
                .code() == errc::invalid_argument);
      CHECK(ask<lease_grant>(dev, connect_atom::value, std::vector<unsigned>{}, 5u, holder(1, "x"))
                .code() == errc::invalid_argument);
    }
    THEN("releasing an unknown lease answers false") {
      CHECK_FALSE(ask<bool>(dev, release_atom::value, std::uint64_t{999}).value());
    }
  }
}

SCENARIO_FIXTURE(device_fixture, "a faulted device refuses work until it is reset") {
  GIVEN("a ready board that faults") {
    auto dev = spawn_m2();
    self->send(dev, fault_atom::value, std::string("thermal trip"));
    run();
    THEN("it reports the fault") {
      CHECK(state_of(dev) == device_state::faulted);
      auto info = ask<device_status>(dev, info_atom::value).value();
      CHECK(info.fault == "thermal trip");
    }
    THEN("configuration and connections fail with device_fault and the reason") {
      auto c = ask<bool>(dev, configure_atom::value, settings_map{{"clock_profile", 400}});
      CHECK(c.code() == errc::device_fault);
      CHECK(c.message().find("thermal trip") != std::string::npos);
      auto l = ask<lease_grant>(dev, connect_atom::value, std::vector<unsigned>{}, 1u,
                                holder(1, "x"));
      CHECK(l.code() == errc::device_fault);
      CHECK(ask<bool>(dev, ready_atom::value).code() == errc::device_fault);
    }
    THEN("its driver stays reachable for the simulator's control") {
      CHECK(ask<driver_actor>(dev, driver_atom::value).ok());
    }
    WHEN("it is reset") {
      auto r = ask<bool>(dev, reset_atom::value);
      THEN("it is ready again and accepts configuration") {
        CHECK(r.ok());
        CHECK(state_of(dev) == device_state::ready);
        CHECK(ask<bool>(dev, configure_atom::value, settings_map{{"clock_profile", 400}}).ok());
      }
    }
  }
}

SCENARIO_FIXTURE(device_fixture, "a reset drops a pending configuration") {
  GIVEN("a board with a pending configuration") {
    auto dev = spawn_m2();
    ask<bool>(dev, configure_atom::value, settings_map{{"clock_profile", 200}});
    REQUIRE(state_of(dev) == device_state::configuring);
    WHEN("it is reset") {
      ask<bool>(dev, reset_atom::value);
      THEN("it is ready at its default clock") {
        CHECK(state_of(dev) == device_state::ready);
        auto c = ask<configuration_map>(dev, read_config_atom::value).value();
        CHECK(c.at("clock_profile") == std::to_string(config.default_clock_mhz));
      }
    }
  }
}

SCENARIO_FIXTURE(test::actor_fixture, "a driver that fails its first poll faults the device") {
  GIVEN("a scripted board whose polls fail") {
    auto script = std::make_shared<test::driver_script>();
    script->poll_fails = true;
    auto dev = keep(spawn_device_actor(sys, "dev:7",
                                       std::make_shared<test::scripted_driver>("dev:7", script)));
    run();
    THEN("the device is faulted with the driver's reason and says so when asked online") {
      CHECK(ask<device_state>(dev, state_atom::value).value() == device_state::faulted);
      CHECK_FALSE(ask<bool>(dev, online_atom::value).value());
      auto info = ask<device_status>(dev, info_atom::value).value();
      CHECK(info.fault.find("stopped answering") != std::string::npos);
    }
  }
}

SCENARIO_FIXTURE(test::actor_fixture, "a configuration that never settles faults the device") {
  GIVEN("a scripted board whose configuration stays pending") {
    auto script = std::make_shared<test::driver_script>();
    script->configure_pends_forever = true;
    device_timeouts timeouts;
    timeouts.driver_request = 1s;
    timeouts.settle_grace = 5s;
    auto dev = keep(spawn_device_actor(
        sys, "dev:7", std::make_shared<test::scripted_driver>("dev:7", script), timeouts));
    run();
    CHECK_FALSE(ask<bool>(dev, configure_atom::value, settings_map{}).value());
    WHEN("less than the grace period passes, in poll-sized steps") {
      for (int step = 0; step < 500; ++step) advance(10ms);
      THEN("it is still configuring, and the driver polled every 10 ms") {
        CHECK(ask<device_state>(dev, state_atom::value).value() == device_state::configuring);
        CHECK(script->polls >= 500);
      }
    }
    WHEN("the grace period runs out") {
      for (int i = 0; i < 7; ++i) advance(1s);
      THEN("the device is faulted and says why") {
        CHECK(ask<device_state>(dev, state_atom::value).value() == device_state::faulted);
        auto info = ask<device_status>(dev, info_atom::value).value();
        CHECK(info.fault == "configuration never settled");
      }
    }
  }
}
