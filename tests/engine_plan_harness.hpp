// Helpers of the plan tests (engine_plan_test.cpp, engine_plan_fast_test.cpp): small ONNX
// graphs built in memory and loaded through the real loader (so shapes come from ONNX shape
// inference), seeded random tensors, and the comparison of a plan's run with the
// interpreter's (the oracle).
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/interpreter.hpp"
#include "engine/onnx_loader.hpp"
#include "engine/plan.hpp"
#include "engine_onnx_builder.hpp"

namespace edgert::test {

inline void set_ints(onnx::NodeProto& n, const std::string& name, const std::vector<std::int64_t>& values) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (auto v : values) a->add_ints(v);
}

inline void set_int(onnx::NodeProto& n, const std::string& name, std::int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}

inline void set_float(onnx::NodeProto& n, const std::string& name, float v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}

inline void set_string(onnx::NodeProto& n, const std::string& name, const std::string& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::STRING);
  a->set_s(v);
}

/// Uniform values in [lo, hi) from a fixed seed.
inline std::vector<float> random_values(std::size_t count, std::uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(count);
  for (auto& x : v) x = dist(rng);
  return v;
}

inline std::size_t count_of(const std::vector<std::int64_t>& dims) {
  std::size_t n = 1;
  for (auto d : dims) n *= static_cast<std::size_t>(d);
  return n;
}

inline engine::tensor random_tensor(const engine::shape_t& shape, std::uint32_t seed) {
  engine::tensor t(engine::dtype::f32, shape);
  auto v = random_values(static_cast<std::size_t>(t.elements()), seed);
  std::copy(v.begin(), v.end(), t.data<float>());
  return t;
}

inline std::shared_ptr<const engine::graph> load(const onnx_model& m) {
  auto g = engine::load_onnx_bytes(m.bytes(), ".");
  REQUIRE_MESSAGE(g.ok(), g.error().message);
  return std::make_shared<const engine::graph>(std::move(*g));
}

/// Largest |a - b| / max(1, |b|) over two float tensors of one shape (infinity on mismatch).
inline double max_relative_error(const engine::tensor& a, const engine::tensor& b) {
  if (a.type() != engine::dtype::f32 || b.type() != engine::dtype::f32 || a.shape() != b.shape())
    return INFINITY;
  double worst = 0;
  for (std::int64_t i = 0; i < a.elements(); ++i) {
    const double x = a.data<float>()[i], y = b.data<float>()[i];
    const double e = std::fabs(x - y) / std::max(1.0, std::fabs(y));
    if (!(e <= worst)) worst = std::isnan(e) ? INFINITY : e;
  }
  return worst;
}

/// Runs `g` through the interpreter and through a plan made with `options`; checks every
/// output agrees within `tolerance` (relative, absolute below 1). Returns the plan.
inline std::shared_ptr<const engine::plan> check_against_oracle(std::shared_ptr<const engine::graph> g,
                                                                 const std::map<std::string, engine::tensor>& inputs,
                                                                 const engine::plan_options& options,
                                                                 double tolerance = 1e-4) {
  auto oracle = engine::interpreter::create(g);
  REQUIRE_MESSAGE(oracle.ok(), oracle.error().message);
  auto expected = oracle->run(inputs);
  REQUIRE_MESSAGE(expected.ok(), expected.error().message);
  auto p = engine::plan::create(g, options);
  REQUIRE_MESSAGE(p.ok(), p.error().message);
  auto e = (*p)->make_executor();
  REQUIRE_MESSAGE(e.ok(), e.error().message);
  // Twice: the second run must not depend on what the first left in the arena.
  for (int round = 0; round < 2; ++round) {
    auto actual = (*e)->run(inputs);
    REQUIRE_MESSAGE(actual.ok(), actual.error().message);
    REQUIRE(actual->size() == expected->size());
    for (const auto& [name, want] : *expected) {
      INFO("output " << name << ", plan:\n" << (*p)->describe());
      REQUIRE(actual->count(name) == 1);
      const engine::tensor& got = actual->at(name);
      if (want.type() == engine::dtype::f32) {
        CHECK(max_relative_error(got, want) <= tolerance);
      } else {
        REQUIRE(got.type() == want.type());
        REQUIRE(got.shape() == want.shape());
        CHECK(std::equal(static_cast<const char*>(got.raw()), static_cast<const char*>(got.raw()) + got.bytes(),
                         static_cast<const char*>(want.raw())));
      }
    }
  }
  return *p;
}

}  // namespace edgert::test
