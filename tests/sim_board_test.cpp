// sim::board: pending configuration on a virtual clock, validation, memory accounting,
// reset and snapshots; and the string-keyed configuration vocabulary it is driven with.
#include <doctest/doctest.h>

#include <memory>

#include "sim/board.hpp"
#include "support/temp_dir.hpp"

using namespace edgert;
using namespace edgert::sim;
using namespace std::chrono_literals;

namespace {

// A 4-core board with profiles 100..800, a per-core ceiling of 600 MHz and 1 GiB of memory.
board_config test_config(sim_duration settle = 100ms) {
  board_config c;
  c.kind = "dev";
  c.product = "test board";
  c.sub_devices = 4;
  c.macs_per_cycle_per_core = 1024;
  c.clock_profiles_mhz = {100, 200, 400, 600, 800};
  c.default_clock_mhz = 400;
  c.max_core_clock_mhz = 600;
  c.min_mvm_utilisation_pct = 10;
  c.max_mvm_utilisation_pct = 100;
  c.reconfigure_settle_time = settle;
  c.device_memory_bytes = std::uint64_t{1} << 30;
  c.dma_bandwidth_bytes_per_second = 4e9;
  return c;
}

board_config shipped(const std::string& kind) {
  auto c = load_board_config(test::board_config_dir() / (kind + ".toml"));
  REQUIRE(c.ok());
  return *c;
}

configuration_request request(const std::map<std::string, std::int64_t>& settings) {
  auto r = parse_configuration_request(settings);
  REQUIRE(r.ok());
  return *r;
}

}  // namespace

SCENARIO("a new board runs its default settings") {
  GIVEN("a board of the shipped m2 kind") {
    auto clock = std::make_shared<virtual_clock>();
    board b(shipped("m2"), clock);
    THEN("every core runs the default clock at full utilisation and nothing is pending") {
      CHECK(b.sub_devices() == 4);
      CHECK(b.applied_settings().clock_profile_mhz == 800);
      for (const auto& core : b.applied_settings().cores) {
        CHECK(core.clock_mhz == 800);
        CHECK(core.mvm_utilisation_pct == 100);
      }
      CHECK_FALSE(b.pending_settings().has_value());
      CHECK(b.poll_configuration());
      CHECK(b.read_configuration().at("pending") == "false");
    }
  }
}

SCENARIO("a configuration settles at exactly the settle time") {
  GIVEN("a board with a 100 ms settle time on a virtual clock") {
    auto clock = std::make_shared<virtual_clock>(sim_time{5s});
    board b(test_config(100ms), clock);
    WHEN("a new clock profile is configured") {
      auto state = b.configure(request({{"clock_profile", 200}}));
      REQUIRE(state.ok());
      THEN("it is pending until the settle time and applied at it") {
        CHECK(*state == configure_state::pending);
        CHECK(b.time_until_settled() == 100ms);
        clock->advance(100ms - 1ns);
        CHECK_FALSE(b.poll_configuration());
        CHECK(b.applied_settings().clock_profile_mhz == 400);
        CHECK(b.time_until_settled() == 1ns);
        clock->advance(1ns);
        CHECK(b.poll_configuration());
        CHECK(b.applied_settings().clock_profile_mhz == 200);
        CHECK_FALSE(b.pending_settings().has_value());
        CHECK(b.time_until_settled() == sim_duration::zero());
      }
    }
  }
}

SCENARIO("reading the configuration while pending shows the old settings and the time left") {
  GIVEN("a board with a pending clock change") {
    auto clock = std::make_shared<virtual_clock>();
    board b(test_config(100ms), clock);
    REQUIRE(b.configure(request({{"clock_profile", 800}})).ok());
    WHEN("40 ms pass and the configuration is read") {
      clock->advance(40ms);
      auto read = b.read_configuration();
      THEN("the applied values are still the old ones with 60 ms to go") {
        CHECK(read.at("clock_profile") == "400");
        CHECK(read.at("clock_profile_core_3") == "400");
        CHECK(read.at("mvm_utilisation_core_0") == "100");
        CHECK(read.at("pending") == "true");
        CHECK(read.at("settles_in_ms") == "60");
      }
    }
  }
}

SCENARIO("the time left rounds up to whole milliseconds") {
  GIVEN("a board pending with one nanosecond left") {
    auto clock = std::make_shared<virtual_clock>();
    board b(test_config(100ms), clock);
    REQUIRE(b.configure(request({{"clock_profile", 800}})).ok());
    clock->advance(100ms - 1ns);
    THEN("settles_in_ms reads 1 rather than 0") {
      CHECK(b.read_configuration().at("settles_in_ms") == "1");
    }
  }
}

