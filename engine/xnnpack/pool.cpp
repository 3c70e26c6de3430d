// pool2d (see pool.hpp): geometry (ONNX floor/ceil output sizes, ceil_mode as extra trailing
// padding), the checks for what XNNPACK's pooling operators can express, and the run path.
#include "engine/xnnpack/pool.hpp"

#include <algorithm>
#include <cmath>
#include <new>
#include <utility>

#include "engine/xnnpack/detail.hpp"

namespace edgert::engine::xnn {

using detail::check;

namespace {

enum class op_type { max_f32, max_u8, max_s8, avg_f32, avg_qu8, gavg_f32, gavg_qu8, gavg_qs8 };

failure bad(const std::string& message) { return fail(errc::invalid_argument, "pool2d: " + message); }
failure unsupported(const std::string& message) { return fail(errc::not_implemented, "pool2d: " + message); }

const char* kind_name(pool_kind k) {
  return k == pool_kind::max ? "maxpool" : k == pool_kind::average ? "avgpool" : "global avgpool";
}

}  // namespace

struct pool2d::impl {
  detail::operator_ptr op;
  op_type type = op_type::max_f32;
  std::size_t batch = 0, height = 0, width = 0;
  shape_t output_shape;
  std::size_t input_bytes = 0, output_bytes = 0;
  bool flip = false;              // int8 average pooling computed in uint8
  detail::scratch input_scratch;  // the flipped input, when flip
  std::string description;

