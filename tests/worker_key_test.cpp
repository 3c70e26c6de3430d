// A worker process of process isolation takes jobs only from its parent: another local
// process that finds the worker's loopback port and sends it a job, even one asking for an
// injected crash, is refused, and the worker keeps serving its parent.
//
// The test plays that other process: it finds the worker's listening port through /proc and
// talks to it over CAF's io module with a key of its own.
#include <doctest/doctest.h>

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <cstring>
#include <sstream>
#include <string>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/exec/worker_protocol.hpp"
#include "edgert/edgert.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace edgert;
using namespace std::chrono_literals;

// The TCP port `pid` listens on (0 when none): its socket inodes from /proc/PID/fd, matched
// against the listening sockets of /proc/net/tcp.
unsigned listening_port(int pid) {
  std::set<std::string> inodes;
  std::error_code ec;
  for (auto& fd : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    const auto target = std::filesystem::read_symlink(fd.path(), ec).string();
    if (target.rfind("socket:[", 0) == 0) inodes.insert(target.substr(8, target.size() - 9));
  }
  std::ifstream tcp("/proc/net/tcp");
  std::string line;
  std::getline(tcp, line);  // the header
  while (std::getline(tcp, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
    fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
    if (state == "0A" && inodes.count(inode))  // 0A: LISTEN
      return static_cast<unsigned>(std::stoul(local.substr(local.find(':') + 1), nullptr, 16));
  }
  return 0;
}

}  // namespace

TEST_CASE("a worker process refuses a job that does not carry its parent's key") {
  test::temp_dir dir;
  ContextOptions options;
  options.runtime_dir = dir.path().string();
  options.board_config_dir = test::board_config_dir().string();
  options.system = "host";
  Context ctx(options);
  auto model = ctx.load_model(std::string(EDGERT_TEST_DATA_DIR) + "/models/mnist_cnn/model.onnx");
  RunnerOptions ro;
  ro.supervision.process_isolation = true;
  auto runner = ctx.create_runner(model, ro);
  auto input = load_npy(std::string(EDGERT_TEST_DATA_DIR) + "/models/mnist_cnn/input_0.npy");
  const auto expected = runner.run({input});
  const auto pids = ctx.sim().worker_pids(runner);
  REQUIRE(pids.size() == 1);
  const unsigned port = listening_port(pids[0]);
  REQUIRE(port != 0);

  caf::actor_system_config config;
  exec::configure_worker_link(config);
  caf::actor_system system{config};
  caf::scoped_actor self{system};
  caf::actor worker;
  self->request(system.middleman().actor_handle(), std::chrono::seconds(10), caf::connect_atom_v,
                std::string("127.0.0.1"), static_cast<std::uint16_t>(port))
      .receive(
          [&](caf::node_id&, caf::strong_actor_ptr& found, std::set<std::string>&) {
            worker = caf::actor_cast<caf::actor>(std::move(found));
          },
          [&](caf::error& e) { FAIL("cannot connect to the worker: " << system.render(e)); });
  REQUIRE(worker);

  bool refused = false;
  self->request(worker, std::chrono::seconds(10), exec::worker_job_atom::value, std::uint64_t{1},
                static_cast<std::int32_t>(exec::worker_fault::crash), std::uint64_t{0x1234})
      .receive(
          [&](exec::worker_fail_atom, std::uint64_t, std::int32_t code, std::string& message) {
            refused = true;
            CHECK(code == static_cast<std::int32_t>(errc::invalid_argument));
            CHECK(message.find("only takes jobs from its parent") != std::string::npos);
          },
          [&](caf::error& e) { FAIL("no answer from the worker: " << system.render(e)); });
  CHECK(refused);
  CHECK(::kill(pids[0], 0) == 0);  // the crash it asked for did not happen

  // The parent's jobs go on, on the same worker.
  auto again = runner.run({input});
  REQUIRE(again.size() == 1);
  CHECK(std::memcmp(again[0].data(), expected[0].data(), expected[0].size_bytes()) == 0);
  CHECK(ctx.sim().worker_pids(runner) == pids);
}