SCENARIO("reading after the settle time reports the new settings before a poll") {
  GIVEN("a board whose pending configuration has just settled") {
    auto clock = std::make_shared<virtual_clock>();
    board b(test_config(100ms), clock);
    REQUIRE(b.configure(request({{"clock_profile", 800}})).ok());
    clock->advance(100ms);
    WHEN("the configuration is read without polling") {
      auto read = b.read_configuration();
      THEN("it shows the new clock and no pending change") {
        CHECK(read.at("clock_profile") == "800");
        CHECK(read.at("pending") == "false");
        CHECK(read.count("settles_in_ms") == 0);
      }
    }
  }
}

SCENARIO("per-core settings change only their core") {
  GIVEN("a zero-settle board") {
    auto clock = std::make_shared<virtual_clock>();
    board b(test_config(0ns), clock);
    WHEN("core 1 gets 200 MHz and core 2 gets 50 percent utilisation") {
      auto state = b.configure(
          request({{"clock_profile_core_1", 200}, {"mvm_utilisation_core_2", 50}}));
      REQUIRE(state.ok());
      THEN("those cores change and the rest keep their defaults") {
        const auto& cores = b.applied_settings().cores;
        CHECK(cores[0] == core_settings{400, 100});
        CHECK(cores[1] == core_settings{200, 100});
        CHECK(cores[2] == core_settings{400, 50});
        CHECK(cores[3] == core_settings{400, 100});
        CHECK(b.applied_settings().clock_profile_mhz == 400);
      }
    }
  }
}

SCENARIO("a per-core clock overrides a board-wide profile in the same request") {
  GIVEN("a zero-settle board") {
    auto clock = std::make_shared<virtual_clock>();
    board b(test_config(0ns), clock);
    WHEN("the board is set to 800 MHz and core 0 to 100 MHz at once") {
      REQUIRE(b.configure(request({{"clock_profile", 800}, {"clock_profile_core_0", 100}})).ok());
      THEN("core 0 runs 100 MHz and every other core 800 MHz") {
        const auto& s = b.applied_settings();
        CHECK(s.clock_profile_mhz == 800);
        CHECK(s.cores[0].clock_mhz == 100);
        CHECK(s.cores[1].clock_mhz == 800);
        CHECK(s.cores[2].clock_mhz == 800);
        CHECK(s.cores[3].clock_mhz == 800);
      }
    }
  }
}

SCENARIO("a board-wide profile resets earlier per-core clocks") {
  GIVEN("a zero-settle board with core 2 at 100 MHz") {
    auto clock = std::make_shared<virtual_clock>();
    board b(test_config(0ns), clock);
    REQUIRE(b.configure(request({{"clock_profile_core_2", 100}})).ok());
    WHEN("the board-wide profile is set to 200 MHz") {
      REQUIRE(b.configure(request({{"clock_profile", 200}})).ok());
      THEN("core 2 follows the board to 200 MHz") {
        CHECK(b.applied_settings().cores[2].clock_mhz == 200);
      }
    }
  }
}

SCENARIO("a clock profile the board does not offer is rejected") {
  GIVEN("the shipped m2 board") {
    auto clock = std::make_shared<virtual_clock>();
    board b(shipped("m2"), clock);
    WHEN("900 MHz is requested") {
      auto state = b.configure(request({{"clock_profile", 900}}));
      THEN("it fails listing the allowed profiles and nothing becomes pending") {
        REQUIRE_FALSE(state.ok());
        CHECK(state.code() == errc::invalid_configuration);
        CHECK(state.error().message ==
              "clock profile 900 MHz is not allowed on m2; allowed: 100, 200, 400, 600, 800");
        CHECK_FALSE(b.pending_settings().has_value());
      }
    }
  }
}

SCENARIO("a core index beyond the board is rejected") {
  GIVEN("a 4-core board") {
    auto clock = std::make_shared<virtual_clock>();
    board b(test_config(), clock);
    WHEN("core 7 is configured") {
      auto state = b.configure(request({{"clock_profile_core_7", 200}}));
      THEN("the error gives the valid core range") {
        REQUIRE_FALSE(state.ok());
        CHECK(state.code() == errc::invalid_configuration);
        CHECK(state.error().message == "core 7 is out of range: dev has 4 cores (0-3)");
      }
    }
  }
}

