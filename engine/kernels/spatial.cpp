#include "engine/kernels/spatial.hpp"

#include <exception>
#include <new>

namespace edgert::engine::spatial {

namespace {

std::int64_t product(const std::vector<std::int64_t>& v) {
  std::int64_t p = 1;
  for (auto d : v) p *= d;
  return p;
}

std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  // b > 0; a may be negative.
  return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

}  // namespace

std::int64_t geometry::in_size() const { return product(in); }
std::int64_t geometry::out_size() const { return product(out); }
std::int64_t geometry::kernel_size() const { return product(kernel); }

std::string list(const std::vector<std::int64_t>& v) { return to_string(shape_t(v)); }

result<geometry> resolve(const kernel_context& ctx, const std::vector<std::int64_t>& in,
                         const std::vector<std::int64_t>& kernel, const window_options& opt) {
  const std::size_t r = in.size();
  geometry g;
  g.in = in;
  g.kernel = kernel;
  if (kernel.size() != r)
    return ctx.invalid("kernel_shape " + list(kernel) + " does not match the " +
                       std::to_string(r) + " spatial axes of the input");
  for (auto k : kernel)
    if (k <= 0) return ctx.invalid("kernel_shape " + list(kernel) + " has a non-positive extent");

  g.strides = ctx.n.get_ints("strides");
  if (g.strides.empty()) g.strides.assign(r, 1);
  if (g.strides.size() != r) return ctx.invalid("strides " + list(g.strides) + " must have " + std::to_string(r) + " values");
  for (auto s : g.strides)
    if (s <= 0) return ctx.invalid("strides " + list(g.strides) + " must be positive");

  g.dilations = opt.allow_dilations ? ctx.n.get_ints("dilations") : std::vector<std::int64_t>{};
  if (g.dilations.empty()) g.dilations.assign(r, 1);
  if (g.dilations.size() != r)
    return ctx.invalid("dilations " + list(g.dilations) + " must have " + std::to_string(r) + " values");
  for (auto d : g.dilations)
    if (d <= 0) return ctx.invalid("dilations " + list(g.dilations) + " must be positive");

  std::string auto_pad = ctx.n.get_string("auto_pad", "NOTSET");
  g.pad_begin.assign(r, 0);
  g.pad_end.assign(r, 0);
  g.out.assign(r, 0);
  if (auto_pad == "NOTSET" || auto_pad.empty()) {
    auto pads = ctx.n.get_ints("pads");
    if (!pads.empty() && pads.size() != 2 * r)
      return ctx.invalid("pads " + list(pads) + " must have " + std::to_string(2 * r) + " values");
    for (std::size_t i = 0; i < r && !pads.empty(); ++i) {
      g.pad_begin[i] = pads[i];
      g.pad_end[i] = pads[i + r];
      if (pads[i] < 0 || pads[i + r] < 0) return ctx.invalid("pads " + list(pads) + " must not be negative");
    }
    for (std::size_t i = 0; i < r; ++i) {
      std::int64_t span = in[i] + g.pad_begin[i] + g.pad_end[i] - ((kernel[i] - 1) * g.dilations[i] + 1);
      if (span < 0)
        return ctx.invalid("the window " + list(kernel) + " (dilations " + list(g.dilations) +
                           ") is larger than the padded input " + list(in));
      if (opt.ceil_mode) {
        g.out[i] = ceil_div(span, g.strides[i]) + 1;
        // The last window must start inside the input or the leading padding.
        if ((g.out[i] - 1) * g.strides[i] >= in[i] + g.pad_begin[i]) --g.out[i];
      } else {
        g.out[i] = span / g.strides[i] + 1;
      }
    }
  } else if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    for (std::size_t i = 0; i < r; ++i) {
      std::int64_t extent = (kernel[i] - 1) * g.dilations[i] + 1;
      g.out[i] = ceil_div(in[i], g.strides[i]);
      std::int64_t total = (g.out[i] - 1) * g.strides[i] + extent - in[i];
      if (total < 0) total = 0;
      g.pad_begin[i] = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
      g.pad_end[i] = total - g.pad_begin[i];
    }
  } else if (auto_pad == "VALID") {
    for (std::size_t i = 0; i < r; ++i) {
      std::int64_t span = in[i] - ((kernel[i] - 1) * g.dilations[i] + 1);
      if (span < 0)
        return ctx.invalid("auto_pad VALID: the window " + list(kernel) + " is larger than the input " + list(in));
      g.out[i] = span / g.strides[i] + 1;
    }
  } else {
    return ctx.invalid("unknown auto_pad '" + auto_pad + "'");
  }
  return g;
}

result<void> guarded(kernel_context& ctx, result<void> (*body)(kernel_context&)) {
  try {
    return body(ctx);
  } catch (const std::bad_alloc&) {
    return ctx.error(errc::out_of_memory, "out of memory allocating the output");
  } catch (const std::exception& e) {
    return ctx.error(errc::internal_error, e.what());
  }
}

result<void> with_half_promoted(kernel_context& ctx, result<void> (*body)(kernel_context&)) {
  dtype half = dtype::undefined;
  if (ctx.has_input(0) && (ctx.input(0).type() == dtype::f16 || ctx.input(0).type() == dtype::bf16))
    half = ctx.input(0).type();
  if (half == dtype::undefined) return guarded(ctx, body);

  try {
    std::vector<tensor> promoted(ctx.inputs.size());
    kernel_context inner{ctx.n, ctx.opset, ctx.inputs, {}};
    inner.outputs.resize(ctx.outputs.size());
    for (std::size_t i = 0; i < ctx.inputs.size(); ++i) {
      const tensor* t = ctx.inputs[i];
      if (!t || (t->type() != dtype::f16 && t->type() != dtype::bf16)) continue;
      promoted[i] = tensor(dtype::f32, t->shape());
      const auto* src = t->data<std::uint16_t>();
      float* dst = promoted[i].data<float>();
      const bool is_half = t->type() == dtype::f16;
      for (std::int64_t k = 0, n = t->elements(); k < n; ++k)
        dst[k] = is_half ? half_to_float(src[k]) : bfloat16_to_float(src[k]);
      inner.inputs[i] = &promoted[i];
    }
    auto r = body(inner);
    if (!r) return r;
    for (std::size_t i = 0; i < inner.outputs.size(); ++i) {
      tensor& o = inner.outputs[i];
      if (o.type() != dtype::f32) {
        ctx.outputs[i] = o;
        continue;
      }
      tensor back(half, o.shape());
      const float* src = o.data<float>();
      auto* dst = back.data<std::uint16_t>();
      for (std::int64_t k = 0, n = o.elements(); k < n; ++k)
        dst[k] = half == dtype::f16 ? float_to_half(src[k]) : float_to_bfloat16(src[k]);
      ctx.outputs[i] = back;
    }
    return {};
  } catch (const std::bad_alloc&) {
    return ctx.error(errc::out_of_memory, "out of memory converting half-precision tensors");
  } catch (const std::exception& e) {
    return ctx.error(errc::internal_error, e.what());
  }
}

}  // namespace edgert::engine::spatial
