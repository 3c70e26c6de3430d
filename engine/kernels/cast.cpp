// Cast, CastLike, Identity and Clip.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/kernels/unary.hpp"

namespace edgert::engine::kernels {
namespace {

// float -> bfloat16 by dropping the low 16 bits (NaN stays a quiet NaN).
std::uint16_t truncate_to_bfloat16(float f) {
  if (std::isnan(f)) return float_to_bfloat16(f);
  std::uint32_t bits;
  std::memcpy(&bits, &f, 4);
  return static_cast<std::uint16_t>(bits >> 16);
}

// Converts x to `target`; the caller has checked that both types can be held by a tensor.
// Before opset 19, ONNX's reference Cast to bfloat16 truncates (the backend tests of those
// opsets expect it); opset 19 specifies rounding to nearest even.
tensor cast_tensor(const tensor& x, dtype target, std::int64_t opset) {
  tensor y(target, x.shape());
  const std::int64_t n = x.elements();
  if (target == dtype::bf16 && opset < 19 && (x.type() == dtype::f32 || x.type() == dtype::f64)) {
    const tensor f = x.type() == dtype::f32 ? x : cast_tensor(x, dtype::f32, opset);
    const float* in = f.data<float>();
    auto* out = y.data<std::uint16_t>();
    for (std::int64_t i = 0; i < n; ++i) out[i] = truncate_to_bfloat16(in[i]);
    return y;
  }
  dispatch_all(x.type(), [&](auto src_tag) {
    using S = decltype(src_tag);
    const S* in = x.data<S>();
    dispatch_all(target, [&](auto dst_tag) {
      using D = decltype(dst_tag);
      D* out = y.data<D>();
      for (std::int64_t i = 0; i < n; ++i) out[i] = convert_value<D>(in[i]);
    });
  });
  return y;
}

result<void> cast_to(kernel_context& ctx, dtype target, const std::string& target_name) {
  const tensor& x = ctx.input(0);
  if (x.type() == dtype::string || target == dtype::string)
    return ctx.unsupported("casting from or to string is not supported");
  if (!is_supported(x.type())) return ctx.unsupported(type_message(x));
  if (!is_supported(target)) return ctx.unsupported("target type " + target_name + " is not supported");
  ctx.outputs[0] = cast_tensor(x, target, ctx.opset);
  return {};
}

result<void> cast_kernel(kernel_context& ctx) {
  if (!ctx.has_input(0)) return ctx.invalid("input 0 is missing");
  const attribute* to = ctx.n.find("to");
  if (!to) return ctx.invalid("attribute 'to' is missing");
  // Opset 1 names the type as a string ("FLOAT"); later opsets use the TensorProto number.
  dtype target = dtype::undefined;
  std::string name = std::to_string(to->i);
  if (to->type == attribute::kind::s) {
    static const std::pair<const char*, dtype> names[] = {
        {"FLOAT", dtype::f32},   {"UINT8", dtype::u8},     {"INT8", dtype::i8},
        {"UINT16", dtype::u16},  {"INT16", dtype::i16},    {"INT32", dtype::i32},
        {"INT64", dtype::i64},   {"STRING", dtype::string}, {"BOOL", dtype::boolean},
        {"FLOAT16", dtype::f16}, {"DOUBLE", dtype::f64},   {"UINT32", dtype::u32},
        {"UINT64", dtype::u64},  {"BFLOAT16", dtype::bf16}};
    name = to->s;
    for (auto& [key, value] : names)
      if (to->s == key) target = value;
  } else {
    target = from_onnx(static_cast<std::int32_t>(to->i));
  }
  return cast_to(ctx, target, name);
}

result<void> cast_like_kernel(kernel_context& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.invalid("CastLike needs two inputs");
  dtype target = ctx.input(1).type();
  return cast_to(ctx, target, std::string(to_string(target)));
}

result<void> identity_kernel(kernel_context& ctx) {
  if (!ctx.has_input(0)) return ctx.invalid("input 0 is missing");
  ctx.outputs[0] = ctx.input(0).clone();
  return {};
}

// Reads an optional scalar bound of Clip (opset 11+) as T; `fallback` when omitted.
template <class T>
result<T> clip_bound(kernel_context& ctx, std::size_t index, T fallback, dtype x_type) {
  if (!ctx.has_input(index)) return fallback;
  const tensor& b = ctx.input(index);
  if (b.type() != x_type)
    return ctx.invalid("bound input " + std::to_string(index) + " has type " +
                       std::string(to_string(b.type())) + " but the input has type " +
                       std::string(to_string(x_type)));
  if (b.elements() != 1)
    return ctx.invalid("bound input " + std::to_string(index) + " must be a scalar, got shape " +
                       to_string(b.shape()));
  return b.data<T>()[0];
}

template <class T>
result<void> clip_typed(kernel_context& ctx, const tensor& x, dtype bound_type) {
  T lo = std::numeric_limits<T>::lowest();
  T hi = std::numeric_limits<T>::max();
  if (ctx.opset < 11) {
    if (ctx.n.find("min")) lo = convert_value<T>(static_cast<double>(ctx.n.get_float("min", 0)));
    if (ctx.n.find("max")) hi = convert_value<T>(static_cast<double>(ctx.n.get_float("max", 0)));
  } else if (bound_type != x.type()) {
    // Halves: the bounds are halves too; widen them the same way as x.
    if (ctx.has_input(1)) lo = convert_value<T>(to_doubles(ctx.input(1)).at(0));
    if (ctx.has_input(2)) hi = convert_value<T>(to_doubles(ctx.input(2)).at(0));
  } else {
    auto l = clip_bound<T>(ctx, 1, lo, bound_type);
    if (!l) return l.error();
    auto h = clip_bound<T>(ctx, 2, hi, bound_type);
    if (!h) return h.error();
    lo = *l;
    hi = *h;
  }
  // min(max(x, lo), hi): when lo > hi every output is hi, as ONNX specifies.
  auto f = [lo, hi](T v) -> T { return std::min(std::max(v, lo), hi); };
  ctx.outputs[0] = map_elements<T>(x, f);
  return {};
}

result<void> clip_kernel(kernel_context& ctx) {
  if (!ctx.has_input(0)) return ctx.invalid("input 0 is missing");
  const tensor& x = ctx.input(0);
  if (is_half(x.type())) {
    for (std::size_t i = 1; i <= 2; ++i)
      if (ctx.opset >= 11 && ctx.has_input(i) &&
          (ctx.input(i).type() != x.type() || ctx.input(i).elements() != 1))
        return ctx.invalid("bound input " + std::to_string(i) + " must be a " +
                           std::string(to_string(x.type())) + " scalar");
    tensor wide = widen_half(x);
    auto r = clip_typed<float>(ctx, wide, x.type());
    if (!r) return r;
    ctx.outputs[0] = narrow_half(ctx.outputs[0], x.type());
    return {};
  }
  result<void> r;
  bool ok = dispatch_numeric(x.type(), [&](auto tag) {
    r = clip_typed<decltype(tag)>(ctx, x, x.type());
  });
  if (!ok) return ctx.unsupported(type_message(x));
  return r;
}

}  // namespace

void register_cast_kernels(kernel_registry& r) {
  r.add("", "Cast", guarded(cast_kernel), 1);
  r.add("", "CastLike", guarded(cast_like_kernel), 15);
  r.add("", "Identity", guarded(identity_kernel), 1);
  r.add("", "Clip", guarded(clip_kernel), 1);
}

}  // namespace edgert::engine::kernels
