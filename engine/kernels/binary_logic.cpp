// Comparisons (Equal, Greater, GreaterOrEqual, Less, LessOrEqual), logic (And, Or, Xor),
// BitShift, Where and PRelu.
#include <type_traits>

#include "engine/kernels/binary.hpp"

namespace edgert::engine::kernels {
namespace {

// out = cmp(a, b) as bool, for inputs of one type (numeric, halves via float, and bool when
// allow_bool).
template <class Cmp>
result<void> compare(kernel_context& ctx, Cmp cmp, bool allow_bool) {
  auto ops = binary_inputs(ctx);
  if (!ops) return ops.error();
  const dtype type = ops->a.type();
  tensor out(dtype::boolean, ops->out_shape);
  if (is_half(type)) {
    broadcast_binary<float, float, bool>(widen_half(ops->a), widen_half(ops->b), out, cmp);
  } else if (type == dtype::boolean && allow_bool) {
    broadcast_binary<bool, bool, bool>(ops->a, ops->b, out, cmp);
  } else {
    bool ok = dispatch_numeric(type, [&](auto tag) {
      using T = decltype(tag);
      broadcast_binary<T, T, bool>(ops->a, ops->b, out, cmp);
    });
    if (!ok) return ctx.unsupported("input type " + std::string(to_string(type)) + " is not supported");
  }
  ctx.outputs[0] = std::move(out);
  return {};
}

result<void> equal_kernel(kernel_context& ctx) {
  return compare(ctx, [](auto a, auto b) { return a == b; }, true);
}
result<void> greater_kernel(kernel_context& ctx) {
  return compare(ctx, [](auto a, auto b) { return a > b; }, false);
}
result<void> greater_equal_kernel(kernel_context& ctx) {
  return compare(ctx, [](auto a, auto b) { return a >= b; }, false);
}
result<void> less_kernel(kernel_context& ctx) {
  return compare(ctx, [](auto a, auto b) { return a < b; }, false);
}
result<void> less_equal_kernel(kernel_context& ctx) {
  return compare(ctx, [](auto a, auto b) { return a <= b; }, false);
}

template <class Op>
result<void> logical(kernel_context& ctx, Op op) {
  auto ops = binary_inputs(ctx);
  if (!ops) return ops.error();
  if (ops->a.type() != dtype::boolean)
    return ctx.unsupported("input type " + std::string(to_string(ops->a.type())) +
                           " is not supported (bool only)");
  tensor out(dtype::boolean, ops->out_shape);
  broadcast_binary<bool, bool, bool>(ops->a, ops->b, out, op);
  ctx.outputs[0] = std::move(out);
  return {};
}

result<void> and_kernel(kernel_context& ctx) {
  return logical(ctx, [](bool a, bool b) { return a && b; });
}
result<void> or_kernel(kernel_context& ctx) {
  return logical(ctx, [](bool a, bool b) { return a || b; });
}
result<void> xor_kernel(kernel_context& ctx) {
  return logical(ctx, [](bool a, bool b) { return a != b; });
}

result<void> bit_shift_kernel(kernel_context& ctx) {
  const std::string direction = ctx.n.get_string("direction", "");
  if (direction != "LEFT" && direction != "RIGHT")
    return ctx.invalid("attribute 'direction' must be LEFT or RIGHT, got '" + direction + "'");
  const bool left = direction == "LEFT";
  auto ops = binary_inputs(ctx);
  if (!ops) return ops.error();
  tensor out(ops->a.type(), ops->out_shape);
  bool ok = false;
  dispatch_numeric(ops->a.type(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_unsigned_v<T>) {
      ok = true;
      broadcast_binary<T, T, T>(ops->a, ops->b, out, [left](T a, T b) -> T {
        // Shifting by the width or more is undefined in C++; every bit is shifted out.
        if (b >= sizeof(T) * 8) return 0;
        return static_cast<T>(left ? a << b : a >> b);
      });
    }
  });
  if (!ok) return ctx.unsupported("input type " + std::string(to_string(ops->a.type())) +
                                  " is not supported (unsigned integers only)");
  ctx.outputs[0] = std::move(out);
  return {};
}

result<void> where_kernel(kernel_context& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1) || !ctx.has_input(2))
    return ctx.invalid("three inputs are required");
  const tensor& c = ctx.input(0);
  const tensor& x = ctx.input(1);
  const tensor& y = ctx.input(2);
  if (c.type() != dtype::boolean)
    return ctx.invalid("condition must be bool, got " + std::string(to_string(c.type())));
  if (x.type() != y.type())
    return ctx.invalid("X and Y types differ: " + std::string(to_string(x.type())) + " and " +
                       std::string(to_string(y.type())));
  auto xy = broadcast_shapes(x.shape(), y.shape());
  auto shape = xy ? broadcast_shapes(c.shape(), *xy) : std::nullopt;
  if (!shape)
    return ctx.invalid("shapes " + to_string(c.shape()) + ", " + to_string(x.shape()) + " and " +
                       to_string(y.shape()) + " do not broadcast");
  tensor out(x.type(), *shape);
  auto plan = plan_broadcast<3>(*shape, {c.shape(), x.shape(), y.shape()});
  bool ok = dispatch_any(x.type(), [&](auto tag) {
    using T = decltype(tag);
    const bool* pc = c.data<bool>();
    const T* px = x.data<T>();
    const T* py = y.data<T>();
    T* po = out.data<T>();
    for_each_run(plan, [&](const std::array<std::int64_t, 3>& off,
                           const std::array<std::int64_t, 3>& step, std::int64_t n, std::int64_t o) {
      for (std::int64_t i = 0; i < n; ++i)
        po[o + i] = pc[off[0] + i * step[0]] ? px[off[1] + i * step[1]] : py[off[2] + i * step[2]];
    });
  });
  if (!ok) return ctx.unsupported("input type " + std::string(to_string(x.type())) + " is not supported");
  ctx.outputs[0] = std::move(out);
  return {};
}

