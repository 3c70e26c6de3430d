// The C++ facade end to end on the simulated system, in real time: listing, configuration
// that settles, errors as typed exceptions, leases within and across processes, release.
#include <doctest/doctest.h>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "edgert/edgert.hpp"
#include "support/temp_dir.hpp"

using namespace edgert;
using namespace std::chrono_literals;

namespace {

ContextOptions options_in(const test::temp_dir& dir, std::string system = {}) {
  ContextOptions options;
  options.runtime_dir = dir.path().string();
  options.board_config_dir = test::board_config_dir().string();
  options.system = std::move(system);
  return options;
}

// A second process that takes a lease through its own Context and then waits to be
// killed. Forked before this process starts any actor system of its own in the test.
struct lease_holding_child {
  pid_t pid = -1;

  lease_holding_child(const test::temp_dir& dir, const std::string& device) {
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      ::close(ready[0]);
      try {
        Context ctx(options_in(dir, "m2,sbc"));
        auto lease = ctx.device_connect(device, 1);
        char ok = 'y';
        (void)!::write(ready[1], &ok, 1);
        ::pause();
      } catch (...) {
      }
      ::_exit(1);
    }
    ::close(ready[1]);
    char answer = 'n';
    pollfd watch{ready[0], POLLIN, 0};
    REQUIRE(::poll(&watch, 1, 10000) == 1);
    REQUIRE(::read(ready[0], &answer, 1) == 1);
    ::close(ready[0]);
    REQUIRE(answer == 'y');
  }

  void kill_hard() {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    pid = -1;
  }

  ~lease_holding_child() {
    if (pid > 0) kill_hard();
  }
};

}  // namespace

SCENARIO("a context lists the default simulated system") {
  test::temp_dir dir;
  Context ctx(options_in(dir));
  auto devices = ctx.list_devices();
  REQUIRE(devices.size() == 6);
  CHECK(devices[0].name == "dev:0");
  CHECK(devices[0].board_type == BoardType::m2);
  CHECK(devices[0].sub_devices == 4);
  CHECK_FALSE(devices[0].firmware_version.empty());
  CHECK_FALSE(devices[0].board_revision.empty());
  CHECK(devices[0].max_memory > 0);
  CHECK(devices[4].fusable);
  CHECK(devices[5].board_type == BoardType::host);
  for (auto& d : devices) {
    CHECK(d.state == DeviceState::ready);
    CHECK_FALSE(d.in_use);
  }
}

SCENARIO("a clock change is pending, then ready, then visible in the configuration") {
  test::temp_dir dir;
  Context ctx(options_in(dir, "m2"));
  CHECK(ctx.device_ready("dev:0"));
  CHECK_FALSE(ctx.configure_device("dev:0", {{"clock_profile", 400}}));
  CHECK_FALSE(ctx.device_ready("dev:0"));
  CHECK(ctx.read_device_configuration("dev:0").at("pending") == "true");
  CHECK(ctx.device_info("dev:0").state == DeviceState::configuring);
  CHECK(ctx.wait_device_ready("dev:0", 10s));
  CHECK(ctx.device_ready("dev:0"));
  auto config = ctx.read_device_configuration("dev:0");
  CHECK(config.at("clock_profile") == "400");
  CHECK(config.at("pending") == "false");
  CHECK(ctx.device_info("dev:0").state == DeviceState::ready);
}

SCENARIO("configuration errors surface as typed exceptions") {
  test::temp_dir dir;
  Context ctx(options_in(dir, "m2,host"));
  CHECK_THROWS_AS(ctx.configure_device("dev:0", {{"clock_profile", 333}}), InvalidConfiguration);
  CHECK_THROWS_AS(ctx.configure_device("dev:0", {{"clock_profile_core_4", 400}}),
                  InvalidConfiguration);
  CHECK_THROWS_AS(ctx.configure_device("dev:0", {{"mvm_utilisation_core_0", 101}}),
                  InvalidConfiguration);
  CHECK_THROWS_AS(ctx.configure_device("dev:0", {{"overclock", 1}}), InvalidConfiguration);
  CHECK_THROWS_AS(ctx.configure_device("dev:1", {{"clock_profile", 400}}), NotImplemented);
  CHECK_THROWS_AS(ctx.device_ready("dev:7"), InvalidArgument);
  CHECK(ctx.device_ready("dev:0"));
}

SCENARIO("configuration persists across contexts through the runtime directory") {
  test::temp_dir dir;
  {
    Context first(options_in(dir, "m2"));
    CHECK_FALSE(first.configure_device("m2-0", {{"clock_profile_core_1", 200}}));
  }
  Context second(options_in(dir, "sbc,m2"));  // same board, another name in this system
  CHECK(second.wait_device_ready("m2-0", 10s));
  CHECK(second.read_device_configuration("dev:1").at("clock_profile_core_1") == "200");
}

SCENARIO("a reset returns a board to its defaults") {
  test::temp_dir dir;
  Context ctx(options_in(dir, "m2"));
  ctx.configure_device("dev:0", {{"clock_profile", 200}});
  REQUIRE(ctx.wait_device_ready("dev:0", 10s));
  ctx.reset_device("dev:0");
  CHECK(ctx.read_device_configuration("dev:0").at("clock_profile") == "800");
}

