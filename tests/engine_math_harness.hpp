// Test harness for the element-wise, reduction and normalization reference kernels: builds
// tensors and nodes, runs one node through the built-in kernel registry and compares float
// outputs. Used by engine_elementwise_test.cpp, engine_reduce_test.cpp and
// engine_normalization_test.cpp; single-threaded test code.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/kernel.hpp"
#include "engine/kernels/dispatch.hpp"
#include "support/kernel_values.hpp"

namespace math_harness {

using namespace edgert;
using namespace edgert::engine;
using edgert::test::check_close;
using edgert::test::string_attr;
using edgert::test::float_attr;
using edgert::test::ints_attr;
using edgert::test::int_attr;
using edgert::test::values;
using edgert::test::make;


inline tensor f32(shape_t shape, std::vector<float> values) { return make<float>(std::move(shape), std::move(values)); }
inline tensor i64(shape_t shape, std::vector<std::int64_t> values) {
  return make<std::int64_t>(std::move(shape), std::move(values));
}
inline tensor scalar_f32(float v) { return make<float>({}, {v}); }

/// A bool tensor from 0/1 values.
inline tensor boolean(shape_t shape, std::vector<int> values) {
  tensor t(dtype::boolean, std::move(shape));
  REQUIRE(static_cast<std::int64_t>(values.size()) == t.elements());
  for (std::size_t i = 0; i < values.size(); ++i) t.data<bool>()[i] = values[i] != 0;
  return t;
}

/// A float16 tensor (values rounded to half precision).
inline tensor f16(shape_t shape, std::vector<float> values) {
  tensor t(dtype::f16, std::move(shape));
  REQUIRE(static_cast<std::int64_t>(values.size()) == t.elements());
  for (std::size_t i = 0; i < values.size(); ++i) t.data<std::uint16_t>()[i] = float_to_half(values[i]);
  return t;
}


inline std::vector<int> bools(const tensor& t) {
  REQUIRE(t.type() == dtype::boolean);
  std::vector<int> out;
  for (std::int64_t i = 0; i < t.elements(); ++i) out.push_back(t.data<bool>()[i] ? 1 : 0);
  return out;
}

inline std::vector<float> halves(const tensor& t) {
  REQUIRE(t.type() == dtype::f16);
  std::vector<float> out;
  for (std::int64_t i = 0; i < t.elements(); ++i) out.push_back(half_to_float(t.data<std::uint16_t>()[i]));
  return out;
}



/// One node of one op type, run against the built-in registry at a chosen opset.
struct op {
  node n;
  std::int64_t opset;
  std::vector<tensor> out;

  explicit op(std::string type, std::int64_t version = 17, std::size_t outputs = 1) : opset(version) {
    n.op_type = std::move(type);
    n.name = "under_test";
    for (std::size_t i = 0; i < outputs; ++i) n.outputs.push_back("y" + std::to_string(i));
  }
  op& attr(const std::string& key, attribute a) {
    n.attributes[key] = std::move(a);
    return *this;
  }
  /// Runs the node; a nullptr input is an omitted optional input.
  result<void> run(std::vector<const tensor*> inputs) {
    n.inputs.clear();
    for (std::size_t i = 0; i < inputs.size(); ++i) n.inputs.push_back(inputs[i] ? "x" + std::to_string(i) : "");
    const kernel_entry* entry = kernel_registry::builtin().find("", n.op_type);
    REQUIRE(entry != nullptr);
    kernel_context ctx{n, opset, std::move(inputs), std::vector<tensor>(n.outputs.size())};
    auto status = entry->run(ctx);
    out = std::move(ctx.outputs);
    return status;
  }
  /// Runs the node and requires success.
  const tensor& run_ok(std::vector<const tensor*> inputs) {
    auto status = run(std::move(inputs));
    INFO((status.ok() ? std::string() : status.error().message));
    REQUIRE(status.ok());
    return out.at(0);
  }
};

/// True when the run failed with `code` and its message contains `fragment`.
inline bool fails_with(const result<void>& r, errc code, const std::string& fragment) {
  return !r.ok() && r.code() == code && r.error().message.find(fragment) != std::string::npos;
}

}  // namespace math_harness
