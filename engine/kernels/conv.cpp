// Conv and ConvTranspose reference kernels (float, double; float16/bfloat16 through float).
// Conv is im2col + GEMM per image and group; ConvTranspose is GEMM + col2im.
// The kernels keep no state between calls; any thread may run them.
#include <algorithm>
#include <string>
#include <vector>

#include "engine/kernel.hpp"
#include "engine/kernels/conv_detail.hpp"
#include "engine/kernels/dispatch.hpp"
#include "engine/kernels/gemm.hpp"
#include "engine/kernels/register.hpp"
#include "engine/kernels/spatial.hpp"

namespace edgert::engine {

namespace {

using spatial::geometry;
using spatial::list;

// Shape checks shared by Conv and ConvTranspose: X is [N, C, spatial...], W is
// [M or C, ..., kernel...], kernel_shape (if given) must agree with W.
result<std::vector<std::int64_t>> kernel_extents(const kernel_context& ctx, const tensor& x,
                                                 const tensor& w) {
  if (x.rank() < 3)
    return ctx.invalid("input X must have rank >= 3 ([N, C, spatial...]), got " + to_string(x.shape()));
  if (w.rank() != x.rank())
    return ctx.invalid("weights W " + to_string(w.shape()) + " must have the rank of X " +
                       to_string(x.shape()));
  std::vector<std::int64_t> kernel(w.shape().begin() + 2, w.shape().end());
  auto attr = ctx.n.get_ints("kernel_shape");
  if (!attr.empty() && attr != kernel)
    return ctx.invalid("kernel_shape " + list(attr) + " does not match the weights " + to_string(w.shape()));
  return kernel;
}

template <class T>
void add_bias(T* y, const T* bias, std::int64_t channels, std::int64_t size) {
  for (std::int64_t m = 0; m < channels; ++m)
    for (std::int64_t i = 0; i < size; ++i) y[m * size + i] += bias[m];
}

template <class T>
result<void> conv_typed(kernel_context& ctx, const geometry& g, std::int64_t group) {
  const tensor& x = ctx.input(0);
  const tensor& w = ctx.input(1);
  const std::int64_t N = x.shape()[0], C = x.shape()[1], M = w.shape()[0];
  shape_t out_shape{N, M};
  out_shape.insert(out_shape.end(), g.out.begin(), g.out.end());
  tensor y(dtype_of<T>(), out_shape);
  conv_forward<T>(x.data<T>(), w.data<T>(), y.data<T>(), N, C, M, group, g);
  if (ctx.has_input(2))
    for (std::int64_t n = 0; n < N; ++n)
      add_bias(y.data<T>() + n * M * g.out_size(), ctx.input(2).data<T>(), M, g.out_size());
  ctx.outputs[0] = y;
  return {};
}

result<void> conv(kernel_context& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.invalid("Conv needs inputs X and W");
  const tensor& x = ctx.input(0);
  const tensor& w = ctx.input(1);
  if (x.type() != w.type())
    return ctx.invalid("X (" + std::string(to_string(x.type())) + ") and W (" +
                       std::string(to_string(w.type())) + ") must have the same type");
  auto kernel = kernel_extents(ctx, x, w);
  if (!kernel) return kernel.error();
  const std::int64_t group = ctx.n.get_int("group", 1);
  const std::int64_t C = x.shape()[1], M = w.shape()[0];
  if (group <= 0 || C % group != 0 || M % group != 0)
    return ctx.invalid("group " + std::to_string(group) + " must divide the input channels (" +
                       std::to_string(C) + ") and output channels (" + std::to_string(M) + ")");
  if (w.shape()[1] != C / group)
    return ctx.invalid("W " + to_string(w.shape()) + " must have C/group = " + std::to_string(C / group) +
                       " input channels for X " + to_string(x.shape()) + " and group " + std::to_string(group));
  if (ctx.has_input(2) && (ctx.input(2).type() != x.type() || ctx.input(2).shape() != shape_t{M}))
    return ctx.invalid("bias B " + to_string(ctx.input(2).shape()) + " must be a 1-D tensor of " +
                       std::to_string(M) + " values of the input type");
  std::vector<std::int64_t> in(x.shape().begin() + 2, x.shape().end());
  auto g = spatial::resolve(ctx, in, *kernel, {});
  if (!g) return g.error();
  result<void> r = ctx.unsupported(std::string("Conv on ") + std::string(to_string(x.type())) + " tensors");
  dispatch_float(x.type(), [&](auto v) { r = conv_typed<decltype(v)>(ctx, *g, group); });
  return r;
}

// ConvTranspose: scatter-adds one column matrix col[Mg * taps][in_size] into the output
// image of Mg channels (the adjoint of im2col).
template <class T>
void col2im(const T* col, std::int64_t channels, const geometry& g, const std::vector<std::int64_t>& grid,
            const std::vector<std::int64_t>& out, T* y) {
  std::int64_t grid_size = 1, out_size = 1;
  for (auto d : grid) grid_size *= d;
  for (auto d : out) out_size *= d;
  const std::int64_t taps = g.kernel_size(), width = grid.back(), s = g.strides.back();
  for (std::int64_t c = 0; c < channels; ++c) {
    T* yc = y + c * out_size;
    spatial::for_each_window_row(grid, out, g, [&](std::int64_t tap, std::int64_t gr, std::int64_t base,
                                                   std::int64_t lo, std::int64_t hi) {
      if (base < 0) return;
      const T* src = col + (c * taps + tap) * grid_size + gr * width;
      const std::int64_t k_last = tap % g.kernel.back();
      T* dst = yc + base + k_last * g.dilations.back() - g.pad_begin.back();
      for (std::int64_t j = lo; j < hi; ++j) dst[j * s] += src[j];
    });
  }
}

template <class T>
result<void> conv_transpose_typed(kernel_context& ctx, const geometry& g, std::int64_t group,
                                  const std::vector<std::int64_t>& out) {
  const tensor& x = ctx.input(0);
  const tensor& w = ctx.input(1);
  const std::int64_t N = x.shape()[0], C = x.shape()[1];
  const std::int64_t Cg = C / group, Mg = w.shape()[1], M = Mg * group;
  shape_t out_shape{N, M};
  out_shape.insert(out_shape.end(), out.begin(), out.end());
  tensor y(dtype_of<T>(), out_shape);
  const std::int64_t in_size = g.in_size(), taps = g.kernel_size(), rows = Mg * taps;
  std::int64_t out_size = 1;
  for (auto d : out) out_size *= d;
  // W_g is [Cg][Mg * taps]; its transpose makes the GEMM's left operand.
  std::vector<T> wt(static_cast<std::size_t>(group * rows * Cg));
  const T* wd = w.data<T>();
  for (std::int64_t gi = 0; gi < group; ++gi)
    for (std::int64_t c = 0; c < Cg; ++c)
      for (std::int64_t r = 0; r < rows; ++r) wt[(gi * rows + r) * Cg + c] = wd[(gi * Cg + c) * rows + r];
  std::vector<T> col(static_cast<std::size_t>(rows * in_size));
  const T* xd = x.data<T>();
  T* yd = y.data<T>();
  for (std::int64_t n = 0; n < N; ++n) {
    for (std::int64_t gi = 0; gi < group; ++gi) {
      gemm<T>(rows, in_size, Cg, wt.data() + gi * rows * Cg, Cg, xd + (n * C + gi * Cg) * in_size, in_size,
              col.data(), in_size, false);
      col2im(col.data(), Mg, g, g.in, out, yd + (n * M + gi * Mg) * out_size);
    }
    if (ctx.has_input(2)) add_bias(yd + n * M * out_size, ctx.input(2).data<T>(), M, out_size);
  }
  ctx.outputs[0] = y;
  return {};
}

result<void> conv_transpose(kernel_context& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.invalid("ConvTranspose needs inputs X and W");
  const tensor& x = ctx.input(0);
  const tensor& w = ctx.input(1);
  if (x.type() != w.type())
    return ctx.invalid("X (" + std::string(to_string(x.type())) + ") and W (" +
                       std::string(to_string(w.type())) + ") must have the same type");
  auto kernel = kernel_extents(ctx, x, w);
  if (!kernel) return kernel.error();
  const std::int64_t group = ctx.n.get_int("group", 1);
  const std::int64_t C = x.shape()[1];
  if (group <= 0 || C % group != 0 || w.shape()[0] != C)
    return ctx.invalid("W " + to_string(w.shape()) + " must be [C, M/group, kernel...] for X " +
                       to_string(x.shape()) + " and group " + std::to_string(group));
  const std::int64_t M = w.shape()[1] * group;
  if (ctx.has_input(2) && (ctx.input(2).type() != x.type() || ctx.input(2).shape() != shape_t{M}))
    return ctx.invalid("bias B " + to_string(ctx.input(2).shape()) + " must be a 1-D tensor of " +
                       std::to_string(M) + " values of the input type");

  const std::size_t r = x.rank() - 2;
  geometry g;
  g.in.assign(x.shape().begin() + 2, x.shape().end());
  g.kernel = *kernel;
  auto fill = [&](const char* name, std::int64_t fallback, std::size_t count) -> result<std::vector<std::int64_t>> {
    auto v = ctx.n.get_ints(name);
    if (v.empty()) v.assign(count, fallback);
    if (v.size() != count)
      return ctx.invalid(std::string(name) + " " + list(v) + " must have " + std::to_string(count) + " values");
    return v;
  };
  auto strides = fill("strides", 1, r);
  auto dilations = fill("dilations", 1, r);
  auto output_padding = fill("output_padding", 0, r);
  auto pads = fill("pads", 0, 2 * r);
  for (auto* v : {&strides, &dilations, &output_padding, &pads})
    if (!*v) return v->error();
  g.strides = *strides;
  g.dilations = *dilations;
  for (std::size_t i = 0; i < r; ++i)
    if (g.strides[i] <= 0 || g.dilations[i] <= 0)
      return ctx.invalid("strides " + list(g.strides) + " and dilations " + list(g.dilations) + " must be positive");
  g.pad_begin.assign(pads->begin(), pads->begin() + r);
  g.pad_end.assign(pads->begin() + r, pads->end());

  const std::string auto_pad = ctx.n.get_string("auto_pad", "NOTSET");
  if (auto_pad != "NOTSET" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER" && auto_pad != "VALID" &&
      !auto_pad.empty())
    return ctx.invalid("unknown auto_pad '" + auto_pad + "'");
  auto requested = ctx.n.get_ints("output_shape");
  if (requested.size() == r + 2) requested.erase(requested.begin(), requested.begin() + 2);
  if (!requested.empty() && requested.size() != r)
    return ctx.invalid("output_shape " + list(requested) + " must have " + std::to_string(r) + " values");
  const bool same = auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER";
  if (requested.empty() && same)
    for (std::size_t i = 0; i < r; ++i) requested.push_back(g.in[i] * g.strides[i]);

  std::vector<std::int64_t> out(r);
  for (std::size_t i = 0; i < r; ++i) {
    const std::int64_t full = g.strides[i] * (g.in[i] - 1) + (*output_padding)[i] +
                              (g.kernel[i] - 1) * g.dilations[i] + 1;
    if (auto_pad == "VALID") g.pad_begin[i] = g.pad_end[i] = 0;
    if (!requested.empty()) {
      const std::int64_t total = full - requested[i];
      if (total < 0) {
        // A larger requested output extends past the computed one, like output_padding.
        g.pad_begin[i] = 0;
        g.pad_end[i] = total;
      } else if (auto_pad == "SAME_UPPER") {
        g.pad_begin[i] = total / 2;
        g.pad_end[i] = total - total / 2;
      } else {
        g.pad_begin[i] = total - total / 2;
        g.pad_end[i] = total / 2;
      }
      out[i] = requested[i];
    } else {
      out[i] = full - g.pad_begin[i] - g.pad_end[i];
    }
    if (out[i] < 0)
      return ctx.invalid("the output extent " + std::to_string(out[i]) + " on spatial axis " + std::to_string(i) +
                         " is negative (pads " + list(*pads) + ")");
  }
  g.out = out;
  result<void> res = ctx.unsupported(std::string("ConvTranspose on ") + std::string(to_string(x.type())) + " tensors");
  dispatch_float(x.type(), [&](auto v) { res = conv_transpose_typed<decltype(v)>(ctx, g, group, out); });
  return res;
}

}  // namespace

void register_conv_kernels(kernel_registry& r) {
  r.add("", "Conv", [](kernel_context& ctx) { return spatial::with_half_promoted(ctx, conv); }, 1);
  r.add("", "ConvTranspose",
        [](kernel_context& ctx) { return spatial::with_half_promoted(ctx, conv_transpose); }, 1);
}

}  // namespace edgert::engine
