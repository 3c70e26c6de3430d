// Process isolation (SupervisionOptions::process_isolation) with real worker processes:
// results equal the in-process ones bit for bit; a worker that dies of a segfault fails
// exactly the request in flight with DeviceFault naming the signal, and a new worker (a
// new process) serves the rest; closing completes everything; no worker outlives its
// runner; a missing worker executable fails the load clearly. Every wait is on a result,
// never a sleep.
#include <doctest/doctest.h>

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <sstream>
#include <vector>

#include "edgert/edgert.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace edgert;
using namespace std::chrono_literals;

std::string mnist_dir() { return std::string(EDGERT_TEST_DATA_DIR) + "/models/mnist_cnn/"; }

ContextOptions options_in(const test::temp_dir& dir) {
  ContextOptions options;
  options.runtime_dir = dir.path().string();
  options.board_config_dir = test::board_config_dir().string();
  options.system = "m2,host";
  return options;
}

RunnerOptions isolated(std::string device = "host", unsigned workers = 1) {
  RunnerOptions o;
  o.device = std::move(device);
  o.worker_num = workers;
  o.supervision.process_isolation = true;
  return o;
}

struct mnist {
  test::temp_dir dir;
  Context ctx{options_in(dir)};
  Model model = ctx.load_model(mnist_dir() + "model.onnx");
  Tensor input = load_npy(mnist_dir() + "input_0.npy");
};

// A deterministic input that differs per index.
Tensor pattern_input(int index) {
  Tensor t(DType::float32, {1, 1, 28, 28});
  float* p = t.data_as<float>();
  for (std::int64_t i = 0; i < t.elements(); ++i)
    p[i] = static_cast<float>(((i * 7 + index * 13) % 97)) / 97.0f - 0.5f;
  return t;
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.size_bytes() == b.size_bytes() && std::memcmp(a.data(), b.data(), a.size_bytes()) == 0;
}

// True when `pid` is no process at all (not even a zombie waiting to be reaped).
bool process_gone(int pid) { return ::kill(pid, 0) == -1 && errno == ESRCH; }

// The children of this process whose command is edgert-worker (from /proc).
std::vector<int> worker_children() {
  std::vector<int> found;
  const auto self = ::getpid();
  std::error_code ec;
  for (auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid ...
    const auto open = line.find('('), close = line.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    const std::string comm = line.substr(open + 1, close - open - 1);
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    int ppid = 0;
    rest >> state >> ppid;
    if (ppid == self && comm.rfind("edgert-worker", 0) == 0) found.push_back(std::stoi(name));
  }
  return found;
}

}  // namespace

TEST_CASE("an isolated runner gives the in-process results bit for bit") {
  mnist m;
  std::vector<Tensor> inputs{m.input};
  for (int i = 0; i < 5; ++i) inputs.push_back(pattern_input(i));
  std::vector<Tensor> expected;
  {
    auto local = m.ctx.create_runner(m.model);
    CHECK(m.ctx.sim().worker_pids(local).empty());
    for (auto& in : inputs) expected.push_back(local.run({in}).at(0));
  }  // the host device has two sub-devices: its lease goes here
  auto remote = m.ctx.create_runner(m.model, isolated());
  REQUIRE(m.ctx.sim().worker_pids(remote).size() == 1);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    auto got = remote.run({inputs[i]});
    REQUIRE(got.size() == 1);
    CHECK(got[0].shape() == expected[i].shape());
    CHECK(same_bytes(got[0], expected[i]));
  }
  // A model given as bytes reaches its worker as bytes.
  std::ifstream file(mnist_dir() + "model.onnx", std::ios::binary);
  std::ostringstream bytes;
  bytes << file.rdbuf();
  auto from_bytes = m.ctx.load_model_from_bytes(bytes.str());
  auto remote_bytes = m.ctx.create_runner(from_bytes, isolated());
  CHECK(same_bytes(remote_bytes.run({m.input})[0], expected[0]));
}

