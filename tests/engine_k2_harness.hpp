// Test harness for the conv, pool, linear, quantized and resize reference kernels: builds
// tensors and one node, runs it through the built-in kernel registry. Single-threaded test
// code; every helper returns values, nothing is shared between tests.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/kernel.hpp"
#include "engine/kernels/dispatch.hpp"
#include "support/kernel_values.hpp"

namespace k2 {

using namespace edgert;
using namespace edgert::engine;
using edgert::test::check_close;
using edgert::test::make;
using edgert::test::values;


inline tensor f32(shape_t shape, std::vector<float> values) { return make<float>(std::move(shape), std::move(values)); }

/// Values 0, 1, 2, ... in the given shape.
inline tensor iota(shape_t shape, float start = 0.f) {
  tensor t(dtype::f32, std::move(shape));
  for (std::int64_t i = 0; i < t.elements(); ++i) t.data<float>()[i] = start + static_cast<float>(i);
  return t;
}



/// One node to run: op("Conv").in(x).in(w).attr("group", 2).run()
class op {
 public:
  explicit op(std::string type, std::int64_t opset = 17) : opset_(opset) {
    n_.op_type = std::move(type);
    n_.name = "n";
    n_.outputs = {"y"};
  }
  op& in(tensor t) {
    inputs_.push_back(std::move(t));
    present_.push_back(true);
    n_.inputs.push_back("x" + std::to_string(inputs_.size()));
    return *this;
  }
  /// An omitted optional input.
  op& none() {
    inputs_.emplace_back();
    present_.push_back(false);
    n_.inputs.push_back("");
    return *this;
  }
  op& outputs(std::vector<std::string> names) {
    n_.outputs = std::move(names);
    return *this;
  }
  op& attr(const std::string& key, std::int64_t v) {
    attribute a;
    a.type = attribute::kind::i;
    a.i = v;
    n_.attributes[key] = a;
    return *this;
  }
  op& attr(const std::string& key, int v) { return attr(key, static_cast<std::int64_t>(v)); }
  op& attr(const std::string& key, float v) {
    attribute a;
    a.type = attribute::kind::f;
    a.f = v;
    n_.attributes[key] = a;
    return *this;
  }
  op& attr(const std::string& key, const char* v) {
    attribute a;
    a.type = attribute::kind::s;
    a.s = v;
    n_.attributes[key] = a;
    return *this;
  }
  op& attr(const std::string& key, std::vector<std::int64_t> v) {
    attribute a;
    a.type = attribute::kind::ints;
    a.ints = std::move(v);
    n_.attributes[key] = a;
    return *this;
  }
  op& attr(const std::string& key, std::vector<float> v) {
    attribute a;
    a.type = attribute::kind::floats;
    a.floats = std::move(v);
    n_.attributes[key] = a;
    return *this;
  }

  /// Runs the node; the outputs, or the kernel's failure.
  result<std::vector<tensor>> run() const {
    const kernel_entry* k = kernel_registry::builtin().find("", n_.op_type);
    REQUIRE_MESSAGE(k != nullptr, "no kernel for " << n_.op_type);
    kernel_context ctx{n_, opset_, {}, {}};
    for (std::size_t i = 0; i < inputs_.size(); ++i) ctx.inputs.push_back(present_[i] ? &inputs_[i] : nullptr);
    ctx.outputs.resize(n_.outputs.size());
    auto r = k->run(ctx);
    if (!r) return r.error();
    return ctx.outputs;
  }
  /// Runs the node, requiring success; output 0.
  tensor out() const {
    auto r = run();
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().message));
    return r->at(0);
  }
  /// Runs the node, requiring failure; the error code.
  errc error() const {
    auto r = run();
    REQUIRE_FALSE(r.ok());
    MESSAGE(r.error().message);
    return r.code();
  }

 private:
  node n_;
  std::int64_t opset_;
  std::vector<tensor> inputs_;
  std::vector<bool> present_;
};

}  // namespace k2