  result<void> setup(const void* in, void* out, pthreadpool* pool) {
    const std::size_t n = batch, h = height, w = width;
    xnn_status status = xnn_status_success;
    switch (type) {
      case op_type::max_f32:
        status = xnn_setup_max_pooling2d_nhwc_f32(op.get(), n, h, w, static_cast<const float*>(in),
                                                  static_cast<float*>(out), pool);
        break;
      case op_type::max_u8:
        status = xnn_setup_max_pooling2d_nhwc_u8(op.get(), n, h, w, static_cast<const uint8_t*>(in),
                                                 static_cast<uint8_t*>(out), pool);
        break;
      case op_type::max_s8:
        status = xnn_setup_max_pooling2d_nhwc_s8(op.get(), n, h, w, static_cast<const int8_t*>(in),
                                                 static_cast<int8_t*>(out), pool);
        break;
      case op_type::avg_f32:
        status = xnn_setup_average_pooling2d_nhwc_f32(op.get(), n, h, w, static_cast<const float*>(in),
                                                      static_cast<float*>(out), pool);
        break;
      case op_type::avg_qu8:
        status = xnn_setup_average_pooling2d_nhwc_qu8(op.get(), n, h, w, static_cast<const uint8_t*>(in),
                                                      static_cast<uint8_t*>(out), pool);
        break;
      case op_type::gavg_f32:
        status = xnn_setup_global_average_pooling_nwc_f32(op.get(), n, h * w, static_cast<const float*>(in),
                                                          static_cast<float*>(out), pool);
        break;
      case op_type::gavg_qu8:
        status = xnn_setup_global_average_pooling_nwc_qu8(op.get(), n, h * w, static_cast<const uint8_t*>(in),
                                                          static_cast<uint8_t*>(out), pool);
        break;
      case op_type::gavg_qs8:
        status = xnn_setup_global_average_pooling_nwc_qs8(op.get(), n, h * w, static_cast<const int8_t*>(in),
                                                          static_cast<int8_t*>(out), pool);
        break;
    }
    return check(status, "setting up the pooling");
  }
};

pool2d::pool2d(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
pool2d::pool2d(pool2d&&) noexcept = default;
pool2d& pool2d::operator=(pool2d&&) noexcept = default;
pool2d::~pool2d() = default;

result<pool2d> pool2d::create(const pool_params& p) {
  // Only allocation can throw below; it becomes a failure rather than escaping.
  try {
    return create_unchecked(p);
  } catch (const std::bad_alloc&) {
    return fail(errc::out_of_memory, "pool2d: out of memory while creating the operator");
  }
}

result<pool2d> pool2d::create_unchecked(const pool_params& p) {
  if (auto ok = initialize(); !ok) return ok.error();
  if (p.input_shape.size() != 4) return bad("input_shape " + to_string(p.input_shape) + " must be [N, C, H, W]");
  for (auto d : p.input_shape)
    if (d <= 0 || d > std::numeric_limits<std::int32_t>::max())
      return bad("input_shape " + to_string(p.input_shape) + " must have positive dimensions");
  if (p.type != dtype::f32 && p.type != dtype::u8 && p.type != dtype::i8)
    return unsupported("pooling of " + std::string(engine::to_string(p.type)) + " tensors");
  if (std::isnan(p.output_min) || std::isnan(p.output_max) || p.output_min >= p.output_max)
    return bad("output_min must lie below output_max");
  const std::int64_t N = p.input_shape[0], C = p.input_shape[1], H = p.input_shape[2], W = p.input_shape[3];
  const bool quantized = p.type != dtype::f32;
  const bool global = p.kind == pool_kind::global_average;
  const std::size_t esize = quantized ? 1 : 4;

  auto s = std::make_unique<impl>();
  s->batch = static_cast<std::size_t>(N);
  s->height = static_cast<std::size_t>(H);
  s->width = static_cast<std::size_t>(W);
  s->input_bytes = static_cast<std::size_t>(N * H * W * C) * esize;

  // Geometry of windowed pooling; extra_* is trailing padding that realises ceil_mode.
  std::int64_t OH = 1, OW = 1, extra_h = 0, extra_w = 0;
  if (!global) {
    for (int i = 0; i < 2; ++i) {
      if (p.kernel[i] < 1 || p.kernel[i] > 65535 || p.strides[i] < 1 || p.strides[i] > 65535 || p.dilations[i] < 1 ||
          p.dilations[i] > 65535)
        return bad("kernel, strides and dilations must be in [1, 65535]");
    }
    for (auto pad : p.pads)
      if (pad < 0 || pad > 65535) return bad("pads must be in [0, 65535]");
    const std::int64_t in[2] = {H, W};
    std::int64_t out[2], extra[2];
    for (int i = 0; i < 2; ++i) {
      const std::int64_t ek = (p.kernel[i] - 1) * p.dilations[i] + 1;
      const std::int64_t begin = p.pads[i], end = p.pads[i + 2];
      if (begin >= ek || end >= ek)
        return unsupported("padding as large as the window (" + std::to_string(ek) + ") is not supported");
      const std::int64_t span = in[i] + begin + end - ek;
      if (span < 0) return bad("the window is larger than the padded input");
      out[i] = span / p.strides[i] + 1;
      if (p.ceil_mode && span % p.strides[i] != 0) {
        ++out[i];
        if ((out[i] - 1) * p.strides[i] >= in[i] + begin) --out[i];
      }
      extra[i] = std::max<std::int64_t>(0, (out[i] - 1) * p.strides[i] + ek - (in[i] + begin + end));
    }
    OH = out[0];
    OW = out[1];
    extra_h = extra[0];
    extra_w = extra[1];
    if (p.kernel[0] * p.kernel[1] == 1) return unsupported("XNNPACK has no 1x1 pooling window");
    if (p.kind == pool_kind::average) {
      if (p.dilations[0] != 1 || p.dilations[1] != 1) return unsupported("average pooling with dilations");
      if (p.strides[0] > p.kernel[0] || p.strides[1] > p.kernel[1])
        return unsupported("average pooling with a stride larger than the window");
      const bool padded = p.pads[0] + p.pads[1] + p.pads[2] + p.pads[3] + extra_h + extra_w > 0;
      if (padded && !quantized && p.count_include_pad)
        return unsupported("float average pooling that counts padding (count_include_pad = 1)");
      if (padded && quantized && !p.count_include_pad)
        return unsupported("quantized average pooling that excludes padding (count_include_pad = 0)");
      if (quantized && extra_h + extra_w > 0) return unsupported("quantized average pooling with ceil_mode padding");
    }
  }
  s->output_shape = {N, C, OH, OW};
  s->output_bytes = static_cast<std::size_t>(N * OH * OW * C) * esize;

  // Quantized parameters; int8 average pooling runs in uint8 on the flipped input.
  const bool flip = p.type == dtype::i8 && p.kind == pool_kind::average;
  const std::int32_t shift = flip ? 128 : 0;
  std::int32_t qmin = 0, qmax = 0;
  if (quantized) {
    const double lo = std::max<double>(std::ceil(p.output_min), detail::type_min(p.type));
    const double hi = std::min<double>(std::floor(p.output_max), detail::type_max(p.type));
    if (lo >= hi) return unsupported("XNNPACK cannot clamp the output to a single value");
    qmin = static_cast<std::int32_t>(lo) + shift;
    qmax = static_cast<std::int32_t>(hi) + shift;
    if (p.kind != pool_kind::max) {
      if (!detail::good_scale(p.input_scale) || !detail::good_scale(p.output_scale))
        return bad("input_scale and output_scale must be positive normal floats");
      if (!detail::in_range(p.input_zero_point, p.type) || !detail::in_range(p.output_zero_point, p.type))
        return bad("a zero point lies outside its type's range");
      const float ratio = p.input_scale / p.output_scale;
      if (!(ratio >= 0x1.0p-8f && ratio < 0x1.0p+8f))
        return unsupported("input_scale / output_scale is " + std::to_string(ratio) +
                           "; XNNPACK's quantized average pooling needs it in [2^-8, 2^8)");
    }
  }
  s->flip = flip;
  if (flip) s->input_scratch.resize(s->input_bytes);

  const uint32_t pt = static_cast<uint32_t>(p.pads[0]), pl = static_cast<uint32_t>(p.pads[1]);
  const uint32_t pb = static_cast<uint32_t>(p.pads[2] + extra_h), pr = static_cast<uint32_t>(p.pads[3] + extra_w);
  const uint32_t kh = static_cast<uint32_t>(p.kernel[0]), kw = static_cast<uint32_t>(p.kernel[1]);
  const uint32_t sh = static_cast<uint32_t>(p.strides[0]), sw = static_cast<uint32_t>(p.strides[1]);
  const uint32_t dh = static_cast<uint32_t>(p.dilations[0]), dw = static_cast<uint32_t>(p.dilations[1]);
  const std::size_t c = static_cast<std::size_t>(C);
  const uint8_t xz = static_cast<uint8_t>(p.input_zero_point + shift), yz = static_cast<uint8_t>(p.output_zero_point + shift);
  xnn_operator_t op = nullptr;
  xnn_status status = xnn_status_success;
  switch (p.kind) {
    case pool_kind::max:
      if (p.type == dtype::f32) {
        s->type = op_type::max_f32;
        status = xnn_create_max_pooling2d_nhwc_f32(pt, pr, pb, pl, kh, kw, sh, sw, dh, dw, c, c, c, p.output_min,
                                                   p.output_max, 0, &op);
      } else if (p.type == dtype::u8) {
        s->type = op_type::max_u8;
        status = xnn_create_max_pooling2d_nhwc_u8(pt, pr, pb, pl, kh, kw, sh, sw, dh, dw, c, c, c,
                                                  static_cast<uint8_t>(qmin), static_cast<uint8_t>(qmax), 0, &op);
      } else {
        s->type = op_type::max_s8;
        status = xnn_create_max_pooling2d_nhwc_s8(pt, pr, pb, pl, kh, kw, sh, sw, dh, dw, c, c, c,
                                                  static_cast<int8_t>(qmin), static_cast<int8_t>(qmax), 0, &op);
      }
      break;
    case pool_kind::average:
      if (p.type == dtype::f32) {
        s->type = op_type::avg_f32;
        status = xnn_create_average_pooling2d_nhwc_f32(pt, pr, pb, pl, kh, kw, sh, sw, c, c, c, p.output_min,
                                                       p.output_max, 0, &op);
      } else {
        s->type = op_type::avg_qu8;
        status = xnn_create_average_pooling2d_nhwc_qu8(pt, pr, pb, pl, kh, kw, sh, sw, c, c, c, xz, p.input_scale, yz,
                                                       p.output_scale, static_cast<uint8_t>(qmin),
                                                       static_cast<uint8_t>(qmax), 0, &op);
      }
      break;
    case pool_kind::global_average:
      if (p.type == dtype::f32) {
        s->type = op_type::gavg_f32;
        status = xnn_create_global_average_pooling_nwc_f32(c, c, c, p.output_min, p.output_max, 0, &op);
      } else if (p.type == dtype::u8) {
        s->type = op_type::gavg_qu8;
        status = xnn_create_global_average_pooling_nwc_qu8(c, c, c, xz, p.input_scale, yz, p.output_scale,
                                                           static_cast<uint8_t>(qmin), static_cast<uint8_t>(qmax), 0, &op);
      } else {
        s->type = op_type::gavg_qs8;
        status = xnn_create_global_average_pooling_nwc_qs8(
            c, c, c, static_cast<int8_t>(p.input_zero_point), p.input_scale, static_cast<int8_t>(p.output_zero_point),
            p.output_scale, static_cast<int8_t>(qmin), static_cast<int8_t>(qmax), 0, &op);
      }
      break;
  }
  s->op.reset(op);
  const std::string name = std::string(kind_name(p.kind)) + " " + detail::short_name(p.type);
  if (auto ok = check(status, "creating the " + name); !ok) return ok.error();
  s->description = name + (flip ? " (as u8)" : "");
  if (!global)
    s->description += " " + std::to_string(kh) + "x" + std::to_string(kw) + " s" + std::to_string(sh) + "x" +
                      std::to_string(sw) + (p.kind == pool_kind::max ? " d" + std::to_string(dh) + "x" + std::to_string(dw) : "");
  s->description += " c" + std::to_string(C);

  // First setup here (indirection buffers for this size), so run() allocates nothing; the
  // buffer only lends its address.
  detail::scratch probe;
  if (!flip) probe.resize(s->input_bytes);
  void* in = flip ? s->input_scratch.data() : probe.data();
  if (auto ok = s->setup(in, in, nullptr); !ok) return ok.error();
  return pool2d(std::move(s));
}

result<void> pool2d::run(const void* input, void* output, const thread_pool& pool) {
  if (input == nullptr || output == nullptr) return fail(errc::invalid_argument, "pool2d::run: null buffer");
  impl& s = *impl_;
  const void* in = input;
  if (s.flip) {
    detail::flip_sign_bits(input, s.input_scratch.data(), s.input_bytes);
    in = s.input_scratch.data();
  }
  if (auto ok = s.setup(in, output, pool.native()); !ok) return ok;
  if (auto ok = check(xnn_run_operator(s.op.get(), pool.native()), "running the pooling"); !ok) return ok;
  if (s.flip) detail::flip_sign_bits(output, output, s.output_bytes);
  return {};
}

const shape_t& pool2d::output_shape() const noexcept { return impl_->output_shape; }
std::size_t pool2d::input_bytes() const noexcept { return impl_->input_bytes; }
std::size_t pool2d::output_bytes() const noexcept { return impl_->output_bytes; }
const std::string& pool2d::describe() const noexcept { return impl_->description; }

}  // namespace edgert::engine::xnn