TEST_CASE("a worker crash fails the request in flight and a new worker serves the next") {
  mnist m;
  auto runner = m.ctx.create_runner(m.model, isolated());
  const auto expected = runner.run({m.input});
  const auto before = m.ctx.sim().worker_pids(runner);
  REQUIRE(before.size() == 1);

  m.ctx.sim().crash_worker(runner);
  auto crashed = runner.run_async({m.input}).get();
  INFO(crashed.message);
  CHECK(crashed.code == errc::device_fault);
  CHECK(crashed.message.find("worker process " + std::to_string(before[0])) != std::string::npos);
  CHECK(crashed.message.find(" of mnist_cnn on ") != std::string::npos);
  CHECK(crashed.message.find("signal 11 (SIGSEGV)") != std::string::npos);
  CHECK(process_gone(before[0]));  // reaped, not a zombie

  auto again = runner.run({m.input});
  CHECK(same_bytes(again[0], expected[0]));
  const auto after = m.ctx.sim().worker_pids(runner);
  REQUIRE(after.size() == 1);
  CHECK(after[0] != before[0]);
  const auto health = runner.health();
  CHECK(health.ok());
  CHECK(health.restarts_total == 1);
  CHECK(health.reason.find("SIGSEGV") != std::string::npos);
}

TEST_CASE("a hung worker is killed by its watchdog and a new worker serves the next") {
  mnist m;
  auto options = isolated();
  options.supervision.watchdog = std::chrono::milliseconds(300);
  auto runner = m.ctx.create_runner(m.model, options);
  const auto expected = runner.run({m.input});
  const auto before = m.ctx.sim().worker_pids(runner);
  REQUIRE(before.size() == 1);

  m.ctx.sim().hang_worker(runner);
  auto hung = runner.run_async({m.input}).get();
  INFO(hung.message);
  CHECK(hung.code == errc::timeout);
  CHECK(hung.message.find("worker process " + std::to_string(before[0])) != std::string::npos);
  CHECK(hung.message.find("watchdog of 300 ms") != std::string::npos);
  CHECK(process_gone(before[0]));

  auto again = runner.run({m.input});
  CHECK(same_bytes(again[0], expected[0]));
  const auto after = m.ctx.sim().worker_pids(runner);
  REQUIRE(after.size() == 1);
  CHECK(after[0] != before[0]);
  CHECK(runner.health().restarts_total == 1);
}

TEST_CASE("requests with one crash among them each complete exactly once") {
  mnist m;
  auto runner = m.ctx.create_runner(m.model, isolated("host", 2));
  const auto expected = runner.run({m.input});
  constexpr int n = 200;
  std::mutex mutex;
  std::vector<int> completions(n, 0);
  int results = 0, faults = 0, others = 0, wrong = 0;
  std::vector<std::future<void>> done;
  std::vector<std::promise<void>> promises(n);
  for (auto& p : promises) done.push_back(p.get_future());
  for (int i = 0; i < n; ++i) {
    if (i == n / 2) m.ctx.sim().crash_worker(runner);
    runner.run_async({m.input}, [&, i](RunResult r) {
      {
        std::lock_guard<std::mutex> guard(mutex);
        ++completions[i];
        if (r.ok()) {
          ++results;
          if (!same_bytes(r.outputs[0], expected[0])) ++wrong;
        } else if (r.code == errc::device_fault) {
          ++faults;
        } else {
          ++others;
        }
      }
      promises[i].set_value();
    });
  }
  for (auto& f : done) f.wait();
  std::lock_guard<std::mutex> guard(mutex);
  CHECK(results + faults + others == n);
  CHECK(faults == 1);
  CHECK(others == 0);
  CHECK(wrong == 0);
  for (int i = 0; i < n; ++i) CHECK(completions[i] == 1);
  CHECK(runner.health().restarts_total == 1);
}

TEST_CASE("a queue's worker crash fails one request and the queue serves on") {
  mnist m;
  QueueOptions o;
  o.supervision.process_isolation = true;
  o.input_queue_size = 8;
  o.output_queue_size = 64;
  auto queue = m.ctx.create_queue(m.model, o);
  m.ctx.sim().crash_worker(queue.submitter);
  for (std::uint64_t c = 0; c < 10; ++c) queue.submitter.submit({m.input}, c);
  queue.submitter.close();
  std::vector<int> seen(10, 0);
  int faults = 0, results = 0;
  while (auto r = queue.receiver.next(20s)) {
    REQUIRE(r->context < 10);
    ++seen[r->context];
    if (r->result.ok()) ++results;
    if (r->result.code == errc::device_fault) ++faults;
  }
  CHECK(faults == 1);
  CHECK(results == 9);
  for (int s : seen) CHECK(s == 1);
  CHECK(queue.health().restarts_total == 1);
}