SCENARIO("leases within one process: held, named, contended and released") {
  test::temp_dir dir;
  Context ctx(options_in(dir, "m2"));
  auto lease = ctx.device_connect("dev:0", 3);
  CHECK(lease.sub_devices() == std::vector<unsigned>{0, 1, 2});
  auto info = ctx.device_info("dev:0");
  CHECK(info.in_use);
  CHECK(info.in_use_by.find("pid " + std::to_string(::getpid())) != std::string::npos);
  CHECK(info.sub_device_holders[3].empty());
  {
    Context other(options_in(dir, "m2"));
    CHECK_THROWS_AS(other.device_connect("dev:0", 2), DeviceInUse);
    auto last = other.device_connect("dev:0", 1);
    CHECK(last.sub_devices() == std::vector<unsigned>{3});
  }
  lease.release();
  CHECK(lease.released());
  CHECK_FALSE(ctx.device_info("dev:0").in_use);
  CHECK(ctx.device_connect("dev:0", 4).sub_devices().size() == 4);
}

SCENARIO("explicit sub-devices and bad lease requests") {
  test::temp_dir dir;
  Context ctx(options_in(dir, "m2"));
  auto pair = ctx.device_connect("dev:0:1-2", 0);
  CHECK(pair.sub_devices() == std::vector<unsigned>{1, 2});
  CHECK_THROWS_AS(ctx.device_connect("dev:0:1", 1), DeviceInUse);
  CHECK_THROWS_AS(ctx.device_connect("dev:0:0-1", 3), InvalidArgument);
  CHECK_THROWS_AS(ctx.device_connect("dev:0:9", 0), InvalidArgument);
  CHECK_THROWS_AS(ctx.device_connect("dev:0", 0), InvalidArgument);
  CHECK_THROWS_AS(ctx.device_connect("dev:0", 9), InvalidArgument);
  CHECK_THROWS_AS(ctx.device_connect("m2(2)", 1), InvalidArgument);
  CHECK_THROWS_AS(ctx.device_connect("dev:0,dev:0", 1), InvalidArgument);
}

SCENARIO("a lease held by another process names it, and is reclaimed when it dies") {
  test::temp_dir dir;
  lease_holding_child child(dir, "sbc");
  {
    Context ctx(options_in(dir, "m2,sbc"));
    try {
      ctx.device_connect("sbc", 1);
      FAIL("the lease should be held by the child");
    } catch (const DeviceInUse& e) {
      CHECK(std::string(e.what()).find("pid " + std::to_string(child.pid)) != std::string::npos);
    }
    auto info = ctx.device_info("sbc");
    CHECK(info.in_use);
    CHECK(info.in_use_by.find("pid " + std::to_string(child.pid)) != std::string::npos);
  }
  child.kill_hard();
  Context ctx(options_in(dir, "m2,sbc"));
  CHECK_FALSE(ctx.device_info("sbc").in_use);
  CHECK(ctx.device_connect("sbc", 1).sub_devices() == std::vector<unsigned>{0});
}

SCENARIO("a released context refuses calls and frees its leases") {
  test::temp_dir dir;
  Context ctx(options_in(dir, "m2"));
  auto lease = ctx.device_connect("dev:0", 4);
  ctx.release();
  CHECK(ctx.released());
  CHECK_THROWS_AS(ctx.list_devices(), Closed);
  CHECK_THROWS_AS(ctx.device_ready("dev:0"), Closed);
  CHECK_NOTHROW(lease.release());
  CHECK_NOTHROW(ctx.release());
  Context again(options_in(dir, "m2"));
  CHECK(again.device_connect("dev:0", 4).sub_devices().size() == 4);
}

SCENARIO("bad context options are refused clearly") {
  test::temp_dir dir;
  auto bad_system = options_in(dir, "m2*0");
  CHECK_THROWS_AS(Context{bad_system}, InvalidArgument);
  auto unknown_kind = options_in(dir, "quantum");
  CHECK_THROWS_WITH_AS(Context{unknown_kind}, doctest::Contains("quantum"), InvalidArgument);
  auto no_boards = options_in(dir);
  no_boards.board_config_dir = (dir.path() / "missing").string();
  CHECK_THROWS_AS(Context{no_boards}, IoError);
  auto bad_policy = options_in(dir);
  bad_policy.scheduler.policy = "round-robin";
  CHECK_THROWS_AS(Context{bad_policy}, InvalidArgument);
  auto bad_timeout = options_in(dir);
  bad_timeout.request_timeout = 0ms;
  CHECK_THROWS_AS(Context{bad_timeout}, InvalidArgument);
}

SCENARIO("many threads may use one context at once") {
  test::temp_dir dir;
  Context ctx(options_in(dir, "m2,sbc,host"));
  std::atomic<int> ready_answers{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i)
        if (ctx.device_ready("dev:" + std::to_string((t + i) % 3))) ++ready_answers;
    });
  for (auto& th : threads) th.join();
  CHECK(ready_answers == 8 * 200);
}

SCENARIO("a reconfiguration started by another context shows as configuring") {
  test::temp_dir dir;
  Context watcher(options_in(dir, "m2"));
  Context changer(options_in(dir, "m2"));
  REQUIRE(watcher.device_info("dev:0").state == DeviceState::ready);
  CHECK_FALSE(changer.configure_device("dev:0", {{"clock_profile", 600}}));
  CHECK_FALSE(watcher.device_ready("dev:0"));
  CHECK(watcher.device_info("dev:0").state == DeviceState::configuring);
  CHECK(watcher.wait_device_ready("dev:0", 10s));
  CHECK(watcher.device_info("dev:0").state == DeviceState::ready);
  CHECK(watcher.read_device_configuration("dev:0").at("clock_profile") == "600");
}
