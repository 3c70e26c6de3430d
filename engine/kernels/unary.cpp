// Activation functions (Relu, Sigmoid, Tanh, LeakyRelu, Elu, Selu, Celu, ThresholdedRelu,
// HardSigmoid, HardSwish, Softplus, Softsign, Mish) and the unary family's registration.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "engine/kernels/register.hpp"
#include "engine/kernels/unary.hpp"

namespace edgert::engine {
namespace kernels {
namespace {

result<void> relu(kernel_context& ctx) {
  return map_numeric(ctx, [](auto v) -> decltype(v) {
    using T = decltype(v);
    if constexpr (std::is_unsigned_v<T>) return v;
    else return v > T{0} ? v : T{0};
  });
}

result<void> sigmoid(kernel_context& ctx) {
  return map_float(ctx, [](auto v) -> decltype(v) {
    using T = decltype(v);
    // Both branches avoid exp overflow: exp of a non-positive argument is at most 1.
    if (v >= T{0}) return T{1} / (T{1} + std::exp(-v));
    T e = std::exp(v);
    return e / (T{1} + e);
  });
}

result<void> tanh_kernel(kernel_context& ctx) {
  return map_float(ctx, [](auto v) -> decltype(v) { return std::tanh(v); });
}

result<void> leaky_relu(kernel_context& ctx) {
  const double alpha = ctx.n.get_float("alpha", 0.01f);
  return map_float(ctx, [alpha](auto v) -> decltype(v) {
    using T = decltype(v);
    return v >= T{0} ? v : static_cast<T>(alpha) * v;
  });
}

result<void> elu(kernel_context& ctx) {
  const double alpha = ctx.n.get_float("alpha", 1.0f);
  return map_float(ctx, [alpha](auto v) -> decltype(v) {
    using T = decltype(v);
    return v >= T{0} ? v : static_cast<T>(alpha) * std::expm1(v);
  });
}

result<void> selu(kernel_context& ctx) {
  const double alpha = ctx.n.get_float("alpha", 1.67326319217681884765625f);
  const double gamma = ctx.n.get_float("gamma", 1.05070102214813232421875f);
  return map_float(ctx, [alpha, gamma](auto v) -> decltype(v) {
    using T = decltype(v);
    T inner = v > T{0} ? v : static_cast<T>(alpha) * std::expm1(v);
    return static_cast<T>(gamma) * inner;
  });
}

result<void> celu(kernel_context& ctx) {
  const double alpha = ctx.n.get_float("alpha", 1.0f);
  if (alpha == 0) return ctx.invalid("alpha must not be 0");
  return map_float(ctx, [alpha](auto v) -> decltype(v) {
    using T = decltype(v);
    const T a = static_cast<T>(alpha);
    return v > T{0} ? v : a * std::expm1(v / a);
  });
}

result<void> thresholded_relu(kernel_context& ctx) {
  const double alpha = ctx.n.get_float("alpha", 1.0f);
  return map_float(ctx, [alpha](auto v) -> decltype(v) {
    using T = decltype(v);
    return v > static_cast<T>(alpha) ? v : T{0};
  });
}

result<void> hard_sigmoid(kernel_context& ctx) {
  const double alpha = ctx.n.get_float("alpha", 0.2f);
  const double beta = ctx.n.get_float("beta", 0.5f);
  return map_float(ctx, [alpha, beta](auto v) -> decltype(v) {
    using T = decltype(v);
    T y = static_cast<T>(alpha) * v + static_cast<T>(beta);
    return std::min(T{1}, std::max(T{0}, y));
  });
}

result<void> hard_swish(kernel_context& ctx) {
  return map_float(ctx, [](auto v) -> decltype(v) {
    using T = decltype(v);
    T gate = std::min(T{1}, std::max(T{0}, v / T{6} + T{0.5}));
    return v * gate;
  });
}

// log(1 + exp(v)) without overflow for large v.
template <class T>
T softplus_value(T v) {
  return v > T{0} ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v));
}

result<void> softplus(kernel_context& ctx) {
  return map_float(ctx, [](auto v) -> decltype(v) { return softplus_value(v); });
}

result<void> softsign(kernel_context& ctx) {
  return map_float(ctx, [](auto v) -> decltype(v) {
    using T = decltype(v);
    return v / (T{1} + std::abs(v));
  });
}

result<void> mish(kernel_context& ctx) {
  return map_float(ctx, [](auto v) -> decltype(v) { return v * std::tanh(softplus_value(v)); });
}

}  // namespace

void register_activation_kernels(kernel_registry& r) {
  r.add("", "Relu", guarded(relu), 1);
  r.add("", "Sigmoid", guarded(sigmoid), 1);
  r.add("", "Tanh", guarded(tanh_kernel), 1);
  r.add("", "LeakyRelu", guarded(leaky_relu), 1);
  r.add("", "Elu", guarded(elu), 1);
  r.add("", "Selu", guarded(selu), 1);
  r.add("", "Celu", guarded(celu), 12);
  r.add("", "ThresholdedRelu", guarded(thresholded_relu), 10);
  r.add("", "HardSigmoid", guarded(hard_sigmoid), 1);
  r.add("", "HardSwish", guarded(hard_swish), 14);
  r.add("", "Softplus", guarded(softplus), 1);
  r.add("", "Softsign", guarded(softsign), 1);
  r.add("", "Mish", guarded(mish), 18);
}

}  // namespace kernels

void register_unary_kernels(kernel_registry& r) {
  kernels::register_activation_kernels(r);
  kernels::register_unary_math_kernels(r);
  kernels::register_cast_kernels(r);
}

}  // namespace edgert::engine