SCENARIO("a per-core clock must be an allowed profile") {
  GIVEN("a board with profiles 100 to 800") {
    auto clock = std::make_shared<virtual_clock>();
    board b(test_config(), clock);
    WHEN("core 1 is set to 300 MHz") {
      auto state = b.configure(request({{"clock_profile_core_1", 300}}));
      THEN("it fails naming the core and the allowed profiles") {
        REQUIRE_FALSE(state.ok());
        CHECK(state.error().message == "clock profile 300 MHz for core 1 is not allowed on dev; "
                                       "allowed: 100, 200, 400, 600, 800");
      }
    }
  }
}

SCENARIO("a per-core clock above the per-core ceiling is rejected") {
  GIVEN("a board whose cores may run at most 600 MHz each") {
    auto clock = std::make_shared<virtual_clock>();
    board b(test_config(), clock);
    WHEN("core 0 alone is set to 800 MHz") {
      auto state = b.configure(request({{"clock_profile_core_0", 800}}));
      THEN("it fails naming the ceiling") {
        REQUIRE_FALSE(state.ok());
        CHECK(state.code() == errc::invalid_configuration);
        CHECK(state.error().message ==
              "clock profile 800 MHz for core 0 is above the per-core maximum of 600 MHz on dev");
      }
    }
  }
}

SCENARIO("the board-wide profile is limited only by the profile list") {
  GIVEN("a zero-settle board whose per-core ceiling is 600 MHz") {
    auto clock = std::make_shared<virtual_clock>();
    board b(test_config(0ns), clock);
    WHEN("the board-wide profile is set to 800 MHz") {
      auto state = b.configure(request({{"clock_profile", 800}}));
      THEN("it is accepted") {
        REQUIRE(state.ok());
        CHECK(b.applied_settings().clock_profile_mhz == 800);
      }
    }
  }
}

SCENARIO("utilisation outside the board limits is rejected") {
  GIVEN("a board allowing 10 to 100 percent") {
    auto clock = std::make_shared<virtual_clock>();
    board b(test_config(), clock);
    WHEN("core 3 is set to 5 percent") {
      auto state = b.configure(request({{"mvm_utilisation_core_3", 5}}));
      THEN("it fails giving the allowed range") {
        REQUIRE_FALSE(state.ok());
        CHECK(state.error().message ==
              "mvm utilisation 5% for core 3 is out of range on dev: allowed 10-100%");
      }
    }
  }
}

SCENARIO("a request with one bad entry changes nothing") {
  GIVEN("a zero-settle board") {
    auto clock = std::make_shared<virtual_clock>();
    board b(test_config(0ns), clock);
    WHEN("a good board-wide clock comes with an out-of-range utilisation") {
      auto state = b.configure(request({{"clock_profile", 800}, {"mvm_utilisation_core_0", 101}}));
      THEN("the request fails and the good part is not applied") {
        CHECK_FALSE(state.ok());
        CHECK(b.applied_settings().clock_profile_mhz == 400);
      }
    }
  }
}

SCENARIO("a request matching the applied settings completes at once") {
  GIVEN("a board with a 100 ms settle time") {
    auto clock = std::make_shared<virtual_clock>();
    board b(test_config(100ms), clock);
    WHEN("the default clock profile is requested again") {
      auto state = b.configure(request({{"clock_profile", 400}}));
      THEN("it is complete and nothing is pending") {
        REQUIRE(state.ok());
        CHECK(*state == configure_state::complete);
        CHECK_FALSE(b.pending_settings().has_value());
      }
    }
  }
}

SCENARIO("an empty request completes at once") {
  GIVEN("a board with a settle time") {
    auto clock = std::make_shared<virtual_clock>();
    board b(test_config(100ms), clock);
    WHEN("nothing is requested") {
      auto state = b.configure(configuration_request{});
      THEN("it is complete") {
        REQUIRE(state.ok());
        CHECK(*state == configure_state::complete);
        CHECK_FALSE(b.pending_settings().has_value());
      }
    }
  }
}

SCENARIO("repeating the pending request keeps its settle time") {
  GIVEN("a board pending a change to 800 MHz for 30 ms already") {
    auto clock = std::make_shared<virtual_clock>();
    board b(test_config(100ms), clock);
    REQUIRE(b.configure(request({{"clock_profile", 800}})).ok());
    clock->advance(30ms);
    WHEN("the same request is made again") {
      auto state = b.configure(request({{"clock_profile", 800}}));
      THEN("it reports the existing pending change without restarting it") {
        REQUIRE(state.ok());
        CHECK(*state == configure_state::pending);
        CHECK(b.time_until_settled() == 70ms);
      }
    }
  }
}

