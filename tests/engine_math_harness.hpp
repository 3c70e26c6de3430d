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

namespace math_harness {

using namespace edgert;
using namespace edgert::engine;

template <class T>
tensor make(shape_t shape, std::vector<T> values) {
  tensor t(dtype_of<T>(), std::move(shape));
  REQUIRE(static_cast<std::int64_t>(values.size()) == t.elements());
  std::copy(values.begin(), values.end(), t.data<T>());
  return t;
}

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

template <class T>
std::vector<T> values(const tensor& t) {
  REQUIRE(t.type() == dtype_of<T>());
  return std::vector<T>(t.data<T>(), t.data<T>() + t.elements());
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

/// Checks every element of a float tensor against `expected` within a relative tolerance.
inline void check_close(const tensor& t, const std::vector<double>& expected, double tol = 1e-5) {
  REQUIRE((t.type() == dtype::f32 || t.type() == dtype::f64));
  REQUIRE(t.elements() == static_cast<std::int64_t>(expected.size()));
  for (std::size_t i = 0; i < expected.size(); ++i) {
    double got = t.type() == dtype::f32 ? t.data<float>()[i] : t.data<double>()[i];
    INFO("element " << i);
    if (std::isnan(expected[i])) {
      CHECK(std::isnan(got));
    } else if (std::isinf(expected[i])) {
      CHECK(got == expected[i]);
    } else {
      CHECK(got == doctest::Approx(expected[i]).epsilon(tol));
    }
  }
}

inline attribute int_attr(std::int64_t v) {
  attribute a;
  a.type = attribute::kind::i;
  a.i = v;
  return a;
}
inline attribute ints_attr(std::vector<std::int64_t> v) {
  attribute a;
  a.type = attribute::kind::ints;
  a.ints = std::move(v);
  return a;
}
inline attribute float_attr(float v) {
  attribute a;
  a.type = attribute::kind::f;
  a.f = v;
  return a;
}
inline attribute string_attr(std::string v) {
  attribute a;
  a.type = attribute::kind::s;
  a.s = std::move(v);
  return a;
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
