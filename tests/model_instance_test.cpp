// ModelInstance on a Connection: synchronous runs, buffers passed as file descriptors,
// schedule() with sequence ids, completion polling, completion fds and the error tracker.
#include <doctest/doctest.h>
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <set>
#include <vector>

#include "edgert/edgert.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace edgert;
using namespace std::chrono_literals;

std::string mnist_dir() { return std::string(EDGERT_TEST_DATA_DIR) + "/models/mnist_cnn/"; }

// The largest difference between a float32 output and the generator's float64 reference.
double max_abs_diff(const Tensor& a, const Tensor& reference) {
  REQUIRE(a.dtype() == DType::float32);
  REQUIRE(reference.dtype() == DType::float64);
  double worst = 0;
  for (std::int64_t i = 0; i < reference.elements(); ++i)
    worst = std::max(worst, std::fabs(a.data_as<float>()[i] - reference.data_as<double>()[i]));
  return worst;
}

struct fixture {
  test::temp_dir dir;
  Context ctx{[&] {
    ContextOptions o;
    o.runtime_dir = dir.path().string();
    o.board_config_dir = test::board_config_dir().string();
    o.system = "m2,host";
    return o;
  }()};
  Model model = ctx.load_model(mnist_dir() + "model.onnx");
  Tensor input = load_npy(mnist_dir() + "input_0.npy");
  Tensor expected = load_npy(mnist_dir() + "expected_output_0.npy");
};

}  // namespace

SCENARIO("a model instance on a connection runs synchronously into the caller's outputs") {
  fixture f;
  auto connection = f.ctx.device_connect("m2", 2);
  auto instance = connection.load_model_instance(f.model);
  std::vector<Tensor> outputs{Tensor(DType::float32, {1, 10})};
  instance.run({f.input}, outputs);
  CHECK(max_abs_diff(outputs[0], f.expected) < 1e-3);
}

SCENARIO("scheduled requests get increasing ids and complete into their outputs") {
  fixture f;
  auto connection = f.ctx.device_connect("host", 1);
  auto instance = connection.load_model_instance(f.model);
  std::vector<std::vector<Tensor>> outputs(5, std::vector<Tensor>{Tensor(DType::float32, {1, 10})});
  std::vector<std::uint64_t> ids;
  for (auto& o : outputs) ids.push_back(instance.schedule({f.input}, o));
  for (std::size_t i = 1; i < ids.size(); ++i) CHECK(ids[i] > ids[i - 1]);
  std::set<std::uint64_t> units;
  for (auto id : ids) units.insert(id >> 48);
  CHECK(units.size() == 1);
  CHECK(*units.begin() != 0);
  for (auto id : ids) CHECK(instance.wait(id, 10s));
  for (auto id : ids) CHECK(instance.is_completed(id));
  for (auto& o : outputs) CHECK(max_abs_diff(o[0], f.expected) < 1e-3);
  CHECK(instance.take_errors().empty());
}

SCENARIO("a completion fd becomes readable when its request completes") {
  fixture f;
  auto connection = f.ctx.device_connect("host", 1);
  auto instance = connection.load_model_instance(f.model);
  std::vector<Tensor> outputs{Tensor(DType::float32, {1, 10})};
  const auto id = instance.schedule({f.input}, outputs);
  const int fd = instance.completion_fd(id);
  REQUIRE(fd >= 0);
  pollfd p{fd, POLLIN, 0};
  CHECK(::poll(&p, 1, 10000) == 1);
  CHECK((p.revents & POLLIN) != 0);
  CHECK(instance.is_completed(id));
  ::close(fd);
  // Asked after completion: readable at once.
  const int late = instance.completion_fd(id);
  pollfd q{late, POLLIN, 0};
  CHECK(::poll(&q, 1, 0) == 1);
  ::close(late);
}

SCENARIO("ids an instance never issued are refused") {
  fixture f;
  auto connection = f.ctx.device_connect("host", 1);
  auto instance = connection.load_model_instance(f.model);
  CHECK_THROWS_AS(instance.is_completed(12345), InvalidArgument);
  std::vector<Tensor> outputs{Tensor(DType::float32, {1, 10})};
  const auto id = instance.schedule({f.input}, outputs);
  CHECK_THROWS_AS(instance.is_completed(id + 1), InvalidArgument);
  CHECK(instance.wait(id, 10s));
}

SCENARIO("buffers passed as memfd file descriptors are read and written in place") {
  fixture f;
  auto connection = f.ctx.device_connect("host", 1);
  ModelInstanceOptions options;
  options.input_dmabuf = true;
  options.output_dmabuf = true;
  auto instance = connection.load_model_instance(f.model, options);
  const int in_fd = ::memfd_create("edgert-input", MFD_CLOEXEC);
  const int out_fd = ::memfd_create("edgert-output", MFD_CLOEXEC);
  REQUIRE(in_fd >= 0);
  REQUIRE(out_fd >= 0);
  REQUIRE(::ftruncate(in_fd, static_cast<off_t>(f.input.size_bytes())) == 0);
  REQUIRE(::ftruncate(out_fd, 40) == 0);
  REQUIRE(::pwrite(in_fd, f.input.data(), f.input.size_bytes(), 0) ==
          static_cast<ssize_t>(f.input.size_bytes()));
  instance.run_fds({in_fd}, {out_fd});
  Tensor got(DType::float32, {1, 10});
  REQUIRE(::pread(out_fd, got.data(), 40, 0) == 40);
  CHECK(max_abs_diff(got, f.expected) < 1e-3);
  CHECK_THROWS_AS(instance.run_fds({in_fd}, {}), InvalidArgument);
  CHECK_THROWS_AS(instance.run_fds({-1}, {out_fd}), InvalidArgument);
  const int small = ::memfd_create("edgert-small", MFD_CLOEXEC);
  REQUIRE(::ftruncate(small, 8) == 0);
  CHECK_THROWS_AS(instance.run_fds({small}, {out_fd}), InvalidArgument);
  ::close(small);
  ::close(in_fd);
  ::close(out_fd);
}

SCENARIO("instance options beyond the connection are refused") {
  fixture f;
  auto connection = f.ctx.device_connect("m2", 1);
  ModelInstanceOptions too_many;
  too_many.num_sub_devices = 2;
  CHECK_THROWS_AS(connection.load_model_instance(f.model, too_many), InvalidArgument);
  ModelInstanceOptions no_runtimes;
  no_runtimes.num_runtimes = 0;
  CHECK_THROWS_AS(connection.load_model_instance(f.model, no_runtimes), InvalidArgument);
  connection.release();
  CHECK_THROWS_AS(connection.load_model_instance(f.model), Closed);
}