SCENARIO("a configuration during a pending one builds on the pending settings") {
  GIVEN("a board pending core 0 at 200 MHz for 30 ms already") {
    auto clock = std::make_shared<virtual_clock>();
    board b(test_config(100ms), clock);
    REQUIRE(b.configure(request({{"clock_profile_core_0", 200}})).ok());
    clock->advance(30ms);
    WHEN("core 1 is set to 100 MHz") {
      auto state = b.configure(request({{"clock_profile_core_1", 100}}));
      REQUIRE(state.ok());
      THEN("both changes are pending and settle a full settle time after the second") {
        CHECK(*state == configure_state::pending);
        REQUIRE(b.pending_settings().has_value());
        CHECK(b.pending_settings()->cores[0].clock_mhz == 200);
        CHECK(b.pending_settings()->cores[1].clock_mhz == 100);
        CHECK(b.time_until_settled() == 100ms);
        clock->advance(100ms);
        CHECK(b.poll_configuration());
        CHECK(b.applied_settings().cores[0].clock_mhz == 200);
        CHECK(b.applied_settings().cores[1].clock_mhz == 100);
      }
    }
  }
}

SCENARIO("returning to the applied settings drops the pending change") {
  GIVEN("a board pending a change to 800 MHz") {
    auto clock = std::make_shared<virtual_clock>();
    board b(test_config(100ms), clock);
    REQUIRE(b.configure(request({{"clock_profile", 800}})).ok());
    WHEN("the original 400 MHz is requested before it settles") {
      auto state = b.configure(request({{"clock_profile", 400}}));
      THEN("the request completes and nothing is pending") {
        REQUIRE(state.ok());
        CHECK(*state == configure_state::complete);
        CHECK_FALSE(b.pending_settings().has_value());
        CHECK(b.applied_settings().clock_profile_mhz == 400);
      }
    }
  }
}

SCENARIO("a configure after the settle time builds on the settled settings") {
  GIVEN("a board whose change to 800 MHz settled without a poll") {
    auto clock = std::make_shared<virtual_clock>();
    board b(test_config(100ms), clock);
    REQUIRE(b.configure(request({{"clock_profile", 800}})).ok());
    clock->advance(150ms);
    WHEN("core 0 utilisation is set") {
      REQUIRE(b.configure(request({{"mvm_utilisation_core_0", 50}})).ok());
      THEN("the 800 MHz change is applied and only the new one is pending") {
        CHECK(b.applied_settings().clock_profile_mhz == 800);
        REQUIRE(b.pending_settings().has_value());
        CHECK(b.pending_settings()->cores[0].mvm_utilisation_pct == 50);
        CHECK(b.pending_settings()->clock_profile_mhz == 800);
      }
    }
  }
}

SCENARIO("a board without a settle time applies a configuration at once") {
  GIVEN("a zero-settle board") {
    auto clock = std::make_shared<virtual_clock>();
    board b(test_config(0ns), clock);
    WHEN("a new profile is configured") {
      auto state = b.configure(request({{"clock_profile", 100}}));
      THEN("it is complete and applied and counted") {
        REQUIRE(state.ok());
        CHECK(*state == configure_state::complete);
        CHECK(b.applied_settings().clock_profile_mhz == 100);
        CHECK(b.counters().configurations_requested == 1);
        CHECK(b.counters().configurations_applied == 1);
      }
    }
  }
}

SCENARIO("device memory is accounted up to the board's capacity") {
  GIVEN("a board with 1 GiB of device memory") {
    auto clock = std::make_shared<virtual_clock>();
    board b(test_config(), clock);
    const std::uint64_t mib = 1 << 20;
    WHEN("768 MiB are reserved and then 512 MiB more are asked for") {
      REQUIRE(b.reserve_memory(768 * mib).ok());
      auto more = b.reserve_memory(512 * mib);
      THEN("the second reservation fails with out_of_memory and changes nothing") {
        REQUIRE_FALSE(more.ok());
        CHECK(more.code() == errc::out_of_memory);
        CHECK(more.error().message.find("dev") != std::string::npos);
        CHECK(b.counters().memory_used_bytes == 768 * mib);
      }
    }
  }
}

