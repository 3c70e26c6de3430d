// The project's own generated models (tools/gen_models; the small ones are committed in
// tests/data/models) run through the engine and reproduce the generator's reference
// outputs: float models within rtol 1e-3 of a float64 evaluation, quantized models exactly
// (int32 accumulation, round half to even, full-range int8 weights).
#include <doctest/doctest.h>

#include <cstring>
#include <memory>

#include "engine/conformance.hpp"
#include "engine/interpreter.hpp"
#include "engine/npy.hpp"
#include "engine/onnx_loader.hpp"

using namespace edgert::engine;

namespace {

std::filesystem::path model_dir(const char* name) {
  return std::filesystem::path(EDGERT_TEST_DATA_DIR) / "models" / name;
}

// Runs a model's sample input; returns the single output.
tensor run_sample(const char* name) {
  auto g = load_onnx_file(model_dir(name) / "model.onnx");
  REQUIRE_MESSAGE(g.ok(), g.error().message);
  auto shared = std::make_shared<const graph>(std::move(*g));
  auto runner = interpreter::create(shared);
  REQUIRE_MESSAGE(runner.ok(), runner.error().message);
  auto input = read_npy(model_dir(name) / "input_0.npy");
  REQUIRE_MESSAGE(input.ok(), input.error().message);
  auto outputs = runner->run({{shared->inputs.at(0).name, *input}});
  REQUIRE_MESSAGE(outputs.ok(), outputs.error().message);
  REQUIRE(outputs->size() == 1);
  return outputs->begin()->second;
}

// Expected outputs of float models are stored as float64; compare in float64.
tensor as_f64(const tensor& t) {
  tensor out(dtype::f64, t.shape());
  for (std::int64_t i = 0; i < t.elements(); ++i)
    out.data<double>()[i] = static_cast<double>(t.data<float>()[i]);
  return out;
}

}  // namespace

SCENARIO("the fp32 MNIST CNN matches its float64 reference") {
  auto actual = run_sample("mnist_cnn");
  auto expected = read_npy(model_dir("mnist_cnn") / "expected_output_0.npy");
  REQUIRE(expected.ok());
  REQUIRE(actual.type() == dtype::f32);
  CHECK(compare_tensors(*expected, as_f64(actual), 1e-3, 1e-4) == "");
}

SCENARIO("the int8 QDQ MNIST CNN is exact") {
  auto actual = run_sample("mnist_cnn_qdq");
  auto expected = read_npy(model_dir("mnist_cnn_qdq") / "expected_output_0.npy");
  REQUIRE(expected.ok());
  CHECK(actual.type() == expected->type());
  REQUIRE(actual.bytes() == expected->bytes());
  CHECK(std::memcmp(actual.raw(), expected->raw(), actual.bytes()) == 0);
}

SCENARIO("the QLinear MNIST CNN is exact") {
  auto actual = run_sample("mnist_cnn_qlinear");
  auto expected = read_npy(model_dir("mnist_cnn_qlinear") / "expected_output_0.npy");
  REQUIRE(expected.ok());
  CHECK(actual.type() == expected->type());
  REQUIRE(actual.bytes() == expected->bytes());
  CHECK(std::memcmp(actual.raw(), expected->raw(), actual.bytes()) == 0);
}
