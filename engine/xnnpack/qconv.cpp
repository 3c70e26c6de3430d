// qconv2d (see qconv.hpp): parameter validation, the choice of qs8 / qc8 / qu8, weight
// repacking from ONNX OIHW to XNNPACK's GOHWI (which also covers depthwise), and the run path.
#include "engine/xnnpack/qconv.hpp"

#include <algorithm>
#include <limits>
#include <new>
#include <utility>

#include "engine/xnnpack/detail.hpp"

namespace edgert::engine::xnn {

using detail::check;
using detail::in_range;
using detail::short_name;

std::string_view to_string(qvariant v) noexcept {
  switch (v) {
    case qvariant::qs8:
      return "qs8";
    case qvariant::qc8:
      return "qc8";
    case qvariant::qu8:
      return "qu8";
  }
  return "?";
}

struct qconv2d::impl {
  detail::operator_ptr op;
  qvariant variant = qvariant::qs8;
  std::size_t batch = 0, height = 0, width = 0;
  shape_t output_shape;
  std::size_t input_bytes = 0, output_bytes = 0;
  bool flip_input = false;   // input type differs from the compute domain
  bool flip_output = false;  // output type differs from the compute domain
  detail::scratch input_scratch;  // the flipped input, when flip_input
  std::string description;