result<void> prelu_kernel(kernel_context& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.invalid("two inputs are required");
  const tensor& x = ctx.input(0);
  tensor slope = ctx.input(1);
  if (slope.type() != x.type())
    return ctx.invalid("slope type " + std::string(to_string(slope.type())) +
                       " differs from input type " + std::string(to_string(x.type())));
  // Before opset 7 a 1-D slope of C values applies per channel (dimension 1).
  if (ctx.opset < 7 && slope.rank() == 1 && x.rank() > 2 && slope.shape()[0] == x.shape()[1] &&
      slope.shape()[0] != 1) {
    shape_t per_channel(x.rank() - 1, 1);
    per_channel[0] = slope.shape()[0];
    slope = slope.reshaped(per_channel);
  }
  auto shape = broadcast_shapes(x.shape(), slope.shape());
  if (!shape || *shape != x.shape())
    return ctx.invalid("slope shape " + to_string(slope.shape()) +
                       " does not broadcast to the input shape " + to_string(x.shape()));
  auto prelu = [](auto v, auto s) -> decltype(v) { return v < decltype(v){0} ? v * s : v; };
  if (is_half(x.type())) {
    tensor out(dtype::f32, x.shape());
    broadcast_binary<float, float, float>(widen_half(x), widen_half(slope), out, prelu);
    ctx.outputs[0] = narrow_half(out, x.type());
    return {};
  }
  tensor out(x.type(), x.shape());
  bool ok = dispatch_numeric(x.type(), [&](auto tag) {
    using T = decltype(tag);
    broadcast_binary<T, T, T>(x, slope, out, prelu);
  });
  if (!ok) return ctx.unsupported("input type " + std::string(to_string(x.type())) + " is not supported");
  ctx.outputs[0] = std::move(out);
  return {};
}

}  // namespace

void register_binary_logic_kernels(kernel_registry& r) {
  r.add("", "Equal", guarded(equal_kernel), 1);
  r.add("", "Greater", guarded(greater_kernel), 1);
  r.add("", "GreaterOrEqual", guarded(greater_equal_kernel), 12);
  r.add("", "Less", guarded(less_kernel), 1);
  r.add("", "LessOrEqual", guarded(less_equal_kernel), 12);
  r.add("", "And", guarded(and_kernel), 1);
  r.add("", "Or", guarded(or_kernel), 1);
  r.add("", "Xor", guarded(xor_kernel), 1);
  r.add("", "BitShift", guarded(bit_shift_kernel), 11);
  r.add("", "Where", guarded(where_kernel), 9);
  r.add("", "PRelu", guarded(prelu_kernel), 1);
}

}  // namespace edgert::engine::kernels
