// QLinearConv and ConvInteger reference kernels: exact int32 accumulation of
// (x - x_zero_point) * (w - w_zero_point) through the shared convolution core (padding is
// the zero point, i.e. real zero), then for QLinearConv the ONNX requantization
// y = saturate(round_half_even(acc * (x_scale * w_scale / y_scale)) + y_zero_point).
// The kernels keep no state between calls; any thread may run them.
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "engine/kernel.hpp"
#include "engine/kernels/conv_detail.hpp"
#include "engine/kernels/quantized.hpp"
#include "engine/kernels/spatial.hpp"
#include "engine/plan/int8/exact_scale.hpp"

namespace edgert::engine::quant {

namespace {

struct int_conv {
  tensor acc;            // int32 [N, M, out...]
  std::int64_t M = 0;    // output channels
  std::int64_t out_size = 0;
};

// Validates the operands and computes the int32 accumulators. Inputs are given by index so
// QLinearConv (x 0, w 3, zero points 2 and 5) and ConvInteger (x 0, w 1, zero points 2 and 3)
// share it; a missing zero point is zero.
result<int_conv> accumulate(const kernel_context& ctx, std::size_t xi, std::size_t wi, std::size_t xzi,
                            std::size_t wzi) {
  if (!ctx.has_input(xi) || !ctx.has_input(wi)) return ctx.invalid("the inputs x and w are required");
  const tensor& x = ctx.input(xi);
  const tensor& w = ctx.input(wi);
  if (!is_q8(x.type()) || !is_q8(w.type()))
    return ctx.unsupported("integer convolution of " + std::string(to_string(x.type())) + " input and " +
                           std::string(to_string(w.type())) + " weights");
  if (x.rank() < 3 || w.rank() != x.rank())
    return ctx.invalid("x " + to_string(x.shape()) + " must be [N, C, spatial...] and w " + to_string(w.shape()) +
                       " [M, C/group, kernel...] of the same rank");
  const std::int64_t group = ctx.n.get_int("group", 1);
  const std::int64_t N = x.shape()[0], C = x.shape()[1], M = w.shape()[0];
  if (group <= 0 || C % group != 0 || M % group != 0 || w.shape()[1] != C / group)
    return ctx.invalid("w " + to_string(w.shape()) + " does not fit x " + to_string(x.shape()) + " with group " +
                       std::to_string(group));
  std::vector<std::int64_t> kernel(w.shape().begin() + 2, w.shape().end());
  auto attr = ctx.n.get_ints("kernel_shape");
  if (!attr.empty() && attr != kernel)
    return ctx.invalid("kernel_shape " + spatial::list(attr) + " does not match the weights " + to_string(w.shape()));
  std::vector<std::int64_t> in(x.shape().begin() + 2, x.shape().end());
  auto g = spatial::resolve(ctx, in, kernel, {});
  if (!g) return g.error();

  std::vector<std::int32_t> xz, wz;
  if (ctx.has_input(xzi)) {
    const tensor& z = ctx.input(xzi);
    if (z.type() != x.type() || z.elements() != 1)
      return ctx.invalid("x_zero_point " + to_string(z.shape()) + " must be one value of the type of x");
    read_ints(z, xz);
  }
  if (ctx.has_input(wzi)) {
    const tensor& z = ctx.input(wzi);
    if (z.type() != w.type() || (z.elements() != 1 && !(z.rank() == 1 && z.elements() == M)))
      return ctx.invalid("w_zero_point " + to_string(z.shape()) + " must be one value or one per output channel (" +
                         std::to_string(M) + ") of the type of w");
    read_ints(z, wz);
  }
  const std::vector<std::int32_t> xs = shifted(x, xz, {});
  std::vector<std::int32_t> ws;
  read_ints(w, ws);
  const std::int64_t per_channel = M == 0 ? 0 : w.elements() / M;
  for (std::int64_t m = 0; m < M && !wz.empty(); ++m) {
    const std::int32_t z = wz.size() == 1 ? wz[0] : wz[m];
    for (std::int64_t k = 0; k < per_channel; ++k) ws[m * per_channel + k] -= z;
  }
  shape_t out_shape{N, M};
  out_shape.insert(out_shape.end(), g->out.begin(), g->out.end());
  int_conv r;
  r.acc = tensor(dtype::i32, out_shape);
  r.M = M;
  r.out_size = g->out_size();
  conv_forward<std::int32_t>(xs.data(), ws.data(), r.acc.data<std::int32_t>(), N, C, M, group, *g);
  return r;
}

// Exact: round_half_even(acc * x_scale * w_scale / y_scale) on the real values of the float
// scales (engine/plan/int8/exact_scale.hpp), the float32 product only when a scale is not a
// positive finite number.
template <class Q>
void requantize(const int_conv& c, float x_scale, const std::vector<float>& w_scale, float y_scale,
                std::int32_t zero_point, tensor& y) {
  const std::int32_t* acc = c.acc.data<std::int32_t>();
  Q* yd = y.data<Q>();
  std::vector<std::optional<planning::int8::exact_scale>> exact;
  for (float ws : w_scale) exact.push_back(planning::int8::exact_scale::make({x_scale, ws}, {y_scale}));
  const std::int64_t total = c.acc.elements();
  for (std::int64_t i = 0; i < total; ++i) {
    const std::size_t m = w_scale.size() == 1 ? 0 : static_cast<std::size_t>((i / c.out_size) % c.M);
    if (exact[m]) {
      const std::int64_t r = exact[m]->rescale(acc[i]) + zero_point;
      yd[i] = static_cast<Q>(planning::int8::saturate(r, std::numeric_limits<Q>::lowest(), std::numeric_limits<Q>::max()));
    } else {
      yd[i] = quantize<Q>(static_cast<float>(acc[i]) * (x_scale * w_scale[m] / y_scale), zero_point);
    }
  }
}

}  // namespace

result<void> conv_integer_kernel(kernel_context& ctx) {
  auto c = accumulate(ctx, 0, 1, 2, 3);
  if (!c) return c.error();
  ctx.outputs[0] = c->acc;
  return {};
}

result<void> qlinear_conv_kernel(kernel_context& ctx) {
  for (std::size_t i : {0, 1, 3, 4, 6})
    if (!ctx.has_input(i)) return ctx.invalid("QLinearConv needs x, x_scale, w, w_scale and y_scale");
  auto c = accumulate(ctx, 0, 3, 2, 5);
  if (!c) return c.error();
  std::vector<float> x_scale, w_scale, y_scale;
  if (!read_floats(ctx.input(1), x_scale) || x_scale.size() != 1) return ctx.invalid("x_scale must be one float");
  if (!read_floats(ctx.input(6), y_scale) || y_scale.size() != 1) return ctx.invalid("y_scale must be one float");
  if (!read_floats(ctx.input(4), w_scale) ||
      (w_scale.size() != 1 && w_scale.size() != static_cast<std::size_t>(c->M)))
    return ctx.invalid("w_scale " + to_string(ctx.input(4).shape()) + " must be one float or one per output channel (" +
                       std::to_string(c->M) + ")");
  std::vector<std::int32_t> y_zero{0};
  const dtype out = ctx.has_input(7) ? ctx.input(7).type() : dtype::u8;
  if (ctx.has_input(7) && (!read_ints(ctx.input(7), y_zero) || y_zero.size() != 1))
    return ctx.invalid("y_zero_point must be one value");
  if (ctx.has_input(8)) {
    const tensor& b = ctx.input(8);
    if (b.type() != dtype::i32 || b.shape() != shape_t{c->M})
      return ctx.invalid("the bias B " + to_string(b.shape()) + " must be int32 with one value per output channel (" +
                         std::to_string(c->M) + ")");
    std::int32_t* acc = c->acc.data<std::int32_t>();
    const std::int32_t* bias = b.data<std::int32_t>();
    // Wrapping addition: an overflowing int32 accumulator is the model's problem, not UB.
    for (std::int64_t i = 0, total = c->acc.elements(); i < total; ++i)
      acc[i] = static_cast<std::int32_t>(static_cast<std::uint32_t>(acc[i]) +
                                         static_cast<std::uint32_t>(bias[(i / c->out_size) % c->M]));
  }
  tensor y(out, c->acc.shape());
  if (out == dtype::u8)
    requantize<std::uint8_t>(*c, x_scale[0], w_scale, y_scale[0], y_zero[0], y);
  else if (out == dtype::i8)
    requantize<std::int8_t>(*c, x_scale[0], w_scale, y_scale[0], y_zero[0], y);
  else
    return ctx.unsupported("QLinearConv to " + std::string(to_string(out)));
  ctx.outputs[0] = y;
  return {};
}

}  // namespace edgert::engine::quant
