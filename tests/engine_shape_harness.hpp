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
#include "support/kernel_values.hpp"

namespace shape_harness {

using namespace edgert;
using namespace edgert::engine;
using edgert::test::tensor_attr;
using edgert::test::string_attr;
using edgert::test::floats_attr;
using edgert::test::float_attr;
using edgert::test::ints_attr;
using edgert::test::int_attr;
using edgert::test::values;
using edgert::test::make;


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
