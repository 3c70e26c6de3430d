// Serving a model through the public API: Runner (sync, async, batch, many threads) and
// Queue (submit, allocate in place, receive each result once), on the host device and on a
// simulated board, with the committed MNIST model and its reference output.
#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <map>
#include <thread>
#include <vector>

#include "edgert/edgert.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace edgert;
using namespace std::chrono_literals;

std::string mnist_dir() { return std::string(EDGERT_TEST_DATA_DIR) + "/models/mnist_cnn/"; }

ContextOptions options_in(const test::temp_dir& dir, std::string system = "m2,host") {
  ContextOptions options;
  options.runtime_dir = dir.path().string();
  options.board_config_dir = test::board_config_dir().string();
  options.system = std::move(system);
  return options;
}

// The largest difference between float32 outputs (from `offset`) and a reference, which
// the generator stores as float64.
double max_abs_diff(const Tensor& a, const Tensor& reference, std::int64_t offset = 0) {
  // No REQUIRE here: client threads call this, and a mismatch must read as a failure.
  if (a.dtype() != DType::float32 || reference.dtype() != DType::float64) return 1e30;
  double worst = 0;
  for (std::int64_t i = 0; i < reference.elements(); ++i)
    worst = std::max(worst, std::fabs(a.data_as<float>()[offset + i] - reference.data_as<double>()[i]));
  return worst;
}

struct mnist {
  test::temp_dir dir;
  Context ctx{options_in(dir)};
  Model model = ctx.load_model(mnist_dir() + "model.onnx");
  Tensor input = load_npy(mnist_dir() + "input_0.npy");
  Tensor expected = load_npy(mnist_dir() + "expected_output_0.npy");
};

}  // namespace

SCENARIO("a loaded model describes its inputs and outputs") {
  mnist m;
  REQUIRE(m.model.inputs().size() == 1);
  CHECK(m.model.inputs()[0].name == "input");
  CHECK(m.model.inputs()[0].dtype == DType::float32);
  CHECK(m.model.inputs()[0].shape == Shape{1, 1, 28, 28});
  CHECK(m.model.inputs()[0].size_bytes() == 28 * 28 * 4);
  CHECK(m.model.outputs()[0].shape == Shape{1, 10});
  CHECK(m.model.macs() > 0);
  CHECK(m.model.summary().find("input") != std::string::npos);
}

SCENARIO("loading a missing or corrupt model fails clearly") {
  mnist m;
  CHECK_THROWS_AS(m.ctx.load_model(m.dir.path() / "absent.onnx"), InvalidArgument);
  CHECK_THROWS_AS(m.ctx.load_model_from_bytes("not a model"), InvalidArgument);
}

SCENARIO("a runner on the host device reproduces the reference output") {
  mnist m;
  auto runner = m.ctx.create_runner(m.model);
  auto outputs = runner.run({m.input});
  REQUIRE(outputs.size() == 1);
  CHECK(outputs[0].shape() == Shape{1, 10});
  CHECK(max_abs_diff(outputs[0], m.expected) < 1e-3);

  Tensor into(DType::float32, {1, 10});
  std::vector<Tensor> out{into};
  runner.run({m.input}, out);
  CHECK(max_abs_diff(into, m.expected) < 1e-3);
  CHECK(runner.close());
  CHECK(runner.closed());
  CHECK_THROWS_AS(runner.run({m.input}), Closed);
}

SCENARIO("a runner on a simulated board computes the same outputs and holds its lease") {
  mnist m;
  RunnerOptions options;
  options.device = "m2";
  options.worker_num = 2;
  auto runner = m.ctx.create_runner(m.model, options);
  CHECK(m.ctx.device_info("m2").in_use);
  auto outputs = runner.run({m.input});
  CHECK(max_abs_diff(outputs[0], m.expected) < 1e-3);
}

SCENARIO("runs in flight from many threads each complete once with the right output") {
  mnist m;
  RunnerOptions options;
  options.worker_num = 2;
  options.max_in_flight = 8;
  auto runner = m.ctx.create_runner(m.model, options);
  std::atomic<int> right{0}, calls{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c)
    clients.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        auto f = runner.run_async({m.input});
        auto r = f.get();
        if (r.ok() && max_abs_diff(r.outputs[0], m.expected) < 1e-3) right.fetch_add(1);
        runner.run_async({m.input}, [&](RunResult r2) {
          if (r2.ok() && max_abs_diff(r2.outputs[0], m.expected) < 1e-3) right.fetch_add(1);
          calls.fetch_add(1);
        });
      }
    });
  for (auto& c : clients) c.join();
  CHECK(runner.close(10s));  // waits for the callbacks still in flight
  CHECK(calls.load() == 100);
  CHECK(right.load() == 200);
}

SCENARIO("batch_size multiplies the first dimension") {
  mnist m;
  RunnerOptions options;
  options.batch_size = 2;
  auto runner = m.ctx.create_runner(m.model, options);
  CHECK(runner.inputs()[0].shape == Shape{2, 1, 28, 28});
  Tensor batch(DType::float32, {2, 1, 28, 28});
  std::memcpy(batch.data(), m.input.data(), m.input.size_bytes());
  std::memcpy(batch.data_as<float>() + 28 * 28, m.input.data(), m.input.size_bytes());
  auto outputs = runner.run({batch});
  CHECK(outputs[0].shape() == Shape{2, 10});
  CHECK(max_abs_diff(outputs[0], m.expected, 0) < 1e-3);
  CHECK(max_abs_diff(outputs[0], m.expected, 10) < 1e-3);
}