TEST_CASE("closing an isolated runner with requests in flight completes all of them") {
  mnist m;
  auto runner = m.ctx.create_runner(m.model, isolated("host", 2));
  std::vector<std::future<RunResult>> futures;
  for (int i = 0; i < 64; ++i) futures.push_back(runner.run_async({pattern_input(i)}));
  CHECK(runner.close(20s));
  int ok = 0;
  for (auto& f : futures) {
    REQUIRE(f.wait_for(0s) == std::future_status::ready);
    if (f.get().ok()) ++ok;
  }
  CHECK(ok == 64);
}

TEST_CASE("no worker process outlives its runner") {
  std::set<int> pids;
  {
    mnist m;
    auto pair = m.ctx.create_runner(m.model, isolated("host", 2));
    for (int pid : m.ctx.sim().worker_pids(pair)) pids.insert(pid);
    CHECK(pids.size() == 2);
    CHECK(worker_children().size() == 2);
  }
  for (int pid : pids) CHECK(process_gone(pid));
  CHECK(worker_children().empty());

  pids.clear();
  {
    mnist m;
    auto runner = m.ctx.create_runner(m.model, isolated());
    for (int pid : m.ctx.sim().worker_pids(runner)) pids.insert(pid);
    m.ctx.sim().crash_worker(runner);
    CHECK(runner.run_async({m.input}).get().code == errc::device_fault);
    CHECK(runner.run({m.input}).size() == 1);  // the one unit's new worker serves it
    for (int pid : m.ctx.sim().worker_pids(runner)) pids.insert(pid);
    // A restarted unit whose worker never got a job: the runner must end it too.
    m.ctx.sim().crash_worker(runner);
    CHECK(runner.run_async({m.input}).get().code == errc::device_fault);
  }
  CHECK(pids.size() == 2);  // the first worker and its successor
  for (int pid : pids) CHECK(process_gone(pid));
  CHECK(worker_children().empty());
}

TEST_CASE("a worker crash on a simulated board restarts the unit and leaves the board alone") {
  mnist m;
  auto runner = m.ctx.create_runner(m.model, isolated("m2", 2));
  const auto expected = runner.run({m.input});
  m.ctx.sim().crash_worker(runner);
  auto crashed = runner.run_async({m.input}).get();
  INFO(crashed.message);
  CHECK(crashed.code == errc::device_fault);
  CHECK(crashed.message.find("SIGSEGV") != std::string::npos);
  CHECK(same_bytes(runner.run({m.input})[0], expected[0]));
  CHECK(runner.health().restarts_total == 1);
  const auto board = m.ctx.device_health("m2");
  CHECK(board.ok());
  CHECK(board.recoveries == 0);  // the board was not reset for the worker's crash
}

TEST_CASE("a model instance with process isolation computes in its workers") {
  mnist m;
  std::vector<Tensor> expected;
  {
    auto local = m.ctx.create_runner(m.model);
    expected = local.run({m.input});
  }
  auto connection = m.ctx.device_connect("m2", 2);
  ModelInstanceOptions o;
  o.supervision.process_isolation = true;
  auto instance = connection.load_model_instance(m.model, o);
  CHECK(worker_children().size() == 4);  // two units per sub-device (double buffering)
  std::vector<Tensor> outputs{Tensor(DType::float32, {1, 10})};
  instance.run({m.input}, outputs);
  CHECK(same_bytes(outputs[0], expected[0]));
}

TEST_CASE("crash injection needs an isolated model") {
  mnist m;
  auto runner = m.ctx.create_runner(m.model);
  CHECK_THROWS_AS(m.ctx.sim().crash_worker(runner), InvalidArgument);
}

TEST_CASE("a missing worker executable fails the load naming where it looked") {
  mnist m;
  const std::string missing = (m.dir.path() / "no-such-edgert-worker").string();
  ::setenv("EDGERT_WORKER", missing.c_str(), 1);
  std::string message;
  try {
    m.ctx.create_runner(m.model, isolated());
  } catch (const InvalidConfiguration& e) {
    message = e.what();
  }
  ::unsetenv("EDGERT_WORKER");
  CHECK(message.find(missing) != std::string::npos);
  CHECK(message.find("EDGERT_WORKER") != std::string::npos);
  // The environment back to normal, the worker beside the test binary is found again.
  auto runner = m.ctx.create_runner(m.model, isolated());
  CHECK(runner.run({m.input}).size() == 1);
}