SCENARIO("released memory can be reserved again and the peak is remembered") {
  GIVEN("a board with 1 GiB of which all is reserved") {
    auto clock = std::make_shared<virtual_clock>();
    board b(test_config(), clock);
    const std::uint64_t gib = std::uint64_t{1} << 30;
    REQUIRE(b.reserve_memory(gib).ok());
    WHEN("half is released") {
      b.release_memory(gib / 2);
      THEN("half can be reserved again and the peak stays at the full amount") {
        CHECK(b.counters().memory_used_bytes == gib / 2);
        CHECK(b.counters().memory_peak_bytes == gib);
        CHECK(b.reserve_memory(gib / 2).ok());
        CHECK_FALSE(b.reserve_memory(1).ok());
      }
    }
  }
}

SCENARIO("releasing more memory than is reserved stops at zero") {
  GIVEN("a board with 10 bytes reserved") {
    auto clock = std::make_shared<virtual_clock>();
    board b(test_config(), clock);
    REQUIRE(b.reserve_memory(10).ok());
    WHEN("20 bytes are released") {
      b.release_memory(20);
      THEN("nothing is in use") { CHECK(b.counters().memory_used_bytes == 0); }
    }
  }
}

SCENARIO("a reset restores defaults drops the pending change and frees memory") {
  GIVEN("a configured board with memory in use and a change pending") {
    auto clock = std::make_shared<virtual_clock>();
    board b(test_config(100ms), clock);
    REQUIRE(b.configure(request({{"clock_profile", 800}})).ok());
    clock->advance(100ms);
    REQUIRE(b.poll_configuration());
    REQUIRE(b.configure(request({{"mvm_utilisation_core_1", 20}})).ok());
    REQUIRE(b.reserve_memory(4096).ok());
    WHEN("the board is reset") {
      b.reset();
      THEN("it runs the defaults with nothing pending and no memory in use") {
        CHECK(b.applied_settings().clock_profile_mhz == 400);
        CHECK(b.applied_settings().cores[1].mvm_utilisation_pct == 100);
        CHECK_FALSE(b.pending_settings().has_value());
        CHECK(b.counters().memory_used_bytes == 0);
        CHECK(b.counters().resets == 1);
      }
    }
  }
}

SCENARIO("a snapshot restores settings and a pending change on another board") {
  GIVEN("a board with an applied and a pending change, and a fresh board of the same kind") {
    auto clock = std::make_shared<virtual_clock>();
    board first(test_config(100ms), clock);
    REQUIRE(first.configure(request({{"clock_profile", 200}})).ok());
    clock->advance(100ms);
    REQUIRE(first.poll_configuration());
    REQUIRE(first.configure(request({{"clock_profile_core_2", 100}})).ok());
    clock->advance(40ms);
    board second(test_config(100ms), clock);
    WHEN("the first board's snapshot is restored on the second") {
      second.restore(first.snapshot());
      THEN("the second has the same settings and settles at the same time") {
        CHECK(second.applied_settings() == first.applied_settings());
        REQUIRE(second.pending_settings().has_value());
        CHECK(*second.pending_settings() == *first.pending_settings());
        CHECK(second.time_until_settled() == 60ms);
        clock->advance(60ms);
        CHECK(second.poll_configuration());
        CHECK(second.applied_settings().cores[2].clock_mhz == 100);
      }
    }
  }
}

SCENARIO("a snapshot with a different core count is ignored") {
  GIVEN("a 4-core board and a snapshot of a 2-core cut of it") {
    auto clock = std::make_shared<virtual_clock>();
    board small(test_config(0ns), clock, 2);
    REQUIRE(small.configure(request({{"clock_profile", 100}})).ok());
    board full(test_config(0ns), clock);
    WHEN("the snapshot is restored on the 4-core board") {
      full.restore(small.snapshot());
      THEN("the 4-core board keeps its own settings") {
        CHECK(full.sub_devices() == 4);
        CHECK(full.applied_settings().clock_profile_mhz == 400);
      }
    }
  }
}

SCENARIO("a snapshot with values the board does not allow is ignored") {
  GIVEN("a snapshot whose clock profile is not one of the board's") {
    auto clock = std::make_shared<virtual_clock>();
    board b(test_config(), clock);
    board_snapshot stale = b.snapshot();
    stale.applied.clock_profile_mhz = 333;
    WHEN("it is restored") {
      b.restore(stale);
      THEN("the board keeps its settings") {
        CHECK(b.applied_settings().clock_profile_mhz == 400);
      }
    }
  }
}

