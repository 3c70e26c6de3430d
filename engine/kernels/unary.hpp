// Private to the unary kernel family (unary.cpp, unary_math.cpp, cast.cpp): the per-element
// mapping helpers and the registration functions register_unary_kernels() calls.
//
// Stateless; safe to call from any thread.
#pragma once

#include <string>

#include "engine/kernels/elementwise.hpp"

namespace edgert::engine::kernels {

void register_activation_kernels(kernel_registry& r);  // unary.cpp
void register_unary_math_kernels(kernel_registry& r);  // unary_math.cpp
void register_cast_kernels(kernel_registry& r);        // cast.cpp: Cast, CastLike, Identity, Clip

/// The message for an input type a kernel does not compute on.
inline std::string type_message(const tensor& x) {
  return "input type " + std::string(to_string(x.type())) + " is not supported";
}

/// y[i] = f(x[i]) for tensors of C++ element type T (the output has x's type and shape).
template <class T, class F>
tensor map_elements(const tensor& x, F& f) {
  tensor y(x.type(), x.shape());
  const T* in = x.data<T>();
  T* out = y.data<T>();
  const std::int64_t n = x.elements();
  for (std::int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(f(in[i]));
  return y;
}

/// Applies f element-wise to input 0 when it is float, double, float16 or bfloat16 (the
/// halves are computed in float). f is called with the element's C++ type.
template <class F>
result<void> map_float(kernel_context& ctx, F f) {
  if (!ctx.has_input(0)) return ctx.invalid("input 0 is missing");
  const tensor& x = ctx.input(0);
  if (is_half(x.type())) {
    tensor y = map_elements<float>(widen_half(x), f);
    ctx.outputs[0] = narrow_half(y, x.type());
    return {};
  }
  bool ok = dispatch_float(x.type(), [&](auto tag) {
    ctx.outputs[0] = map_elements<decltype(tag)>(x, f);
  });
  if (!ok) return ctx.unsupported(type_message(x));
  return {};
}

/// Like map_float, and also for the integer types (f is called with the integer type).
template <class F>
result<void> map_numeric(kernel_context& ctx, F f) {
  if (!ctx.has_input(0)) return ctx.invalid("input 0 is missing");
  const tensor& x = ctx.input(0);
  if (is_half(x.type())) return map_float(ctx, f);
  bool ok = dispatch_numeric(x.type(), [&](auto tag) {
    ctx.outputs[0] = map_elements<decltype(tag)>(x, f);
  });
  if (!ok) return ctx.unsupported(type_message(x));
  return {};
}

}  // namespace edgert::engine::kernels
