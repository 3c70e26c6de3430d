// Deterministic tests of the runtime actor: it builds one device actor per board, lists
// them with their leases, and resolves every form of device name.
#include "support/scenario.hpp"

#include "actors/runtime_actor.hpp"
#include "drivers/sim_driver.hpp"
#include "sim/board_config.hpp"
#include "support/actor_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace edgert;
using namespace std::chrono_literals;

namespace {

struct runtime_fixture : test::actor_fixture {
  test::temp_dir runtime_dir;

  runtime_actor spawn_system(const std::string& spec) {
    system_options options;
    options.spec = spec;
    options.board_configs = *sim::load_board_configs(test::board_config_dir());
    options.clock = clock;
    options.leases = *lease_registry::open(runtime_dir.path());
    auto built = build_system(options);
    REQUIRE(built.ok());
    std::vector<std::shared_ptr<driver>> drivers;
    for (auto& d : *built) drivers.push_back(std::move(d));
    auto runtime = keep(spawn_runtime_actor(sys, std::move(drivers)));
    run();
    return runtime;
  }

  test::answer<std::string> lookup_name(const runtime_actor& runtime, const std::string& text) {
    self->send(runtime, lookup_atom::value, text);
    run();
    test::answer<std::string> out;
    self->receive([&](device_actor&, std::string& name) { out.content = std::move(name); },
                  [&](caf::error& e) { out.content = from_caf_error(e); },
                  caf::after(std::chrono::seconds(0)) >> [] {});
    return out;
  }
};

}  // namespace

SCENARIO_FIXTURE(runtime_fixture, "the runtime lists every board of its system") {
  GIVEN("a system of two M.2 cards, an SBC and the host") {
    auto runtime = spawn_system("m2*2,sbc,host");
    WHEN("it is asked for its devices") {
      auto all = ask<std::vector<device_status>>(runtime, list_atom::value);
      REQUIRE(all.ok());
      auto& devices = all.value();
      THEN("each board appears once, in order, ready and free") {
        REQUIRE(devices.size() == 4);
        CHECK(devices[0].name == "dev:0");
        CHECK(devices[0].id == "m2-0");
        CHECK(devices[1].id == "m2-1");
        CHECK(devices[2].id == "sbc-0");
        CHECK(devices[2].sub_devices == 1);
        CHECK(devices[3].board_type == "host");
        for (auto& d : devices) {
          CHECK(d.state == device_state::ready);
          CHECK(d.holders.size() == d.sub_devices);
          for (auto& h : d.holders) CHECK(h.empty());
        }
      }
    }
    THEN("it answers online once every device has started") {
      CHECK(ask<bool>(runtime, online_atom::value).value());
    }
  }
}

SCENARIO_FIXTURE(runtime_fixture, "device names resolve in every documented form") {
  GIVEN("a system of two M.2 cards and an SBC") {
    auto runtime = spawn_system("m2*2,sbc");
    THEN("dev:X, a bare index, a board id and a unique kind all resolve") {
      CHECK(lookup_name(runtime, "dev:1").value() == "dev:1");
      CHECK(lookup_name(runtime, "2").value() == "dev:2");
      CHECK(lookup_name(runtime, "m2-1").value() == "dev:1");
      CHECK(lookup_name(runtime, "sbc").value() == "dev:2");
    }
    THEN("an ambiguous kind is refused listing the boards") {
      auto r = lookup_name(runtime, "m2");
      CHECK(r.code() == errc::invalid_argument);
      CHECK(r.message().find("m2-0") != std::string::npos);
    }
    THEN("an unknown name is refused listing the known devices") {
      auto r = lookup_name(runtime, "dev:9");
      CHECK(r.code() == errc::invalid_argument);
      CHECK(r.message().find("dev:2 (sbc-0)") != std::string::npos);
    }
  }
}

SCENARIO_FIXTURE(runtime_fixture, "a listing shows leases taken through a device") {
  GIVEN("a system with one M.2 card") {
    auto runtime = spawn_system("m2");
    self->send(runtime, lookup_atom::value, std::string("dev:0"));
    run();
    device_actor dev;
    self->receive([&](device_actor& d, std::string&) { dev = d; });
    lease_holder holder;
    holder.pid = 4242;
    holder.user = "ops";
    holder.program = "maintenance";
    holder.since = "2026-11-22T00:00:00Z";
    REQUIRE(ask<lease_grant>(dev, connect_atom::value, std::vector<unsigned>{2}, 0u, holder).ok());
    WHEN("the devices are listed") {
      auto devices = ask<std::vector<device_status>>(runtime, list_atom::value).value();
      THEN("the leased sub-device names its holder and the others are free") {
        REQUIRE(devices.size() == 1);
        CHECK(devices[0].holders[2].find("pid 4242") != std::string::npos);
        CHECK(devices[0].holders[2].find("maintenance") != std::string::npos);
        CHECK(devices[0].holders[0].empty());
      }
    }
  }
}

SCENARIO_FIXTURE(runtime_fixture, "a device whose actor stopped is reported, not hidden") {
  GIVEN("a system with two boards, one of whose device actors is killed") {
    auto runtime = spawn_system("m2,sbc");
    self->send(runtime, lookup_atom::value, std::string("sbc"));
    run();
    device_actor dev;
    self->receive([&](device_actor& d, std::string&) { dev = d; });
    self->send_exit(dev, caf::exit_reason::kill);
    run();
    THEN("the listing still has it, faulted, and a lookup fails with connection_error") {
      auto devices = ask<std::vector<device_status>>(runtime, list_atom::value).value();
      REQUIRE(devices.size() == 2);
      CHECK(devices[0].state == device_state::ready);
      CHECK(devices[1].state == device_state::faulted);
      CHECK(devices[1].fault == "device actor stopped");
      CHECK(lookup_name(runtime, "sbc").code() == errc::connection_error);
    }
  }
}