  result<void> setup(const void* input, void* output, pthreadpool* pool) {
    switch (variant) {
      case qvariant::qs8:
        return check(xnn_setup_convolution2d_nhwc_qs8(op.get(), batch, height, width, static_cast<const int8_t*>(input),
                                                      static_cast<int8_t*>(output), pool),
                     "setting up the qs8 convolution");
      case qvariant::qc8:
        return check(xnn_setup_convolution2d_nhwc_qc8(op.get(), batch, height, width, static_cast<const int8_t*>(input),
                                                      static_cast<int8_t*>(output), pool),
                     "setting up the qc8 convolution");
      case qvariant::qu8:
        return check(xnn_setup_convolution2d_nhwc_qu8(op.get(), batch, height, width,
                                                      static_cast<const uint8_t*>(input), static_cast<uint8_t*>(output),
                                                      pool),
                     "setting up the qu8 convolution");
    }
    return fail(errc::internal_error, "unknown qconv2d variant");
  }
};

namespace {

result<void> bad(const std::string& message) { return fail(errc::invalid_argument, "qconv2d: " + message); }

// The parameters in the operator's terms, derived and checked from qconv_params.
struct resolved {
  std::int64_t N = 0, C = 0, H = 0, W = 0, M = 0, KH = 0, KW = 0, OH = 0, OW = 0;
  std::vector<std::int32_t> w_eff;  // weights minus their zero point, OIHW
  std::vector<std::int32_t> w_zero;  // per output channel
  bool per_channel_scale = false, per_channel_zero = false, fits_s8 = true;
  std::int32_t out_min = 0, out_max = 0;  // clamp in the output type's domain
};

result<void> validate(const qconv_params& p, resolved& r) {
  if (p.input_shape.size() != 4) return bad("input_shape " + to_string(p.input_shape) + " must be [N, C, H, W]");
  for (auto d : p.input_shape)
    if (d <= 0 || d > std::numeric_limits<std::int32_t>::max())
      return bad("input_shape " + to_string(p.input_shape) + " must have positive dimensions");
  r.N = p.input_shape[0];
  r.C = p.input_shape[1];
  r.H = p.input_shape[2];
  r.W = p.input_shape[3];
  if (!detail::is_q8(p.input_type) || !detail::is_q8(p.output_type))
    return bad("input and output must be uint8 or int8, not " + std::string(engine::to_string(p.input_type)) +
               " and " + std::string(engine::to_string(p.output_type)));
  const tensor& w = p.weights;
  if (!detail::is_q8(w.type()) || w.rank() != 4)
    return bad("weights must be a uint8 or int8 [M, C/group, kH, kW] tensor, got " +
               std::string(engine::to_string(w.type())) + " " + to_string(w.shape()));
  r.M = w.shape()[0];
  r.KH = w.shape()[2];
  r.KW = w.shape()[3];
  if (p.group < 1 || r.C % p.group != 0 || r.M % p.group != 0 || r.M == 0 || w.shape()[1] * p.group != r.C ||
      r.KH < 1 || r.KW < 1)
    return bad("weights " + to_string(w.shape()) + " do not fit input " + to_string(p.input_shape) + " with group " +
               std::to_string(p.group));
  if (!detail::good_scale(p.input_scale) || !detail::good_scale(p.output_scale))
    return bad("input_scale and output_scale must be positive normal floats");
  if (!in_range(p.input_zero_point, p.input_type) || !in_range(p.output_zero_point, p.output_type))
    return bad("a zero point lies outside its type's range");
  const std::size_t M = static_cast<std::size_t>(r.M);
  if (p.weight_scales.size() != 1 && p.weight_scales.size() != M)
    return bad(std::to_string(p.weight_scales.size()) + " weight scales given, expected 1 or " + std::to_string(M) +
               " (one per output channel)");
  for (float s : p.weight_scales)
    if (!detail::good_scale(s)) return bad("weight scales must be positive normal floats");
  if (!p.weight_zero_points.empty() && p.weight_zero_points.size() != 1 && p.weight_zero_points.size() != M)
    return bad(std::to_string(p.weight_zero_points.size()) + " weight zero points given, expected 0, 1 or " +
               std::to_string(M));
  for (auto z : p.weight_zero_points)
    if (!in_range(z, w.type())) return bad("a weight zero point lies outside the weight type's range");
  if (!p.bias.empty() && (p.bias.type() != dtype::i32 || p.bias.elements() != r.M || p.bias.rank() != 1))
    return bad("bias must be int32 [" + std::to_string(M) + "], got " + std::string(engine::to_string(p.bias.type())) +
               " " + to_string(p.bias.shape()));
  for (int i = 0; i < 2; ++i)
    if (p.strides[i] < 1 || p.dilations[i] < 1 || p.strides[i] > 65535 || p.dilations[i] > 65535)
      return bad("strides and dilations must be in [1, 65535]");
  for (auto pad : p.pads)
    if (pad < 0 || pad > 65535) return bad("pads must be in [0, 65535]");
  const std::int64_t ekh = (r.KH - 1) * p.dilations[0] + 1, ekw = (r.KW - 1) * p.dilations[1] + 1;
  const std::int64_t ph = r.H + p.pads[0] + p.pads[2] - ekh, pw = r.W + p.pads[1] + p.pads[3] - ekw;
  if (ph < 0 || pw < 0) return bad("the dilated kernel is larger than the padded input");
  r.OH = ph / p.strides[0] + 1;
  r.OW = pw / p.strides[1] + 1;

  r.out_min = std::max(p.output_min.value_or(detail::type_min(p.output_type)), detail::type_min(p.output_type));
  r.out_max = std::min(p.output_max.value_or(detail::type_max(p.output_type)), detail::type_max(p.output_type));
  if (r.out_min > r.out_max) return bad("output_min lies above output_max");
  if (r.out_min == r.out_max)
    return fail(errc::not_implemented, "qconv2d: XNNPACK cannot clamp the output to a single value");

  // Weights minus their zero points, and the properties that decide the variant.
  r.w_zero.assign(M, 0);
  for (std::size_t m = 0; m < M; ++m)
    if (!p.weight_zero_points.empty()) r.w_zero[m] = p.weight_zero_points[p.weight_zero_points.size() == 1 ? 0 : m];
  r.per_channel_zero = std::any_of(r.w_zero.begin(), r.w_zero.end(), [&](std::int32_t z) { return z != r.w_zero[0]; });
  r.per_channel_scale = std::any_of(p.weight_scales.begin(), p.weight_scales.end(),
                                    [&](float s) { return s != p.weight_scales[0]; });
  const std::size_t per_m = static_cast<std::size_t>(w.elements()) / M;
  r.w_eff.resize(static_cast<std::size_t>(w.elements()));
  for (std::size_t i = 0; i < r.w_eff.size(); ++i) {
    const std::int32_t v = w.type() == dtype::i8 ? w.data<std::int8_t>()[i] : w.data<std::uint8_t>()[i];
    r.w_eff[i] = v - r.w_zero[i / per_m];
    if (r.w_eff[i] < -128 || r.w_eff[i] > 127) r.fits_s8 = false;
  }
  return {};
}

// OIHW -> OHWI ([group][M/group][kH][kW][C/group], XNNPACK's layout without the depthwise flag).
template <class T>
std::vector<T> repack(const resolved& r, std::int64_t cg, std::int32_t add) {
  std::vector<T> out(r.w_eff.size());
  const std::int64_t taps = r.KH * r.KW;
  for (std::int64_t m = 0; m < r.M; ++m)
    for (std::int64_t c = 0; c < cg; ++c)
      for (std::int64_t t = 0; t < taps; ++t)
        out[static_cast<std::size_t>((m * taps + t) * cg + c)] =
            static_cast<T>(r.w_eff[static_cast<std::size_t>((m * cg + c) * taps + t)] + add);
  return out;
}

}  // namespace

qconv2d::qconv2d(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
qconv2d::qconv2d(qconv2d&&) noexcept = default;
qconv2d& qconv2d::operator=(qconv2d&&) noexcept = default;
qconv2d::~qconv2d() = default;

result<qconv2d> qconv2d::create(const qconv_params& p) {
  // Only allocation can throw below; it becomes a failure rather than escaping.
  try {
    return create_unchecked(p);
  } catch (const std::bad_alloc&) {
    return fail(errc::out_of_memory, "qconv2d: out of memory while creating the operator");
  }
}

result<qconv2d> qconv2d::create_unchecked(const qconv_params& p) {
  if (auto ok = initialize(); !ok) return ok.error();
  resolved r;
  if (auto ok = validate(p, r); !ok) return ok.error();

  // XNNPACK's float requantization takes x_scale * w_scale / y_scale below 256 only.
  float largest_scale = 0.f;
  for (float ws : p.weight_scales) largest_scale = std::max(largest_scale, p.input_scale * ws / p.output_scale);
  if (!(largest_scale < 256.f))
    return fail(errc::not_implemented, "qconv2d: the requantization scale x_scale * w_scale / y_scale reaches " +
                                           std::to_string(largest_scale) + "; XNNPACK needs it below 256");

  auto s = std::make_unique<impl>();
  if (r.per_channel_scale || r.per_channel_zero) {
    if (!r.fits_s8)
      return fail(errc::not_implemented,
                  "qconv2d: per-channel weight " + std::string(r.per_channel_scale ? "scales" : "zero points") +
                      " need weights that fit int8 after subtracting their zero point; XNNPACK has no per-channel "
                      "uint8 convolution");
    s->variant = r.per_channel_scale ? qvariant::qc8 : qvariant::qs8;
  } else {
    // One scale and zero point: int8 compute when the input is int8 and the weights fit,
    // otherwise uint8 compute (any 8-bit weights fit after re-biasing their zero point).
    s->variant = p.input_type == dtype::i8 && r.fits_s8 ? qvariant::qs8 : qvariant::qu8;
  }
  const dtype domain = s->variant == qvariant::qu8 ? dtype::u8 : dtype::i8;
  s->flip_input = p.input_type != domain;
  s->flip_output = p.output_type != domain;
  // Shifting a zero point or bound across domains: u8 v corresponds to s8 v - 128.
  auto to_domain = [&](std::int32_t v, dtype from) { return from == domain ? v : (domain == dtype::i8 ? v - 128 : v + 128); };
  const std::int32_t x_zero = to_domain(p.input_zero_point, p.input_type);
  const std::int32_t y_zero = to_domain(p.output_zero_point, p.output_type);
  const std::int32_t y_min = to_domain(r.out_min, p.output_type), y_max = to_domain(r.out_max, p.output_type);

  const std::int64_t cg = r.C / p.group, mg = r.M / p.group;
  const std::int32_t* bias = p.bias.empty() ? nullptr : p.bias.data<std::int32_t>();
  const uint32_t pt = static_cast<uint32_t>(p.pads[0]), pl = static_cast<uint32_t>(p.pads[1]);
  const uint32_t pb = static_cast<uint32_t>(p.pads[2]), pr = static_cast<uint32_t>(p.pads[3]);
  const uint32_t kh = static_cast<uint32_t>(r.KH), kw = static_cast<uint32_t>(r.KW);
  const uint32_t sh = static_cast<uint32_t>(p.strides[0]), sw = static_cast<uint32_t>(p.strides[1]);
  const uint32_t dh = static_cast<uint32_t>(p.dilations[0]), dw = static_cast<uint32_t>(p.dilations[1]);
  const uint32_t groups = static_cast<uint32_t>(p.group);
  const std::size_t gic = static_cast<std::size_t>(cg), goc = static_cast<std::size_t>(mg);
  const std::size_t cin = static_cast<std::size_t>(r.C), cout = static_cast<std::size_t>(r.M);
  xnn_operator_t op = nullptr;
  xnn_status status = xnn_status_success;
  if (s->variant == qvariant::qu8) {
    // uint8 weights keep their zero point; int8 weights move to uint8 with +128 on both.
    const std::int32_t weight_shift = p.weights.type() == dtype::i8 ? 128 : 0;
    const std::int32_t w_zero = r.w_zero[0] + weight_shift;
    const std::vector<uint8_t> w = repack<uint8_t>(r, cg, w_zero);
    status = xnn_create_convolution2d_nhwc_qu8(
        pt, pr, pb, pl, kh, kw, sh, sw, dh, dw, groups, gic, goc, cin, cout, static_cast<uint8_t>(x_zero), p.input_scale,
        static_cast<uint8_t>(w_zero), p.weight_scales[0], w.data(), bias, static_cast<uint8_t>(y_zero), p.output_scale,
        static_cast<uint8_t>(y_min), static_cast<uint8_t>(y_max), 0, &op);
  } else {
    const std::vector<int8_t> w = repack<int8_t>(r, cg, 0);
    if (s->variant == qvariant::qc8) {
      std::vector<float> scales(cout, p.weight_scales[0]);
      if (p.weight_scales.size() == cout) scales = p.weight_scales;
      status = xnn_create_convolution2d_nhwc_qc8(
          pt, pr, pb, pl, kh, kw, sh, sw, dh, dw, groups, gic, goc, cin, cout, static_cast<int8_t>(x_zero),
          p.input_scale, scales.data(), w.data(), bias, static_cast<int8_t>(y_zero), p.output_scale,
          static_cast<int8_t>(y_min), static_cast<int8_t>(y_max), 0, &op);
    } else {
      status = xnn_create_convolution2d_nhwc_qs8(
          pt, pr, pb, pl, kh, kw, sh, sw, dh, dw, groups, gic, goc, cin, cout, static_cast<int8_t>(x_zero),
          p.input_scale, p.weight_scales[0], w.data(), bias, static_cast<int8_t>(y_zero), p.output_scale,
          static_cast<int8_t>(y_min), static_cast<int8_t>(y_max), 0, &op);
    }
  }
  s->op.reset(op);
  if (auto ok = check(status, "creating the " + std::string(to_string(s->variant)) + " convolution"); !ok)
    return ok.error();

  s->batch = static_cast<std::size_t>(r.N);
  s->height = static_cast<std::size_t>(r.H);
  s->width = static_cast<std::size_t>(r.W);
  s->output_shape = {r.N, r.M, r.OH, r.OW};
  s->input_bytes = static_cast<std::size_t>(r.N * r.H * r.W * r.C);
  s->output_bytes = static_cast<std::size_t>(r.N * r.OH * r.OW * r.M);
  s->description = std::string(to_string(s->variant)) + " " + std::to_string(r.KH) + "x" + std::to_string(r.KW) + " s" +
                   std::to_string(p.strides[0]) + "x" + std::to_string(p.strides[1]) + " d" +
                   std::to_string(p.dilations[0]) + "x" + std::to_string(p.dilations[1]) + " g" +
                   std::to_string(p.group) + " " + std::to_string(r.C) + "->" + std::to_string(r.M) + " in " +
                   short_name(p.input_type) + (s->flip_input ? " (flipped)" : "") + " out " +
                   short_name(p.output_type) + (s->flip_output ? " (flipped)" : "");

  // The first setup builds XNNPACK's indirection buffers for this input size; later setups
  // with the same size only rebind pointers. Doing it here keeps run() allocation-free. The
  // buffer only lends its address: setup reads no data.
  detail::scratch probe;
  if (s->flip_input) s->input_scratch.resize(s->input_bytes);
  if (!s->flip_input) probe.resize(s->input_bytes);
  void* in = s->flip_input ? s->input_scratch.data() : probe.data();
  if (auto ok = s->setup(in, in, nullptr); !ok) return ok.error();
  return qconv2d(std::move(s));
}

result<void> qconv2d::run(const void* input, void* output, const thread_pool& pool) {
  if (input == nullptr || output == nullptr) return fail(errc::invalid_argument, "qconv2d::run: null buffer");
  impl& s = *impl_;
  const void* in = input;
  if (s.flip_input) {
    detail::flip_sign_bits(input, s.input_scratch.data(), s.input_bytes);
    in = s.input_scratch.data();
  }
  if (auto ok = s.setup(in, output, pool.native()); !ok) return ok;
  if (auto ok = check(xnn_run_operator(s.op.get(), pool.native()), "running the convolution"); !ok) return ok;
  if (s.flip_output) detail::flip_sign_bits(output, output, s.output_bytes);
  return {};
}

const shape_t& qconv2d::output_shape() const noexcept { return impl_->output_shape; }
qvariant qconv2d::variant() const noexcept { return impl_->variant; }
std::size_t qconv2d::input_bytes() const noexcept { return impl_->input_bytes; }
std::size_t qconv2d::output_bytes() const noexcept { return impl_->output_bytes; }
const std::string& qconv2d::describe() const noexcept { return impl_->description; }

}  // namespace edgert::engine::xnn
