// Arithmetic with broadcasting: Add, Sub, Mul, Div, Pow, Mod, the variadic Min, Max, Sum and
// Mean, and the binary family's registration.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "engine/kernels/binary.hpp"
#include "engine/kernels/register.hpp"

namespace edgert::engine {
namespace kernels {

result<binary_operands> binary_inputs(kernel_context& ctx, bool same_type) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.invalid("two inputs are required");
  binary_operands ops{ctx.input(0), ctx.input(1), {}};
  if (same_type && ops.a.type() != ops.b.type())
    return ctx.invalid("input types differ: " + std::string(to_string(ops.a.type())) + " and " +
                       std::string(to_string(ops.b.type())));
  if (ctx.opset < 7 && ctx.n.get_int("broadcast", 0) != 0) {
    const auto rank_a = static_cast<std::int64_t>(ops.a.rank());
    const auto rank_b = static_cast<std::int64_t>(ops.b.rank());
    std::int64_t axis = ctx.n.get_int("axis", rank_a - rank_b);
    if (axis < 0) axis += rank_a;
    if (axis < 0 || axis + rank_b > rank_a)
      return ctx.invalid("cannot align B " + to_string(ops.b.shape()) + " with A " +
                         to_string(ops.a.shape()) + " at axis " + std::to_string(axis));
    shape_t aligned(static_cast<std::size_t>(rank_a), 1);
    for (std::int64_t i = 0; i < rank_b; ++i) aligned[axis + i] = ops.b.shape()[i];
    ops.b = ops.b.reshaped(aligned);
  }
  auto out = broadcast_shapes(ops.a.shape(), ops.b.shape());
  if (!out)
    return ctx.invalid("shapes " + to_string(ops.a.shape()) + " and " + to_string(ops.b.shape()) +
                       " do not broadcast");
  ops.out_shape = *out;
  return ops;
}

namespace {

// out = op(a, b) element-wise for inputs of one numeric type (halves computed in float);
// `types` limits the accepted types (a predicate on dtype).
template <class Op, class Accept>
result<void> arithmetic(kernel_context& ctx, Op op, Accept accept) {
  auto ops = binary_inputs(ctx);
  if (!ops) return ops.error();
  const dtype type = ops->a.type();
  if (!accept(type)) return ctx.unsupported("input type " + std::string(to_string(type)) +
                                            " is not supported");
  if (is_half(type)) {
    tensor out(dtype::f32, ops->out_shape);
    broadcast_binary<float, float, float>(widen_half(ops->a), widen_half(ops->b), out, op);
    ctx.outputs[0] = narrow_half(out, type);
    return {};
  }
  tensor out(type, ops->out_shape);
  bool ok = dispatch_numeric(type, [&](auto tag) {
    using T = decltype(tag);
    broadcast_binary<T, T, T>(ops->a, ops->b, out, op);
  });
  if (!ok) return ctx.unsupported("input type " + std::string(to_string(type)) + " is not supported");
  ctx.outputs[0] = std::move(out);
  return {};
}

bool any_numeric(dtype t) { return t != dtype::boolean && t != dtype::string && is_supported(t); }

// Integer arithmetic wraps around (two's complement) instead of overflowing, so results are
// defined for every input.
template <class T, class F>
T wrapping(T a, T b, F f) {
  if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<decltype(+a)>;
    return static_cast<T>(f(static_cast<U>(a), static_cast<U>(b)));
  } else {
    return f(a, b);
  }
}

result<void> add_kernel(kernel_context& ctx) {
  return arithmetic(ctx, [](auto a, auto b) {
    return wrapping(a, b, [](auto x, auto y) { return x + y; });
  }, any_numeric);
}

result<void> sub_kernel(kernel_context& ctx) {
  return arithmetic(ctx, [](auto a, auto b) {
    return wrapping(a, b, [](auto x, auto y) { return x - y; });
  }, any_numeric);
}

result<void> mul_kernel(kernel_context& ctx) {
  return arithmetic(ctx, [](auto a, auto b) {
    return wrapping(a, b, [](auto x, auto y) { return x * y; });
  }, any_numeric);
}

result<void> div_kernel(kernel_context& ctx) {
  bool by_zero = false;
  auto r = arithmetic(ctx, [&by_zero](auto a, auto b) -> decltype(a) {
    using T = decltype(a);
    if constexpr (std::is_integral_v<T>) {
      if (b == 0) {
        by_zero = true;
        return 0;
      }
      // The one overflowing quotient (most negative / -1) wraps like the other operators.
      if constexpr (std::is_signed_v<T>)
        if (b == -1) return static_cast<T>(std::make_unsigned_t<T>{0} - static_cast<std::make_unsigned_t<T>>(a));
      return static_cast<T>(a / b);  // truncates toward zero
    } else {
      return a / b;
    }
  }, any_numeric);
  if (r && by_zero) return ctx.invalid("integer division by zero");
  return r;
}

result<void> mod_kernel(kernel_context& ctx) {
  const bool c_style = ctx.n.get_int("fmod", 0) != 0;
  bool by_zero = false;
  auto r = arithmetic(ctx, [&by_zero, c_style](auto a, auto b) -> decltype(a) {
    using T = decltype(a);
    if constexpr (std::is_integral_v<T>) {
      if (b == 0) {
        by_zero = true;
        return 0;
      }
      if constexpr (std::is_signed_v<T>) {
        if (b == -1) return 0;
        T m = static_cast<T>(a % b);
        // Python-style: the remainder takes the divisor's sign.
        if (!c_style && m != 0 && ((m < 0) != (b < 0))) m = static_cast<T>(m + b);
        return m;
      } else {
        return static_cast<T>(a % b);
      }
    } else {
      T m = std::fmod(a, b);
      if (!c_style && m != 0 && ((m < 0) != (b < 0))) m += b;
      return m;
    }
  }, any_numeric);
  if (r && by_zero) return ctx.invalid("integer modulo by zero");
  return r;
}

// Integer power by squaring, wrapping on overflow; negative exponents give the truncated
// real result (0 unless the base is 1 or -1).
template <class T, class E>
T integer_power(T base, E exponent) {
  if constexpr (std::is_signed_v<E>) {
    if (exponent < 0) {
      if (base == 1) return 1;
      if constexpr (std::is_signed_v<T>)
        if (base == -1) return (exponent % 2 == 0) ? T{1} : T{-1};
      return 0;
    }
  }
  using U = std::make_unsigned_t<decltype(+base)>;
  U result = 1;
  U b = static_cast<U>(base);
  auto e = static_cast<std::uint64_t>(exponent);
  while (e) {
    if (e & 1) result = static_cast<U>(result * b);
    b = static_cast<U>(b * b);
    e >>= 1;
  }
  return static_cast<T>(result);
}

template <class T, class E>
T pow_value(T a, E b) {
  if constexpr (std::is_integral_v<T> && std::is_integral_v<E>) {
    return integer_power(a, b);
  } else {
    return convert_value<T>(std::pow(static_cast<double>(a), static_cast<double>(b)));
  }
}

template <class T>
result<void> pow_typed(kernel_context& ctx, const tensor& base, const tensor& exponent, tensor& out) {
  bool ok = dispatch_numeric(exponent.type(), [&](auto tag) {
    using E = decltype(tag);
    broadcast_binary<T, E, T>(base, exponent, out, [](T a, E b) { return pow_value(a, b); });
  });
  if (!ok) return ctx.unsupported("exponent type " + std::string(to_string(exponent.type())) +
                                  " is not supported");
  return {};
}

result<void> pow_kernel(kernel_context& ctx) {
  auto ops = binary_inputs(ctx, /*same_type=*/false);
  if (!ops) return ops.error();
  const dtype type = ops->a.type();
  tensor exponent = widen_half(ops->b);
  if (is_half(type)) {
    tensor out(dtype::f32, ops->out_shape);
    auto r = pow_typed<float>(ctx, widen_half(ops->a), exponent, out);
    if (!r) return r;
    ctx.outputs[0] = narrow_half(out, type);
    return {};
  }
  tensor out(type, ops->out_shape);
  result<void> r = ctx.unsupported("base type " + std::string(to_string(type)) + " is not supported");
  dispatch_numeric(type, [&](auto tag) { r = pow_typed<decltype(tag)>(ctx, ops->a, exponent, out); });
  if (!r) return r;
  ctx.outputs[0] = std::move(out);
  return {};
}

// Folds every input into the output with op (broadcasting all of them together); Mean then
// divides by the input count.
template <class Op>
result<void> variadic(kernel_context& ctx, Op op, bool mean) {
  std::vector<tensor> in;
  for (std::size_t i = 0; i < ctx.input_count(); ++i)
    if (ctx.has_input(i)) in.push_back(ctx.input(i));
  if (in.empty()) return ctx.invalid("at least one input is required");
  const dtype type = in[0].type();
  shape_t shape = in[0].shape();
  for (auto& t : in) {
    if (t.type() != type)
      return ctx.invalid("input types differ: " + std::string(to_string(type)) + " and " +
                         std::string(to_string(t.type())));
    auto s = broadcast_shapes(shape, t.shape());
    if (!s) return ctx.invalid("shapes " + to_string(shape) + " and " + to_string(t.shape()) +
                               " do not broadcast");
    shape = *s;
  }
  if (is_half(type))
    for (auto& t : in) t = widen_half(t);
  const dtype work = is_half(type) ? dtype::f32 : type;
  tensor out(work, shape);
  bool ok = dispatch_numeric(work, [&](auto tag) {
    using T = decltype(tag);
    broadcast_binary<T, T, T>(out, in[0], out, [](T, T b) { return b; });
    for (std::size_t k = 1; k < in.size(); ++k) broadcast_binary<T, T, T>(out, in[k], out, op);
    if (mean) {
      const T count = static_cast<T>(in.size());
      T* p = out.data<T>();
      for (std::int64_t i = 0, n = out.elements(); i < n; ++i) p[i] = static_cast<T>(p[i] / count);
    }
  });
  if (!ok) return ctx.unsupported("input type " + std::string(to_string(type)) + " is not supported");
  ctx.outputs[0] = is_half(type) ? narrow_half(out, type) : std::move(out);
  return {};
}

// Min and Max propagate NaN like NumPy's minimum/maximum.
template <class T>
T min_value(T a, T b) {
  if constexpr (std::is_floating_point_v<T>)
    if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
  return std::min(a, b);
}

template <class T>
T max_value(T a, T b) {
  if constexpr (std::is_floating_point_v<T>)
    if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
  return std::max(a, b);
}

result<void> min_kernel(kernel_context& ctx) {
  return variadic(ctx, [](auto a, auto b) { return min_value(a, b); }, false);
}

result<void> max_kernel(kernel_context& ctx) {
  return variadic(ctx, [](auto a, auto b) { return max_value(a, b); }, false);
}

result<void> sum_kernel(kernel_context& ctx) {
  return variadic(ctx, [](auto a, auto b) {
    return wrapping(a, b, [](auto x, auto y) { return x + y; });
  }, false);
}

result<void> mean_kernel(kernel_context& ctx) {
  return variadic(ctx, [](auto a, auto b) {
    return wrapping(a, b, [](auto x, auto y) { return x + y; });
  }, true);
}

}  // namespace

void register_arithmetic_kernels(kernel_registry& r) {
  r.add("", "Add", guarded(add_kernel), 1);
  r.add("", "Sub", guarded(sub_kernel), 1);
  r.add("", "Mul", guarded(mul_kernel), 1);
  r.add("", "Div", guarded(div_kernel), 1);
  r.add("", "Mod", guarded(mod_kernel), 10);
  r.add("", "Pow", guarded(pow_kernel), 1);
  r.add("", "Min", guarded(min_kernel), 1);
  r.add("", "Max", guarded(max_kernel), 1);
  r.add("", "Sum", guarded(sum_kernel), 1);
  r.add("", "Mean", guarded(mean_kernel), 1);
}

}  // namespace kernels

void register_binary_kernels(kernel_registry& r) {
  kernels::register_arithmetic_kernels(r);
  kernels::register_binary_logic_kernels(r);
}

}  // namespace edgert::engine
