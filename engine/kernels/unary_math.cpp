// Element-wise math (Exp, Log, Sqrt, Floor, Ceil, Round, Abs, Neg, Sign, Reciprocal, Erf, the
// trigonometric and hyperbolic functions), Shrink, the float classifiers IsNaN/IsInf, and Not.
#include <cmath>
#include <type_traits>

#include "engine/kernels/unary.hpp"

namespace edgert::engine::kernels {
namespace {

// Registers a kernel that applies `fn` (a generic callable on float/double) to float inputs.
template <class F>
void add_float(kernel_registry& r, const char* op, std::int64_t since, F fn) {
  r.add("", op, guarded([fn](kernel_context& ctx) { return map_float(ctx, fn); }), since);
}

// Two's-complement negation without signed overflow (the most negative value maps to itself).
template <class T>
T wrapping_negate(T v) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(0) - static_cast<U>(v));
}

result<void> abs_kernel(kernel_context& ctx) {
  return map_numeric(ctx, [](auto v) -> decltype(v) {
    using T = decltype(v);
    if constexpr (std::is_floating_point_v<T>) return std::fabs(v);
    else if constexpr (std::is_unsigned_v<T>) return v;
    else return v < T{0} ? wrapping_negate(v) : v;
  });
}

result<void> neg_kernel(kernel_context& ctx) {
  return map_numeric(ctx, [](auto v) -> decltype(v) {
    using T = decltype(v);
    if constexpr (std::is_floating_point_v<T>) return -v;
    else if constexpr (std::is_unsigned_v<T>) return static_cast<T>(T{0} - v);
    else return wrapping_negate(v);
  });
}

result<void> sign_kernel(kernel_context& ctx) {
  return map_numeric(ctx, [](auto v) -> decltype(v) {
    using T = decltype(v);
    if constexpr (std::is_floating_point_v<T>)
      if (std::isnan(v)) return v;
    return static_cast<T>((T{0} < v) - (v < T{0}));
  });
}

result<void> erf_kernel(kernel_context& ctx) {
  return map_numeric(ctx, [](auto v) -> decltype(v) {
    using T = decltype(v);
    if constexpr (std::is_floating_point_v<T>) return std::erf(v);
    else return convert_value<T>(std::erf(static_cast<double>(v)));
  });
}

// Writes pred(x[i]) into a bool tensor of x's shape, for float inputs (halves widened).
template <class P>
result<void> classify_float(kernel_context& ctx, P pred) {
  if (!ctx.has_input(0)) return ctx.invalid("input 0 is missing");
  const tensor x = widen_half(ctx.input(0));
  tensor y(dtype::boolean, x.shape());
  bool* out = y.data<bool>();
  bool ok = dispatch_float(x.type(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = x.data<T>();
    for (std::int64_t i = 0, n = x.elements(); i < n; ++i) out[i] = pred(in[i]);
  });
  if (!ok) return ctx.unsupported(type_message(ctx.input(0)));
  ctx.outputs[0] = std::move(y);
  return {};
}

result<void> isnan_kernel(kernel_context& ctx) {
  return classify_float(ctx, [](auto v) { return std::isnan(v); });
}

result<void> isinf_kernel(kernel_context& ctx) {
  const bool negative = ctx.n.get_int("detect_negative", 1) != 0;
  const bool positive = ctx.n.get_int("detect_positive", 1) != 0;
  return classify_float(ctx, [negative, positive](auto v) {
    return std::isinf(v) && ((v > 0 && positive) || (v < 0 && negative));
  });
}

result<void> shrink_kernel(kernel_context& ctx) {
  const double lambd = ctx.n.get_float("lambd", 0.5f);
  const double bias = ctx.n.get_float("bias", 0.0f);
  return map_numeric(ctx, [lambd, bias](auto v) -> decltype(v) {
    using T = decltype(v);
    const double x = static_cast<double>(v);
    if (x < -lambd) return convert_value<T>(x + bias);
    if (x > lambd) return convert_value<T>(x - bias);
    return T{0};
  });
}

result<void> not_kernel(kernel_context& ctx) {
  if (!ctx.has_input(0)) return ctx.invalid("input 0 is missing");
  const tensor& x = ctx.input(0);
  if (x.type() != dtype::boolean) return ctx.unsupported(type_message(x));
  tensor y(dtype::boolean, x.shape());
  const bool* in = x.data<bool>();
  bool* out = y.data<bool>();
  for (std::int64_t i = 0, n = x.elements(); i < n; ++i) out[i] = !in[i];
  ctx.outputs[0] = std::move(y);
  return {};
}

}  // namespace

void register_unary_math_kernels(kernel_registry& r) {
  add_float(r, "Exp", 1, [](auto v) -> decltype(v) { return std::exp(v); });
  add_float(r, "Log", 1, [](auto v) -> decltype(v) { return std::log(v); });
  add_float(r, "Sqrt", 1, [](auto v) -> decltype(v) { return std::sqrt(v); });
  add_float(r, "Floor", 1, [](auto v) -> decltype(v) { return std::floor(v); });
  add_float(r, "Ceil", 1, [](auto v) -> decltype(v) { return std::ceil(v); });
  // nearbyint rounds halves to even in the default rounding mode, as ONNX Round requires.
  add_float(r, "Round", 11, [](auto v) -> decltype(v) { return std::nearbyint(v); });
  add_float(r, "Reciprocal", 1, [](auto v) -> decltype(v) { return decltype(v){1} / v; });
  add_float(r, "Sin", 7, [](auto v) -> decltype(v) { return std::sin(v); });
  add_float(r, "Cos", 7, [](auto v) -> decltype(v) { return std::cos(v); });
  add_float(r, "Tan", 7, [](auto v) -> decltype(v) { return std::tan(v); });
  add_float(r, "Asin", 7, [](auto v) -> decltype(v) { return std::asin(v); });
  add_float(r, "Acos", 7, [](auto v) -> decltype(v) { return std::acos(v); });
  add_float(r, "Atan", 7, [](auto v) -> decltype(v) { return std::atan(v); });
  add_float(r, "Sinh", 9, [](auto v) -> decltype(v) { return std::sinh(v); });
  add_float(r, "Cosh", 9, [](auto v) -> decltype(v) { return std::cosh(v); });
  add_float(r, "Asinh", 9, [](auto v) -> decltype(v) { return std::asinh(v); });
  add_float(r, "Acosh", 9, [](auto v) -> decltype(v) { return std::acosh(v); });
  add_float(r, "Atanh", 9, [](auto v) -> decltype(v) { return std::atanh(v); });
  r.add("", "Abs", guarded(abs_kernel), 1);
  r.add("", "Neg", guarded(neg_kernel), 1);
  r.add("", "Sign", guarded(sign_kernel), 9);
  r.add("", "Erf", guarded(erf_kernel), 9);
  r.add("", "IsNaN", guarded(isnan_kernel), 9);
  r.add("", "IsInf", guarded(isinf_kernel), 10);
  r.add("", "Shrink", guarded(shrink_kernel), 9);
  r.add("", "Not", guarded(not_kernel), 1);
}

}  // namespace edgert::engine::kernels
