// The committed MNIST models (tests/data/models) through engine::plan: the float model
// within the generator's tolerance of its float64 reference on the fast path and on the
// reference-only path, at 1 and 2 threads; the quantized models (which the plan runs
// on the int8 backend) exactly. MobileNetV2 and ResNet-18 are too big to generate
// for a unit test; bench/engine_latency checks them against their expected outputs.
#include <doctest/doctest.h>

#include <cstring>
#include <memory>

#include "engine/conformance.hpp"
#include "engine/npy.hpp"
#include "engine/onnx_loader.hpp"
#include "engine/plan.hpp"

using namespace edgert::engine;

namespace {

std::filesystem::path model_dir(const char* name) {
  return std::filesystem::path(EDGERT_TEST_DATA_DIR) / "models" / name;
}

// Runs a model's sample input through a plan made with `options`; returns the single output.
tensor run_planned(const char* name, const plan_options& options, std::string* description = nullptr) {
  auto g = load_onnx_file(model_dir(name) / "model.onnx");
  REQUIRE_MESSAGE(g.ok(), g.error().message);
  auto p = plan::create(std::make_shared<const graph>(std::move(*g)), options);
  REQUIRE_MESSAGE(p.ok(), p.error().message);
  if (description) *description = (*p)->describe();
  auto e = (*p)->make_executor();
  REQUIRE_MESSAGE(e.ok(), e.error().message);
  auto input = read_npy(model_dir(name) / "input_0.npy");
  REQUIRE_MESSAGE(input.ok(), input.error().message);
  auto outputs = (*e)->run({{(*p)->inputs().at(0).name, *input}});
  REQUIRE_MESSAGE(outputs.ok(), outputs.error().message);
  REQUIRE(outputs->size() == 1);
  return outputs->begin()->second;
}

tensor as_f64(const tensor& t) {
  tensor out(dtype::f64, t.shape());
  for (std::int64_t i = 0; i < t.elements(); ++i) out.data<double>()[i] = static_cast<double>(t.data<float>()[i]);
  return out;
}

}  // namespace

SCENARIO("the planned fp32 MNIST CNN matches its float64 reference on every path") {
  auto expected = read_npy(model_dir("mnist_cnn") / "expected_output_0.npy");
  REQUIRE(expected.ok());
  for (bool fast : {true, false})
    for (int threads : {1, 2}) {
      INFO("fast kernels " << fast << ", threads " << threads);
      plan_options o;
      o.fast_kernels = fast;
      o.threads = threads;
      std::string description;
      tensor actual = run_planned("mnist_cnn", o, &description);
      REQUIRE(actual.type() == dtype::f32);
      CHECK(compare_tensors(*expected, as_f64(actual), 1e-3, 1e-4) == "");
      CHECK((description.find("onednn") != std::string::npos) == fast);
    }
}

SCENARIO("the planned quantized MNIST CNNs are exact") {
  for (const char* name : {"mnist_cnn_qdq", "mnist_cnn_qlinear"}) {
    INFO(name);
    tensor actual = run_planned(name, plan_options{});
    auto expected = read_npy(model_dir(name) / "expected_output_0.npy");
    REQUIRE(expected.ok());
    CHECK(actual.type() == expected->type());
    REQUIRE(actual.bytes() == expected->bytes());
    CHECK(std::memcmp(actual.raw(), expected->raw(), actual.bytes()) == 0);
  }
}