SCENARIO("inputs that do not match the model are refused before anything runs") {
  mnist m;
  auto runner = m.ctx.create_runner(m.model);
  CHECK_THROWS_AS(runner.run({}), InvalidArgument);
  CHECK_THROWS_AS(runner.run({m.input, m.input}), InvalidArgument);
  CHECK_THROWS_AS(runner.run({Tensor(DType::int8, {1, 1, 28, 28})}), InvalidArgument);
  CHECK_THROWS_AS(runner.run({Tensor(DType::float32, {1, 1, 28, 27})}), InvalidArgument);
  CHECK_THROWS_AS(Tensor::view(DType::float32, {1, 1, 28, 28}, nullptr), InvalidArgument);
  std::vector<Tensor> wrong_outputs{Tensor(DType::float32, {1, 9})};
  CHECK_THROWS_AS(runner.run({m.input}, wrong_outputs), InvalidArgument);
  // The runner still works afterwards.
  CHECK(max_abs_diff(runner.run({m.input})[0], m.expected) < 1e-3);
}

SCENARIO("bad serving options and devices are refused clearly") {
  mnist m;
  RunnerOptions zero_workers;
  zero_workers.worker_num = 0;
  CHECK_THROWS_AS(m.ctx.create_runner(m.model, zero_workers), InvalidArgument);
  RunnerOptions unknown_device;
  unknown_device.device = "dev:99";
  CHECK_THROWS_AS(m.ctx.create_runner(m.model, unknown_device), InvalidArgument);
  RunnerOptions too_many;
  too_many.device = "m2";
  too_many.worker_num = 5;  // the M.2 board has 4 cores
  CHECK_THROWS(m.ctx.create_runner(m.model, too_many));
  RunnerOptions several_boards;
  several_boards.device = "m2(2)*2";  // runners serve on one board
  CHECK_THROWS_AS(m.ctx.create_runner(m.model, several_boards), InvalidArgument);
  RunnerOptions no_such_core;
  no_such_core.device = "m2:7";
  CHECK_THROWS(m.ctx.create_runner(m.model, no_such_core));
  QueueOptions no_room;
  no_room.input_queue_size = 0;
  CHECK_THROWS_AS(m.ctx.create_queue(m.model, no_room), InvalidArgument);
}

SCENARIO("a queue returns every submitted request once with its context") {
  mnist m;
  QueueOptions options;
  options.worker_num = 2;
  options.input_queue_size = 4;
  options.output_queue_size = 4;
  auto queue = m.ctx.create_queue(m.model, options);
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < 60; ++i) {
      if (i % 2 == 0) {
        queue.submitter.submit({m.input}, i);
      } else {
        auto slot = queue.submitter.allocate();  // written in place: no copy on submit
        std::memcpy(slot[0].data(), m.input.data(), m.input.size_bytes());
        queue.submitter.submit(std::move(slot), i);
      }
    }
    queue.submitter.close();
  });
  std::map<std::uint64_t, int> seen;
  int right = 0;
  while (auto r = queue.receiver.next(10s)) {
    ++seen[r->context];
    if (r->result.ok() && max_abs_diff(r->result.outputs[0], m.expected) < 1e-3) ++right;
  }
  producer.join();
  CHECK(seen.size() == 60);
  CHECK(right == 60);
  bool once = true;
  for (auto& [context, n] : seen) once = once && n == 1;
  CHECK(once);
  CHECK_THROWS_AS(queue.receiver.recv(10ms), Closed);
}

SCENARIO("a receiver with nothing to receive times out") {
  mnist m;
  auto queue = m.ctx.create_queue(m.model);
  CHECK_THROWS_AS(queue.receiver.recv(5ms), Timeout);
}

SCENARIO("a closed runner frees its sub-devices") {
  mnist m;
  RunnerOptions options;
  options.device = "m2";
  options.worker_num = 4;
  {
    auto runner = m.ctx.create_runner(m.model, options);
    CHECK(m.ctx.device_info("m2").in_use);
    CHECK_THROWS_AS(m.ctx.create_runner(m.model, options), DeviceInUse);
  }
  CHECK_FALSE(m.ctx.device_info("m2").in_use);
}

SCENARIO("a simulated board reports device time that shrinks with a higher clock profile") {
  mnist m;
  RunnerOptions options;
  options.device = "m2";
  auto device_time_at = [&](std::int64_t mhz) {
    if (!m.ctx.configure_device("m2", {{"clock_profile", mhz}}))
      REQUIRE(m.ctx.wait_device_ready("m2", 10s));
    auto runner = m.ctx.create_runner(m.model, options);
    auto result = runner.run_async({m.input}).get();
    REQUIRE(result.ok());
    return result.device_time_ns;
  };
  const auto slow = device_time_at(400);
  const auto fast = device_time_at(800);
  CHECK(slow > 0);
  CHECK(fast < slow);
  CHECK(device_time_at(400) == slow);  // modelled, not measured: the same every time
}
