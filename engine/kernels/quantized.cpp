// Quantization reference kernels with ONNX-exact integer arithmetic: QuantizeLinear,
// DequantizeLinear, DynamicQuantizeLinear, MatMulInteger and QLinearMatMul. The integer
// convolutions are in quantized_conv.cpp.
// The kernels keep no state between calls; any thread may run them.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "engine/kernel.hpp"
#include "engine/kernels/broadcast.hpp"
#include "engine/kernels/dispatch.hpp"
#include "engine/kernels/gemm.hpp"
#include "engine/kernels/quantized.hpp"
#include "engine/kernels/register.hpp"
#include "engine/kernels/spatial.hpp"
#include "engine/plan/int8/exact_scale.hpp"

namespace edgert::engine {

namespace quant {

bool read_floats(const tensor& t, std::vector<float>& out) {
  const std::int64_t n = t.elements();
  out.resize(static_cast<std::size_t>(n));
  switch (t.type()) {
    case dtype::f32: std::copy(t.data<float>(), t.data<float>() + n, out.begin()); return true;
    case dtype::f64:
      for (std::int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(t.data<double>()[i]);
      return true;
    case dtype::f16:
      for (std::int64_t i = 0; i < n; ++i) out[i] = half_to_float(t.data<std::uint16_t>()[i]);
      return true;
    case dtype::bf16:
      for (std::int64_t i = 0; i < n; ++i) out[i] = bfloat16_to_float(t.data<std::uint16_t>()[i]);
      return true;
    default: return false;
  }
}

bool read_ints(const tensor& t, std::vector<std::int32_t>& out) {
  out.resize(static_cast<std::size_t>(t.elements()));
  bool ok = false;
  dispatch_numeric(t.type(), [&](auto v) {
    using T = decltype(v);
    if constexpr (std::is_integral_v<T> && sizeof(T) <= 4 && !std::is_same_v<T, std::uint32_t>) {
      std::copy(t.data<T>(), t.data<T>() + t.elements(), out.begin());
      ok = true;
    }
  });
  return ok;
}

std::vector<std::int32_t> shifted(const tensor& t, const std::vector<std::int32_t>& zp, const shape_t& zp_shape) {
  std::vector<std::int32_t> out;
  read_ints(t, out);
  if (zp.empty()) return out;
  if (zp.size() == 1) {
    for (auto& v : out) v -= zp[0];
    return out;
  }
  std::size_t i = 0;
  for (broadcast_walker w(t.shape(), {broadcast_strides(zp_shape, t.shape())}); !w.done(); w.next())
    out[i++] -= zp[static_cast<std::size_t>(w.offset(0))];
  return out;
}

}  // namespace quant

namespace {

// Per-tensor or per-axis quantization parameters of QuantizeLinear/DequantizeLinear:
// element i of x uses scale[(i / inner) % channels].
struct axis_params {
  std::vector<float> scale;
  std::vector<std::int32_t> zero_point;  // empty: zero
  std::int64_t inner = 1;
  std::int64_t channels = 1;
};

result<axis_params> resolve_params(const kernel_context& ctx, const tensor& x) {
  axis_params p;
  if (ctx.n.get_int("block_size", 0) != 0) return ctx.unsupported("blocked quantization (block_size)");
  const tensor& scale = ctx.input(1);
  if (!quant::read_floats(scale, p.scale))
    return ctx.invalid("the scale must be a floating-point tensor, got " + std::string(to_string(scale.type())));
  const tensor* zp = ctx.has_input(2) ? ctx.inputs[2] : nullptr;
  if (zp) {
    if (!quant::read_ints(*zp, p.zero_point))
      return ctx.unsupported("zero points of type " + std::string(to_string(zp->type())));
    if (zp->elements() != scale.elements())
      return ctx.invalid("the zero point " + to_string(zp->shape()) + " must match the scale " + to_string(scale.shape()));
  }
  if (scale.elements() == 1 && scale.rank() <= 1) return p;
  if (ctx.opset < 13 || scale.rank() != 1)
    return ctx.invalid("the scale " + to_string(scale.shape()) + " must be a scalar" +
                       (ctx.opset >= 13 ? " or a 1-D tensor along 'axis'" : " before opset 13"));
  std::int64_t axis = ctx.n.get_int("axis", 1);
  const auto rank = static_cast<std::int64_t>(x.rank());
  if (axis < -rank || axis >= rank)
    return ctx.invalid("axis " + std::to_string(axis) + " is out of range for " + to_string(x.shape()));
  if (axis < 0) axis += rank;
  if (scale.elements() != x.shape()[axis])
    return ctx.invalid("the scale " + to_string(scale.shape()) + " must have one value per index of axis " +
                       std::to_string(axis) + " of " + to_string(x.shape()));
  p.channels = x.shape()[axis];
  for (std::int64_t d = axis + 1; d < rank; ++d) p.inner *= x.shape()[d];
  return p;
}

template <class Q>
void quantize_into(const std::vector<float>& x, const axis_params& p, tensor& y) {
  Q* yd = y.data<Q>();
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::size_t c = p.scale.size() == 1 ? 0 : static_cast<std::size_t>((static_cast<std::int64_t>(i) / p.inner) % p.channels);
    yd[i] = quant::quantize<Q>(x[i] / p.scale[c], p.zero_point.empty() ? 0 : p.zero_point[c]);
  }
}

result<void> quantize_linear(kernel_context& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.invalid("QuantizeLinear needs inputs x and y_scale");
  const tensor& x = ctx.input(0);
  std::vector<float> xv;
  if (x.type() == dtype::i32) {
    xv.resize(static_cast<std::size_t>(x.elements()));
    for (std::int64_t i = 0; i < x.elements(); ++i) xv[i] = static_cast<float>(x.data<std::int32_t>()[i]);
  } else if (!quant::read_floats(x, xv)) {
    return ctx.unsupported("QuantizeLinear of " + std::string(to_string(x.type())) + " input");
  }
  auto p = resolve_params(ctx, x);
  if (!p) return p.error();
  const dtype out = ctx.has_input(2) ? ctx.input(2).type() : dtype::u8;
  tensor y(out, x.shape());
  switch (out) {
    case dtype::u8: quantize_into<std::uint8_t>(xv, *p, y); break;
    case dtype::i8: quantize_into<std::int8_t>(xv, *p, y); break;
    case dtype::u16: quantize_into<std::uint16_t>(xv, *p, y); break;
    case dtype::i16: quantize_into<std::int16_t>(xv, *p, y); break;
    default: return ctx.unsupported("QuantizeLinear to " + std::string(to_string(out)));
  }
  ctx.outputs[0] = y;
  return {};
}

result<void> dequantize_linear(kernel_context& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.invalid("DequantizeLinear needs inputs x and x_scale");
  const tensor& x = ctx.input(0);
  std::vector<std::int32_t> xv;
  if (!quant::read_ints(x, xv)) return ctx.unsupported("DequantizeLinear of " + std::string(to_string(x.type())));
  if (ctx.has_input(2) && ctx.input(2).type() != x.type())
    return ctx.invalid("the zero point must have the type of x");
  auto p = resolve_params(ctx, x);
  if (!p) return p.error();
  const dtype scale_type = ctx.input(1).type();
  const dtype out = scale_type == dtype::f16 || scale_type == dtype::bf16 ? scale_type : dtype::f32;
  tensor y(out, x.shape());
  for (std::size_t i = 0; i < xv.size(); ++i) {
    const std::size_t c = p->scale.size() == 1 ? 0 : static_cast<std::size_t>((static_cast<std::int64_t>(i) / p->inner) % p->channels);
    const std::int64_t diff = static_cast<std::int64_t>(xv[i]) - (p->zero_point.empty() ? 0 : p->zero_point[c]);
    const float v = static_cast<float>(diff) * p->scale[c];
    if (out == dtype::f32)
      y.data<float>()[i] = v;
    else
      y.data<std::uint16_t>()[i] = out == dtype::f16 ? float_to_half(v) : float_to_bfloat16(v);
  }
  ctx.outputs[0] = y;
  return {};
}

result<void> dynamic_quantize_linear(kernel_context& ctx) {
  if (!ctx.has_input(0)) return ctx.invalid("DynamicQuantizeLinear needs input x");
  const tensor& x = ctx.input(0);
  std::vector<float> xv;
  if (!quant::read_floats(x, xv)) return ctx.unsupported("DynamicQuantizeLinear of " + std::string(to_string(x.type())));
  // The range always includes 0 so that 0 is exactly representable.
  float lo = 0.f, hi = 0.f;
  for (float v : xv) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  float scale = (hi - lo) / 255.f;
  std::uint8_t zero_point = 0;
  if (scale == 0.f) {
    // All-zero input: any scale represents it; 1 keeps the outputs finite downstream.
    scale = 1.f;
  } else {
    zero_point = quant::quantize<std::uint8_t>(0.f - lo / scale, 0);
  }
  tensor y(dtype::u8, x.shape()), ys(dtype::f32, {}), yz(dtype::u8, {});
  for (std::size_t i = 0; i < xv.size(); ++i) y.data<std::uint8_t>()[i] = quant::quantize<std::uint8_t>(xv[i] / scale, zero_point);
  ys.data<float>()[0] = scale;
  yz.data<std::uint8_t>()[0] = zero_point;
  ctx.outputs[0] = y;
  if (ctx.outputs.size() > 1) ctx.outputs[1] = ys;
  if (ctx.outputs.size() > 2) ctx.outputs[2] = yz;
  return {};
}

// A matmul-side parameter (zero point or scale) as values plus the shape they broadcast
// with: a 1-D parameter of a row-side operand (a, y) runs along the rows ([M, 1]); of the
// column-side operand (b) along the columns ([N]).
struct side_param {
  std::vector<float> f;
  std::vector<std::int32_t> i;
  shape_t shape;
};

result<side_param> read_side(const kernel_context& ctx, std::size_t input, bool rows, bool as_float,
                             const shape_t& target, const char* what) {
  side_param p;
  if (!ctx.has_input(input)) return p;
  const tensor& t = ctx.input(input);
  if (as_float ? !quant::read_floats(t, p.f) : !quant::read_ints(t, p.i))
    return ctx.invalid(std::string(what) + " has the unsupported type " + std::string(to_string(t.type())));
  p.shape = t.shape();
  if (t.elements() == 1) {
    p.shape = {};
  } else if (t.rank() == 1 && rows) {
    p.shape = {t.elements(), 1};
  }
  auto b = broadcast_shapes(p.shape, target);
  if (!b || *b != target)
    return ctx.invalid(std::string(what) + " " + to_string(t.shape()) + " does not broadcast " +
                       (rows ? "per row" : "per column") + " onto " + to_string(target));
  return p;
}

// The int32 accumulators of (a - a_zp) x (b - b_zp) over the matmul plan's full shape.
result<tensor> integer_matmul(const kernel_context& ctx, std::size_t b_index, std::size_t a_zp, std::size_t b_zp,
                              matmul_plan& plan) {
  const tensor& a = ctx.input(0);
  const tensor& b = ctx.input(b_index);
  if (!quant::is_q8(a.type()) || !quant::is_q8(b.type()))
    return ctx.unsupported("integer matmul of " + std::string(to_string(a.type())) + " and " +
                           std::string(to_string(b.type())));
  std::string error;
  if (!plan_matmul(a.shape(), b.shape(), plan, error)) return ctx.invalid(error);
  const shape_t a_full = a.rank() == 1 ? shape_t{1, a.shape()[0]} : a.shape();
  const shape_t b_full = b.rank() == 1 ? shape_t{b.shape()[0], 1} : b.shape();
  for (auto [index, operand] : {std::pair<std::size_t, const tensor*>{a_zp, &a}, {b_zp, &b}})
    if (ctx.has_input(index) && ctx.input(index).type() != operand->type())
      return ctx.invalid("a zero point must have the type of its operand");
  auto za = read_side(ctx, a_zp, true, false, a_full, "a_zero_point");
  if (!za) return za.error();
  auto zb = read_side(ctx, b_zp, false, false, b_full, "b_zero_point");
  if (!zb) return zb.error();
  const std::vector<std::int32_t> av = quant::shifted(a.reshaped(a_full), za->i, za->shape);
  const std::vector<std::int32_t> bv = quant::shifted(b.reshaped(b_full), zb->i, zb->shape);
  tensor acc(dtype::i32, plan.full_shape);
  const std::int64_t M = plan.M, N = plan.N, K = plan.K;
  for (std::size_t m = 0; m < plan.a_matrix.size(); ++m)
    gemm<std::int32_t>(M, N, K, av.data() + plan.a_matrix[m] * M * K, K, bv.data() + plan.b_matrix[m] * K * N, N,
                       acc.data<std::int32_t>() + static_cast<std::int64_t>(m) * M * N, N, false);
  return acc;
}

result<void> matmul_integer(kernel_context& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.invalid("MatMulInteger needs inputs A and B");
  matmul_plan plan;
  auto acc = integer_matmul(ctx, 1, 2, 3, plan);
  if (!acc) return acc.error();
  ctx.outputs[0] = acc->reshaped(plan.out_shape);
  return {};
}

template <class Q>
void requantize_matmul(const tensor& acc, const side_param& as, const side_param& bs, const side_param& ys,
                       const side_param& yz, tensor& y) {
  const shape_t& shape = acc.shape();
  const std::int32_t* ad = acc.data<std::int32_t>();
  Q* yd = y.data<Q>();
  std::size_t i = 0;
  for (broadcast_walker w(shape, {broadcast_strides(as.shape, shape), broadcast_strides(bs.shape, shape),
                                  broadcast_strides(ys.shape, shape), broadcast_strides(yz.shape, shape)});
       !w.done(); w.next(), ++i) {
    const float a_s = as.f[w.offset(0)], b_s = bs.f[w.offset(1)], y_s = ys.f[w.offset(2)];
    const std::int32_t zp = yz.i.empty() ? 0 : yz.i[w.offset(3)];
    // Exact requantization (engine/plan/int8/exact_scale.hpp); the float32 product only for
    // scales that are not positive finite numbers.
    if (auto exact = planning::int8::exact_scale::make({a_s, b_s}, {y_s})) {
      const std::int64_t r = exact->rescale(ad[i]) + zp;
      yd[i] = static_cast<Q>(planning::int8::saturate(r, std::numeric_limits<Q>::lowest(), std::numeric_limits<Q>::max()));
    } else {
      yd[i] = quant::quantize<Q>(static_cast<float>(ad[i]) * (a_s * b_s / y_s), zp);
    }
  }
}

result<void> qlinear_matmul(kernel_context& ctx) {
  for (std::size_t i : {0, 1, 3, 4, 6})
    if (!ctx.has_input(i)) return ctx.invalid("QLinearMatMul needs inputs a, a_scale, b, b_scale and y_scale");
  matmul_plan plan;
  auto acc = integer_matmul(ctx, 3, 2, 5, plan);
  if (!acc) return acc.error();
  const shape_t& full = plan.full_shape;
  auto as = read_side(ctx, 1, true, true, full, "a_scale");
  if (!as) return as.error();
  auto bs = read_side(ctx, 4, false, true, full, "b_scale");
  if (!bs) return bs.error();
  auto ys = read_side(ctx, 6, true, true, full, "y_scale");
  if (!ys) return ys.error();
  auto yz = read_side(ctx, 7, true, false, full, "y_zero_point");
  if (!yz) return yz.error();
  const dtype out = ctx.has_input(7) ? ctx.input(7).type() : dtype::u8;
  tensor y(out, full);
  if (out == dtype::u8)
    requantize_matmul<std::uint8_t>(*acc, *as, *bs, *ys, *yz, y);
  else if (out == dtype::i8)
    requantize_matmul<std::int8_t>(*acc, *as, *bs, *ys, *yz, y);
  else
    return ctx.unsupported("QLinearMatMul to " + std::string(to_string(out)));
  ctx.outputs[0] = y.reshaped(plan.out_shape);
  return {};
}

result<void> guard(kernel_context& ctx, result<void> (*body)(kernel_context&)) { return spatial::guarded(ctx, body); }

}  // namespace

void register_quantized_kernels(kernel_registry& r) {
  r.add("", "QuantizeLinear", [](kernel_context& ctx) { return guard(ctx, quantize_linear); }, 10);
  r.add("", "DequantizeLinear", [](kernel_context& ctx) { return guard(ctx, dequantize_linear); }, 10);
  r.add("", "DynamicQuantizeLinear", [](kernel_context& ctx) { return guard(ctx, dynamic_quantize_linear); }, 11);
  r.add("", "MatMulInteger", [](kernel_context& ctx) { return guard(ctx, matmul_integer); }, 10);
  r.add("", "QLinearMatMul", [](kernel_context& ctx) { return guard(ctx, qlinear_matmul); }, 10);
  r.add("", "QLinearConv", [](kernel_context& ctx) { return guard(ctx, quant::qlinear_conv_kernel); }, 10);
  r.add("", "ConvInteger", [](kernel_context& ctx) { return guard(ctx, quant::conv_integer_kernel); }, 10);
}

}  // namespace edgert::engine