SCENARIO("a cut-down board has only its first cores") {
  GIVEN("an m2 board restricted to 2 sub-devices") {
    auto clock = std::make_shared<virtual_clock>();
    board b(shipped("m2"), clock, 2);
    THEN("it has 2 cores and rejects core 2") {
      CHECK(b.sub_devices() == 2);
      CHECK(b.applied_settings().cores.size() == 2);
      auto state = b.configure(request({{"mvm_utilisation_core_2", 50}}));
      REQUIRE_FALSE(state.ok());
      CHECK(state.error().message == "core 2 is out of range: m2 has 2 cores (0-1)");
    }
  }
}

SCENARIO("a single-core board names its one core in range errors") {
  GIVEN("the shipped sbc board") {
    auto clock = std::make_shared<virtual_clock>();
    board b(shipped("sbc"), clock);
    WHEN("core 1 is configured") {
      auto state = b.configure(request({{"clock_profile_core_1", 800}}));
      THEN("the error says the board has one core") {
        REQUIRE_FALSE(state.ok());
        CHECK(state.error().message == "core 1 is out of range: sbc has 1 core (0)");
      }
    }
  }
}

SCENARIO("a core count above the kind's is clamped") {
  GIVEN("a 4-core kind asked for 9 sub-devices") {
    auto clock = std::make_shared<virtual_clock>();
    board b(test_config(), clock, 9);
    THEN("the board has 4 cores") { CHECK(b.sub_devices() == 4); }
  }
}

SCENARIO("configuration keys parse into a typed request") {
  GIVEN("a board-wide clock and per-core settings") {
    WHEN("they are parsed") {
      auto r = parse_configuration_request(
          {{"clock_profile", 800}, {"clock_profile_core_12", 400}, {"mvm_utilisation_core_0", 75}});
      THEN("each lands in its field") {
        REQUIRE(r.ok());
        CHECK(r->clock_profile_mhz == 800u);
        CHECK(r->core_clock_mhz == std::map<unsigned, unsigned>{{12, 400}});
        CHECK(r->core_mvm_utilisation_pct == std::map<unsigned, unsigned>{{0, 75}});
      }
    }
  }
}

SCENARIO("an unknown configuration key is rejected with the valid keys") {
  GIVEN("the American spelling of utilisation") {
    WHEN("it is parsed") {
      auto r = parse_configuration_request({{"mvm_utilization_core_0", 50}});
      THEN("it fails naming the key and listing the valid ones") {
        REQUIRE_FALSE(r.ok());
        CHECK(r.code() == errc::invalid_configuration);
        CHECK(r.error().message.find("'mvm_utilization_core_0'") != std::string::npos);
        CHECK(r.error().message.find("clock_profile_core_N") != std::string::npos);
        CHECK(r.error().message.find("mvm_utilisation_core_N") != std::string::npos);
      }
    }
  }
}

SCENARIO("a core index must be a plain decimal") {
  GIVEN("indices with a sign a leading zero a letter or nothing") {
    THEN("each one is rejected as malformed") {
      for (const char* key : {"clock_profile_core_+1", "clock_profile_core_01",
                              "mvm_utilisation_core_1a", "clock_profile_core_",
                              "clock_profile_core_99999999999"}) {
        CAPTURE(key);
        auto r = parse_configuration_request({{key, 100}});
        REQUIRE_FALSE(r.ok());
        CHECK(r.code() == errc::invalid_configuration);
        CHECK(r.error().message.find("malformed core index") != std::string::npos);
      }
    }
  }
}

SCENARIO("a negative configuration value is rejected") {
  GIVEN("a negative clock profile") {
    WHEN("it is parsed") {
      auto r = parse_configuration_request({{"clock_profile", -800}});
      THEN("it fails naming the key and the value") {
        REQUIRE_FALSE(r.ok());
        CHECK(r.code() == errc::invalid_configuration);
        CHECK(r.error().message ==
              "configuration value for 'clock_profile' must not be negative (got -800)");
      }
    }
  }
}

SCENARIO("settings flatten to the read_device_configuration keys") {
  GIVEN("settings for two cores") {
    board_settings s;
    s.clock_profile_mhz = 800;
    s.cores = {{800, 100}, {400, 60}};
    WHEN("they are flattened") {
      auto map = to_configuration_map(s);
      THEN("there is one board key and two per core") {
        CHECK(map == std::map<std::string, std::string>{{"clock_profile", "800"},
                                                        {"clock_profile_core_0", "800"},
                                                        {"clock_profile_core_1", "400"},
                                                        {"mvm_utilisation_core_0", "100"},
                                                        {"mvm_utilisation_core_1", "60"}});
      }
    }
  }
}
