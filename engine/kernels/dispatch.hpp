// Type dispatch for reference kernels: calls a generic lambda with a value of the C++ type
// matching a dtype. Half-precision types are not dispatched: kernels that accept them
// convert to float at their edges with the conversions in engine/dtype.hpp.
#pragma once

#include <cstdint>
#include <utility>

#include "engine/dtype.hpp"

namespace edgert::engine {

/// Calls f(T{}) for the numeric (non-half) type of `t`; returns false if `t` is not one.
template <class F>
bool dispatch_numeric(dtype t, F&& f) {
  switch (t) {
    case dtype::f32: f(float{}); return true;
    case dtype::f64: f(double{}); return true;
    case dtype::i8: f(std::int8_t{}); return true;
    case dtype::i16: f(std::int16_t{}); return true;
    case dtype::i32: f(std::int32_t{}); return true;
    case dtype::i64: f(std::int64_t{}); return true;
    case dtype::u8: f(std::uint8_t{}); return true;
    case dtype::u16: f(std::uint16_t{}); return true;
    case dtype::u32: f(std::uint32_t{}); return true;
    case dtype::u64: f(std::uint64_t{}); return true;
    default: return false;
  }
}

/// Like dispatch_numeric, for float and double only.
template <class F>
bool dispatch_float(dtype t, F&& f) {
  switch (t) {
    case dtype::f32: f(float{}); return true;
    case dtype::f64: f(double{}); return true;
    default: return false;
  }
}

/// Every type a tensor can hold, bool included, by its storage type (bool as std::uint8_t is
/// NOT used: bool tensors hold one byte per element and dispatch as bool).
template <class F>
bool dispatch_any(dtype t, F&& f) {
  if (t == dtype::boolean) {
    f(bool{});
    return true;
  }
  if (t == dtype::f16 || t == dtype::bf16) {
    f(std::uint16_t{});
    return true;
  }
  return dispatch_numeric(t, std::forward<F>(f));
}

template <class T>
constexpr dtype dtype_of();
template <> constexpr dtype dtype_of<float>() { return dtype::f32; }
template <> constexpr dtype dtype_of<double>() { return dtype::f64; }
template <> constexpr dtype dtype_of<std::int8_t>() { return dtype::i8; }
template <> constexpr dtype dtype_of<std::int16_t>() { return dtype::i16; }
template <> constexpr dtype dtype_of<std::int32_t>() { return dtype::i32; }
template <> constexpr dtype dtype_of<std::int64_t>() { return dtype::i64; }
template <> constexpr dtype dtype_of<std::uint8_t>() { return dtype::u8; }
template <> constexpr dtype dtype_of<std::uint16_t>() { return dtype::u16; }
template <> constexpr dtype dtype_of<std::uint32_t>() { return dtype::u32; }
template <> constexpr dtype dtype_of<std::uint64_t>() { return dtype::u64; }
template <> constexpr dtype dtype_of<bool>() { return dtype::boolean; }

}  // namespace edgert::engine
