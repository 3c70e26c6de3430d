// Test harness for the shape and detection reference kernels: builds tensors and nodes and
// runs one node through the built-in kernel registry. Used by engine_shape_test.cpp,
// engine_shape_index_test.cpp and engine_detection_test.cpp; single-threaded test code.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/kernel.hpp"
#include "engine/kernels/dispatch.hpp"

namespace shape_harness {

using namespace edgert;
using namespace edgert::engine;

template <class T>
tensor make(shape_t shape, std::vector<T> values) {
  tensor t(dtype_of<T>(), std::move(shape));
  REQUIRE(static_cast<std::int64_t>(values.size()) == t.elements());
  std::copy(values.begin(), values.end(), t.data<T>());
  return t;
}

/// A bool tensor from 0/1 bytes.
inline tensor make_bool(shape_t shape, std::vector<std::uint8_t> values) {
  tensor t(dtype::boolean, std::move(shape));
  REQUIRE(static_cast<std::int64_t>(values.size()) == t.elements());
  std::copy(values.begin(), values.end(), t.data<std::uint8_t>());
  return t;
}

inline tensor i64s(std::vector<std::int64_t> values) {
  auto n = static_cast<std::int64_t>(values.size());
  return make<std::int64_t>({n}, std::move(values));
}

template <class T>
std::vector<T> values(const tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.elements());
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
inline attribute floats_attr(std::vector<float> v) {
  attribute a;
  a.type = attribute::kind::floats;
  a.floats = std::move(v);
  return a;
}
inline attribute string_attr(std::string v) {
  attribute a;
  a.type = attribute::kind::s;
  a.s = std::move(v);
  return a;
}
inline attribute tensor_attr(tensor v) {
  attribute a;
  a.type = attribute::kind::t;
  a.t = std::move(v);
  return a;
}

/// One node of one op type, run against the built-in registry.
struct op {
  node n;
  std::int64_t opset = 18;
  std::vector<tensor> out;

  explicit op(std::string type, std::size_t outputs = 1, std::int64_t version = 18) : opset(version) {
    n.op_type = std::move(type);
    n.name = "under_test";
    for (std::size_t i = 0; i < outputs; ++i) n.outputs.push_back("y" + std::to_string(i));
  }
  op& attr(const std::string& key, attribute a) {
    n.attributes[key] = std::move(a);
    return *this;
  }
  /// Marks output i as unused (its name becomes "").
  op& unused_output(std::size_t i) {
    n.outputs.at(i) = "";
    return *this;
  }
  result<void> run(std::vector<const tensor*> inputs) {
    n.inputs.clear();
    for (std::size_t i = 0; i < inputs.size(); ++i)
      n.inputs.push_back(inputs[i] ? "x" + std::to_string(i) : "");
    const kernel_entry* entry = kernel_registry::builtin().find("", n.op_type);
    REQUIRE(entry != nullptr);
    kernel_context ctx{n, opset, std::move(inputs), std::vector<tensor>(n.outputs.size())};
    auto status = entry->run(ctx);
    out = std::move(ctx.outputs);
    return status;
  }
};

/// True when the failure message contains every fragment.
inline bool mentions(const result<void>& r, std::vector<std::string> fragments) {
  if (r.ok()) return false;
  for (auto& f : fragments)
    if (r.error().message.find(f) == std::string::npos) return false;
  return true;
}

}  // namespace shape_harness
