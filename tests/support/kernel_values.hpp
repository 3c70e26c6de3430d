// Builders shared by the kernel unit tests: tensors from value lists, value lists from
// tensors, and node attributes. Each harness (tests/engine_*_harness.hpp) pulls these into
// its own namespace and adds the node runner its ops need.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/graph.hpp"
#include "engine/kernels/dispatch.hpp"

namespace edgert::test {

/// A tensor of T with the given shape and values (their count must match the shape).
template <class T>
engine::tensor make(engine::shape_t shape, std::vector<T> values) {
  engine::tensor t(engine::dtype_of<T>(), std::move(shape));
  REQUIRE(static_cast<std::int64_t>(values.size()) == t.elements());
  std::copy(values.begin(), values.end(), t.data<T>());
  return t;
}

/// A tensor's elements as a vector of T (T must match its dtype's storage type).
template <class T>
std::vector<T> values(const engine::tensor& t) {
  REQUIRE(engine::size_of(t.type()) == sizeof(T));
  return std::vector<T>(t.data<T>(), t.data<T>() + t.elements());
}

/// Checks every element of a float tensor against `expected` within a relative tolerance;
/// NaN must meet NaN and infinities must match exactly.
inline void check_close(const engine::tensor& t, const std::vector<double>& expected,
                        double tol = 1e-5) {
  REQUIRE((t.type() == engine::dtype::f32 || t.type() == engine::dtype::f64));
  REQUIRE(t.elements() == static_cast<std::int64_t>(expected.size()));
  for (std::size_t i = 0; i < expected.size(); ++i) {
    double got = t.type() == engine::dtype::f32 ? t.data<float>()[i] : t.data<double>()[i];
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

inline engine::attribute int_attr(std::int64_t v) {
  engine::attribute a;
  a.type = engine::attribute::kind::i;
  a.i = v;
  return a;
}
inline engine::attribute ints_attr(std::vector<std::int64_t> v) {
  engine::attribute a;
  a.type = engine::attribute::kind::ints;
  a.ints = std::move(v);
  return a;
}
inline engine::attribute float_attr(float v) {
  engine::attribute a;
  a.type = engine::attribute::kind::f;
  a.f = v;
  return a;
}
inline engine::attribute floats_attr(std::vector<float> v) {
  engine::attribute a;
  a.type = engine::attribute::kind::floats;
  a.floats = std::move(v);
  return a;
}
inline engine::attribute string_attr(std::string v) {
  engine::attribute a;
  a.type = engine::attribute::kind::s;
  a.s = std::move(v);
  return a;
}
inline engine::attribute tensor_attr(engine::tensor v) {
  engine::attribute a;
  a.type = engine::attribute::kind::t;
  a.t = std::move(v);
  return a;
}

}  // namespace edgert::test
