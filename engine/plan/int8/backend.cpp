// The int8 backend: runs the groups match_quantized() finds (engine/plan/int8/qgroups.hpp) as
// integer kernels with exact ONNX results, on channels-last (NHWC) int8/uint8 buffers for
// 4-D activations and row-major buffers otherwise.
//
// Convolutions accumulate on oneDNN's fp32 direct convolution over (x - x_zero_point) and
// (w - w_zero_point): every product and partial sum is an integer, and the planner only
// matches layers whose per-channel bound max|x - z_x| * sum|w - z_w| stays within 2^24, so
// the float accumulators are the exact int32 sums in any summation order (wider layers split
// each weight into w = 16 * hi + lo and run both halves, each within the bound). The int32
// bias and the requantization (exact_scale) follow in this file's loops. On CPUs with VNNI
// (AVX512-VNNI, AVX-VNNI), whose u8 x s8 dot products accumulate into int32 without
// saturating, a convolution whose weights fit int8 runs instead on oneDNN's native int8
// convolution straight from the NHWC activations (zero point as a oneDNN attribute) into
// int32 accumulators: exact as well, with neither the float conversions nor a split.
// Gemm/MatMul, pooling and Add are plain loops.
//
// Ownership and threads: steps are plan-owned and immutable; each executor instantiates its
// own oneDNN memories and stream. Steps run on the executor's thread (oneDNN's OpenMP pool
// for the convolution).
#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <string>
#include <optional>
#include <vector>

#include "engine/kernel.hpp"
#include "engine/kernels/spatial.hpp"
#include "engine/plan/backend.hpp"
#include "engine/plan/int8/qgroups.hpp"
#include "engine/plan/int8/requant_row.hpp"
#include "engine/plan/onednn/common.hpp"

namespace edgert::engine::planning {

namespace {

using int8::qgroup;
using int8::saturate;

// Element i of a q8 buffer as an int.
inline std::int32_t load(const void* p, std::size_t i, bool is_signed) {
  return is_signed ? static_cast<const std::int8_t*>(p)[i] : static_cast<const std::uint8_t*>(p)[i];
}
inline void store(void* p, std::size_t i, std::int32_t v, bool is_signed) {
  if (is_signed) static_cast<std::int8_t*>(p)[i] = static_cast<std::int8_t>(v);
  else static_cast<std::uint8_t*>(p)[i] = static_cast<std::uint8_t>(v);
}

layout activation_layout(const value& v) {
  return v.shape.size() == 4 ? layout::channels_last(v.shape, v.type) : layout::plain(v.shape, v.type);
}

// A step whose instance is the step itself (no per-executor state).
class stateless_step : public step {
 public:
  class instance final : public step_instance {
   public:
    explicit instance(const stateless_step& s) : s_(s) {}
    result<void> run(run_context& rc) override { return s_.execute(rc); }

   private:
    const stateless_step& s_;
  };
  virtual result<void> execute(run_context& rc) const = 0;
  result<std::unique_ptr<step_instance>> instantiate(const instance_context&) const override {
    return std::unique_ptr<step_instance>(std::make_unique<instance>(*this));
  }
};

// Writes one output pixel's requantized channels (already within the output type's range:
// int8 and uint8 values have the same low byte as their int32).
inline void store_row(void* y, std::size_t pixel, std::int64_t M, const std::int32_t* row) {
  auto* out = static_cast<std::uint8_t*>(y) + pixel * static_cast<std::size_t>(M);
  for (std::int64_t c = 0; c < M; ++c) out[c] = static_cast<std::uint8_t>(row[c]);
}

// ---- convolution ---------------------------------------------------------------------------

class qconv_step final : public step {
 public:
  std::shared_ptr<const qgroup> q;
  dnnl::primitive primitive;
  onednn::memory::desc src_desc, dst_desc;
  onednn::memory weights;
  std::size_t src_elems = 0, pixels_out = 0, scratchpad = 0;
  std::int64_t M = 0;
  bool split = false;
  bool native = false;                // oneDNN int8 convolution into int32 (VNNI)
  std::int32_t src_zero_point = 0;    // native: passed to oneDNN when not zero
  std::vector<double> bias_d, mul_d;  // per output channel: int32 bias, float64 multiplier

  std::size_t src_bytes() const { return native ? 0 : (src_elems * 4 + 63) / 64 * 64; }
  std::size_t dst_bytes() const { return (pixels_out * static_cast<std::size_t>(split ? 2 * M : M) * 4 + 63) / 64 * 64; }
  std::size_t scratch_bytes() const override { return src_bytes() + dst_bytes() + scratchpad; }

  class instance final : public step_instance {
   public:
    instance(const qconv_step& s, const instance_context& ctx) : s_(s), stream_(onednn::cpu_engine()) {
      auto* base = static_cast<unsigned char*>(ctx.scratch);
      src_f_ = reinterpret_cast<float*>(base);
      dst_f_ = reinterpret_cast<float*>(base + s.src_bytes());
      row_.resize(static_cast<std::size_t>(s.M));
      // Native: the source is the step's input buffer itself, set at each run.
      src_ = s.native ? onednn::memory(s.src_desc, onednn::cpu_engine(), DNNL_MEMORY_NONE)
                      : onednn::memory(s.src_desc, onednn::cpu_engine(), src_f_);
      dst_ = onednn::memory(s.dst_desc, onednn::cpu_engine(), dst_f_);
      if (s.scratchpad)
        pad_ = onednn::memory(onednn::memory::desc({static_cast<onednn::memory::dim>(s.scratchpad)},
                                                   onednn::memory::data_type::u8, onednn::memory::format_tag::a),
                              onednn::cpu_engine(), base + s.src_bytes() + s.dst_bytes());
      // Built once: running the step allocates nothing.
      args_.push_back({DNNL_ARG_SRC, src_.get()});
      args_.push_back({DNNL_ARG_WEIGHTS, s.weights.get()});
      args_.push_back({DNNL_ARG_DST, dst_.get()});
      if (s.scratchpad) args_.push_back({DNNL_ARG_SCRATCHPAD, pad_.get()});
      if (s.native && s.src_zero_point != 0) {
        zero_point_ = s.src_zero_point;
        zp_ = onednn::memory(onednn::memory::desc({1}, onednn::memory::data_type::s32,
                                                  onednn::memory::format_tag::a),
                             onednn::cpu_engine(), &zero_point_);
        args_.push_back({DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC, zp_.get()});
      }
    }
    result<void> run(run_context& rc) override {
      const qgroup& q = *s_.q;
      const void* x = rc.address[s_.reads[0]];
      void* y = rc.address[s_.writes[0]];
      if (s_.native) return run_native(x, y);
      const float zx = static_cast<float>(q.in[0].zero_point);
      if (q.in[0].type == dtype::i8) {
        const auto* xs = static_cast<const std::int8_t*>(x);
        for (std::size_t i = 0; i < s_.src_elems; ++i) src_f_[i] = static_cast<float>(xs[i]) - zx;
      } else {
        const auto* xs = static_cast<const std::uint8_t*>(x);
        for (std::size_t i = 0; i < s_.src_elems; ++i) src_f_[i] = static_cast<float>(xs[i]) - zx;
      }
      if (dnnl_primitive_execute(s_.primitive.get(), stream_.get(), static_cast<int>(args_.size()),
                                 args_.data()) != dnnl_success)
        return fail(errc::internal_error, s_.label + ": oneDNN could not run the convolution");
      const std::int64_t M = s_.M, width = s_.split ? 2 * M : M;
      const bool shared = q.scales.size() == 1;
      const double* bias = s_.bias_d.data();
      const double* mul = s_.mul_d.data();
      std::int32_t* row = row_.data();
      for (std::size_t p = 0; p < s_.pixels_out; ++p) {
        const float* acc = dst_f_ + p * static_cast<std::size_t>(width);
        // Fast pass in float64 (vectorizable); a row with any value near a rounding tie is
        // redone exactly below.
        const bool near = int8::requant_row(acc, s_.split, M, bias, mul, q.out.zero_point, q.lo, q.hi, row);
        if (near)
          for (std::int64_t c = 0; c < M; ++c) {
            std::int64_t a = static_cast<std::int64_t>(acc[c]);
            if (s_.split) a = a * 16 + static_cast<std::int64_t>(acc[M + c]);
            a += q.bias[static_cast<std::size_t>(c)];
            row[c] = saturate(q.scales[shared ? 0 : static_cast<std::size_t>(c)].rescale(a) + q.out.zero_point, q.lo, q.hi);
          }
        store_row(y, p, M, row);
      }
      return {};
    }

   private:
    // oneDNN's int8 convolution from x into int32 accumulators, then the same requantization.
    result<void> run_native(const void* x, void* y) {
      const qgroup& q = *s_.q;
      if (dnnl_memory_set_data_handle(src_.get(), const_cast<void*>(x)) != dnnl_success ||
          dnnl_primitive_execute(s_.primitive.get(), stream_.get(), static_cast<int>(args_.size()),
                                 args_.data()) != dnnl_success)
        return fail(errc::internal_error, s_.label + ": oneDNN could not run the int8 convolution");
      const std::int64_t M = s_.M;
      const bool shared = q.scales.size() == 1;
      const auto* accumulators = reinterpret_cast<const std::int32_t*>(dst_f_);
      std::int32_t* row = row_.data();
      for (std::size_t p = 0; p < s_.pixels_out; ++p) {
        const std::int32_t* acc = accumulators + p * static_cast<std::size_t>(M);
        if (int8::requant_row(acc, M, s_.bias_d.data(), s_.mul_d.data(), q.out.zero_point, q.lo, q.hi, row))
          for (std::int64_t c = 0; c < M; ++c)
            row[c] = saturate(q.scales[shared ? 0 : static_cast<std::size_t>(c)].rescale(
                                  std::int64_t{acc[c]} + q.bias[static_cast<std::size_t>(c)]) +
                                  q.out.zero_point,
                              q.lo, q.hi);
        store_row(y, p, M, row);
      }
      return {};
    }

    const qconv_step& s_;
    dnnl::stream stream_;
    float* src_f_ = nullptr;
    float* dst_f_ = nullptr;
    onednn::memory src_, dst_, pad_, zp_;
    std::int32_t zero_point_ = 0;  // what zp_ points at
    std::vector<dnnl_exec_arg_t> args_;
    std::vector<std::int32_t> row_;  // one output pixel's requantized channels
  };

  result<std::unique_ptr<step_instance>> instantiate(const instance_context& ctx) const override {
    try {
      return std::unique_ptr<step_instance>(std::make_unique<instance>(*this, ctx));
    } catch (const dnnl::error& e) {
      return fail(errc::internal_error, label + ": oneDNN: " + e.what());
    }
  }
};

// Names a lowered step after its group (label, ops, backend unless already set) and hands
// it to the plan.
result<bool> emit_group_step(lowering_context& ctx, const node_group& g, std::unique_ptr<step> s) {
  s->label = g.label(ctx.model());
  s->op = g.ops(ctx.model());
  if (s->backend.empty()) s->backend = "int8:loops";
  ctx.emit(std::move(s));
  return true;
}

// True when oneDNN's int8 convolutions accumulate exactly here: VNNI's u8 x s8 dot products
// (AVX512-VNNI, AVX-VNNI) add into int32 without the int16 saturation of older paths.
bool exact_int8_dot_products() {
  const auto isa = static_cast<unsigned>(dnnl_get_effective_cpu_isa());
  return (isa & static_cast<unsigned>(dnnl_cpu_isa_avx512_core_vnni & ~dnnl_cpu_isa_avx512_core)) != 0 ||
         (isa & static_cast<unsigned>(dnnl_cpu_isa_avx2_vnni & ~dnnl_cpu_isa_avx2)) != 0;
}

// Builds s as oneDNN's native int8 convolution (NHWC u8/s8 source, s8 weights, s32
// accumulators); false when the layer or the CPU does not allow it exactly, or oneDNN
// offers only its reference implementation.
bool build_native_conv(qconv_step& s, const qgroup& q, dtype src_type, const dnnl::memory::dims& src_dims,
                       const dnnl::memory::dims& w_dims, const dnnl::memory::dims& dst_dims,
                       const dnnl::memory::dims& strides, const dnnl::memory::dims& dil,
                       const dnnl::memory::dims& pl, const dnnl::memory::dims& pr, std::int64_t per) {
  using dnnl::memory;
  using tag = memory::format_tag;
  static const bool exact_here = exact_int8_dot_products();
  if (!exact_here) return false;
  // EDGERT_INT8_NATIVE=0 keeps every convolution on the float path (tests cover both).
  if (const char* allowed = std::getenv("EDGERT_INT8_NATIVE"); allowed && std::string(allowed) == "0")
    return false;
  if (per * 255 * 255 >= (std::int64_t{1} << 31)) return false;  // int32 accumulators could overflow
  for (auto w : q.weights)
    if (w < -128 || w > 127) return false;
  try {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    const std::int32_t zx = q.in[0].zero_point;
    if (zx != 0) attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
    const memory::desc src_d(src_dims, src_type == dtype::i8 ? memory::data_type::s8 : memory::data_type::u8,
                             tag::nhwc);
    const memory::desc dst_d(dst_dims, memory::data_type::s32, tag::nhwc);
    const memory::desc w_any(w_dims, memory::data_type::s8, tag::any);
    dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                      src_d, w_any, dst_d, strides, dil, pl, pr);
    dnnl::convolution_forward::primitive_desc pd(d, attr, onednn::cpu_engine());
    const std::string implementation = onednn::implementation(pd);
    if (implementation.find("ref") != std::string::npos) return false;
    std::vector<std::int8_t> w8(q.weights.begin(), q.weights.end());
    memory plain(memory::desc(w_dims, memory::data_type::s8, w_dims.size() == 5 ? tag::goihw : tag::oihw),
                 onednn::cpu_engine(), w8.data());
    memory weights(pd.weights_desc(), onednn::cpu_engine());
    dnnl::stream stream(onednn::cpu_engine());
    dnnl::reorder(plain, weights).execute(stream, plain, weights);
    stream.wait();
    s.primitive = dnnl::convolution_forward(pd);
    s.src_desc = src_d;
    s.dst_desc = dst_d;
    s.scratchpad = pd.scratchpad_desc().get_size();
    s.weights = weights;
    s.native = true;
    s.src_zero_point = zx;
    s.backend = "int8:onednn-s8:" + implementation;
    return true;
  } catch (const dnnl::error&) {
    return false;  // the float path below is always there
  }
}

result<bool> lower_conv(const node_group& g, lowering_context& ctx) {
  const qgroup& q = *g.q;
  const node& n = ctx.model().nodes[static_cast<std::size_t>(q.anchor)];
  const value& x = ctx.val(q.inputs[0]);
  const shape_t& ws = q.weight_shape;
  const std::int64_t group = n.get_int("group", 1);
  const std::int64_t M = ws[0], Cg = ws[1];
  kernel_context kctx{n, ctx.model().opset(n.domain), {}, {}};
  const std::vector<std::int64_t> in(x.shape.begin() + 2, x.shape.end()), kernel(ws.begin() + 2, ws.end());
  auto geo = spatial::resolve(kctx, in, kernel, {});
  if (!geo) return geo.error();
  using dnnl::memory;
  using tag = memory::format_tag;
  const std::int64_t per = static_cast<std::int64_t>(q.weights.size()) / M;
  memory::dims src_dims(x.shape.begin(), x.shape.end());
  memory::dims strides(geo->strides.begin(), geo->strides.end()), dil, pl(geo->pad_begin.begin(), geo->pad_begin.end()),
      pr(geo->pad_end.begin(), geo->pad_end.end());
  for (auto d : geo->dilations) dil.push_back(d - 1);
  auto weight_dims = [&](std::int64_t out_channels) {
    memory::dims w_dims = group > 1 ? memory::dims{group, M / group, Cg} : memory::dims{out_channels, Cg};
    w_dims.insert(w_dims.end(), kernel.begin(), kernel.end());
    return w_dims;
  };
  auto s = std::make_unique<qconv_step>();
  const bool native = build_native_conv(*s, q, x.type, src_dims, weight_dims(M),
                                        memory::dims{x.shape[0], M, geo->out[0], geo->out[1]}, strides, dil,
                                        pl, pr, per);
  bool split = false;
  if (!native) {
    // Split weights when one pass could leave the exact range of float32 (see the file comment).
    const std::int64_t xmax = std::max(q.in[0].zero_point - (q.in[0].type == dtype::i8 ? -128 : 0),
                                       (q.in[0].type == dtype::i8 ? 127 : 255) - q.in[0].zero_point);
    std::int64_t worst = 0;
    for (std::int64_t c = 0; c < M; ++c) {
      std::int64_t l1 = 0;
      for (std::int64_t k = 0; k < per; ++k) l1 += std::abs(q.weights[static_cast<std::size_t>(c * per + k)]);
      worst = std::max(worst, l1);
    }
    split = worst * xmax > (std::int64_t{1} << 24);
    if (split && group != 1) return fail(errc::internal_error, "int8 conv: a grouped convolution needs a weight split");
    const std::int64_t Mout = split ? 2 * M : M;
    std::vector<float> w(static_cast<std::size_t>(Mout * per));
    for (std::int64_t c = 0; c < M; ++c)
      for (std::int64_t k = 0; k < per; ++k) {
        const std::int32_t v = q.weights[static_cast<std::size_t>(c * per + k)];
        if (!split) {
          w[static_cast<std::size_t>(c * per + k)] = static_cast<float>(v);
        } else {
          const std::int32_t lo = ((v + 8) & 15) - 8;
          w[static_cast<std::size_t>(c * per + k)] = static_cast<float>((v - lo) / 16);
          w[static_cast<std::size_t>((M + c) * per + k)] = static_cast<float>(lo);
        }
      }
    const memory::dims dst_dims{x.shape[0], Mout, geo->out[0], geo->out[1]};
    const memory::dims w_dims = weight_dims(Mout);
    try {
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      const memory::desc src_d(src_dims, memory::data_type::f32, tag::nhwc);
      const memory::desc dst_d(dst_dims, memory::data_type::f32, tag::nhwc);
      const memory::desc w_any(w_dims, memory::data_type::f32, tag::any);
      dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src_d,
                                        w_any, dst_d, strides, dil, pl, pr);
      dnnl::convolution_forward::primitive_desc pd(d, attr, onednn::cpu_engine());
      s->primitive = dnnl::convolution_forward(pd);
      s->src_desc = src_d;
      s->dst_desc = dst_d;
      s->scratchpad = pd.scratchpad_desc().get_size();
      s->weights = onednn::reorder_to(onednn::make_memory(onednn::plain_desc(shape_t(w_dims.begin(), w_dims.end())), w),
                                      pd.weights_desc());
      s->backend = "int8:onednn-f32-exact:" + onednn::implementation(pd);
    } catch (const dnnl::error& e) {
      return fail(errc::internal_error, std::string("int8 conv: oneDNN: ") + e.what());
    }
  }
  s->q = g.q;
  s->M = M;
  s->split = split;
  for (std::int64_t c = 0; c < M; ++c) {
    s->bias_d.push_back(static_cast<double>(q.bias[static_cast<std::size_t>(c)]));
    s->mul_d.push_back(q.scales[q.scales.size() == 1 ? 0 : static_cast<std::size_t>(c)].approx());
  }
  s->src_elems = static_cast<std::size_t>(element_count(x.shape));
  s->pixels_out = static_cast<std::size_t>(x.shape[0] * geo->out[0] * geo->out[1]);
  auto src = ctx.buffer_in(q.inputs[0], activation_layout(x));
  if (!src) return src.error();
  const int dst = ctx.define(q.output, activation_layout(ctx.val(q.output)));
  s->reads = {*src};
  s->writes = {dst};
  return emit_group_step(ctx, g, std::move(s));
}

// ---- Gemm / MatMul -------------------------------------------------------------------------

class qgemm_step final : public stateless_step {
 public:
  std::shared_ptr<const qgroup> q;
  std::vector<std::int16_t> w;  // [N][K]
  std::int64_t rows = 0, K = 0, N = 0;

  result<void> execute(run_context& rc) const override {
    const void* x = rc.address[reads[0]];
    void* y = rc.address[writes[0]];
    const bool in_signed = q->in[0].type == dtype::i8, out_signed = q->out.type == dtype::i8;
    // One row of A minus its zero point; grows once per thread, then allocation-free.
    thread_local std::vector<std::int16_t> a;
    if (a.size() < static_cast<std::size_t>(K)) a.resize(static_cast<std::size_t>(K));
    const bool shared = q->scales.size() == 1;
    for (std::int64_t r = 0; r < rows; ++r) {
      for (std::int64_t k = 0; k < K; ++k)
        a[static_cast<std::size_t>(k)] =
            static_cast<std::int16_t>(load(x, static_cast<std::size_t>(r * K + k), in_signed) - q->in[0].zero_point);
      for (std::int64_t j = 0; j < N; ++j) {
        // |a * w| <= 255 * 255: int32 holds any K below 33,000 without overflow.
        std::int32_t acc = 0;
        const std::int16_t* wj = w.data() + j * K;
        for (std::int64_t k = 0; k < K; ++k) acc += static_cast<std::int32_t>(a[static_cast<std::size_t>(k)]) * wj[k];
        const std::int64_t v = static_cast<std::int64_t>(acc) + q->bias[static_cast<std::size_t>(j)];
        const std::int64_t t = q->scales[shared ? 0 : static_cast<std::size_t>(j)].rescale(v);
        store(y, static_cast<std::size_t>(r * N + j), saturate(t + q->out.zero_point, q->lo, q->hi), out_signed);
      }
    }
    return {};
  }
};

result<bool> lower_gemm(const node_group& g, lowering_context& ctx) {
  const qgroup& q = *g.q;
  auto s = std::make_unique<qgemm_step>();
  s->q = g.q;
  s->N = q.weight_shape[0];
  s->K = q.weight_shape[1];
  s->rows = element_count(ctx.val(q.inputs[0]).shape) / s->K;
  s->w.assign(q.weights.begin(), q.weights.end());
  auto src = ctx.buffer_in(q.inputs[0], layout::plain(ctx.val(q.inputs[0]).shape, ctx.val(q.inputs[0]).type));
  if (!src) return src.error();
  s->reads = {*src};
  s->writes = {ctx.define(q.output, layout::plain(ctx.val(q.output).shape, ctx.val(q.output).type))};
  return emit_group_step(ctx, g, std::move(s));
}

// ---- pooling -------------------------------------------------------------------------------

class qmaxpool_step final : public stateless_step {
 public:
  std::int64_t N = 0, C = 0, H = 0, W = 0, OH = 0, OW = 0, kh = 0, kw = 0, sh = 1, sw = 1, ph = 0, pw = 0;
  bool is_signed = false;

  template <class T>
  void pool(const T* x, T* y) const {
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t oh = 0; oh < OH; ++oh)
        for (std::int64_t ow = 0; ow < OW; ++ow) {
          T* out = y + ((n * OH + oh) * OW + ow) * C;
          bool first = true;
          for (std::int64_t i = 0; i < kh; ++i) {
            const std::int64_t h = oh * sh - ph + i;
            if (h < 0 || h >= H) continue;
            for (std::int64_t j = 0; j < kw; ++j) {
              const std::int64_t w = ow * sw - pw + j;
              if (w < 0 || w >= W) continue;
              const T* in = x + ((n * H + h) * W + w) * C;
              if (first) std::memcpy(out, in, static_cast<std::size_t>(C) * sizeof(T));
              else
                for (std::int64_t c = 0; c < C; ++c) out[c] = std::max(out[c], in[c]);
              first = false;
            }
          }
        }
  }
  result<void> execute(run_context& rc) const override {
    if (is_signed) pool(static_cast<const std::int8_t*>(rc.address[reads[0]]), static_cast<std::int8_t*>(rc.address[writes[0]]));
    else pool(static_cast<const std::uint8_t*>(rc.address[reads[0]]), static_cast<std::uint8_t*>(rc.address[writes[0]]));
    return {};
  }
};

class qgap_step final : public stateless_step {
 public:
  std::shared_ptr<const qgroup> q;
  std::int64_t N = 0, C = 0, P = 0;
  result<void> execute(run_context& rc) const override {
    const void* x = rc.address[reads[0]];
    void* y = rc.address[writes[0]];
    const bool in_signed = q->in[0].type == dtype::i8, out_signed = q->out.type == dtype::i8;
    for (std::int64_t n = 0; n < N; ++n) {
      for (std::int64_t c = 0; c < C; ++c) {  // channel by channel: nothing to allocate
        std::int64_t sum = 0;
        for (std::int64_t p = 0; p < P; ++p)
          sum += load(x, static_cast<std::size_t>((n * P + p) * C + c), in_signed);
        const std::int64_t t = q->scales[0].rescale(sum - P * q->in[0].zero_point);
        store(y, static_cast<std::size_t>(n * C + c), saturate(t + q->out.zero_point, q->lo, q->hi), out_signed);
      }
    }
    return {};
  }
};

result<bool> lower_pool(const node_group& g, lowering_context& ctx) {
  const qgroup& q = *g.q;
  const node& n = ctx.model().nodes[static_cast<std::size_t>(q.anchor)];
  const value& x = ctx.val(q.inputs[0]);
  const value& y = ctx.val(q.output);
  std::unique_ptr<stateless_step> st;
  if (q.o == qgroup::op::maxpool) {
    auto s = std::make_unique<qmaxpool_step>();
    auto k = n.get_ints("kernel_shape");
    auto str = n.get_ints("strides");
    auto pads = n.get_ints("pads");
    s->N = x.shape[0];
    s->C = x.shape[1];
    s->H = x.shape[2];
    s->W = x.shape[3];
    s->OH = y.shape[2];
    s->OW = y.shape[3];
    s->kh = k[0];
    s->kw = k[1];
    if (str.size() == 2) {
      s->sh = str[0];
      s->sw = str[1];
    }
    if (pads.size() == 4) {
      s->ph = pads[0];
      s->pw = pads[1];
    }
    s->is_signed = x.type == dtype::i8;
    st = std::move(s);
  } else {
    auto s = std::make_unique<qgap_step>();
    s->q = g.q;
    s->N = x.shape[0];
    s->C = x.shape[1];
    s->P = x.shape[2] * x.shape[3];
    st = std::move(s);
  }
  auto src = ctx.buffer_in(q.inputs[0], activation_layout(x));
  if (!src) return src.error();
  st->reads = {*src};
  st->writes = {ctx.define(q.output, activation_layout(y))};
  return emit_group_step(ctx, g, std::move(st));
}

// ---- Add -----------------------------------------------------------------------------------

class qadd_step final : public stateless_step {
 public:
  std::shared_ptr<const qgroup> q;
  std::size_t count = 0;
  // (x - z) * multiplier for each of the 256 byte values of either input, made at plan
  // time: the same float64 products the loop would compute, looked up instead.
  std::array<double, 256> term_a{}, term_b{};

  void make_terms() {
    auto fill = [](std::array<double, 256>& t, const int8::qparams& p, double multiplier) {
      for (int byte = 0; byte < 256; ++byte) {
        const std::int32_t v = p.type == dtype::i8 ? static_cast<std::int8_t>(byte) : byte;
        t[static_cast<std::size_t>(byte)] = static_cast<double>(v - p.zero_point) * multiplier;
      }
    };
    fill(term_a, q->in[0], q->scales[0].approx());
    fill(term_b, q->in[1], q->scales[1].approx());
  }

  result<void> execute(run_context& rc) const override {
    const auto* a = static_cast<const std::uint8_t*>(rc.address[reads[0]]);
    const auto* b = static_cast<const std::uint8_t*>(rc.address[reads[1]]);
    auto* y = static_cast<std::uint8_t*>(rc.address[writes[0]]);  // int8 or uint8: the same bits
    const double zy = q->out.zero_point, lo = q->lo, hi = q->hi;
    const bool as = q->in[0].type == dtype::i8, bs = q->in[1].type == dtype::i8;
    for (std::size_t i = 0; i < count; ++i) {  // float64 fast pass, exact unless near a tie
      bool near = false;
      std::int32_t out = int8::round_fast(term_a[a[i]] + term_b[b[i]], zy, lo, hi, near);
      if (near)
        out = saturate(int8::rescale_sum(q->scales[0], load(a, i, as) - q->in[0].zero_point, q->scales[1],
                                         load(b, i, bs) - q->in[1].zero_point) +
                           q->out.zero_point,
                       q->lo, q->hi);
      y[i] = static_cast<std::uint8_t>(out);
    }
    return {};
  }
};

result<bool> lower_add(const node_group& g, lowering_context& ctx) {
  const qgroup& q = *g.q;
  auto s = std::make_unique<qadd_step>();
  s->q = g.q;
  s->make_terms();
  const value& y = ctx.val(q.output);
  s->count = static_cast<std::size_t>(element_count(y.shape));
  for (int v : q.inputs) {
    auto b = ctx.buffer_in(v, activation_layout(ctx.val(v)));
    if (!b) return b.error();
    s->reads.push_back(*b);
  }
  s->writes = {ctx.define(q.output, activation_layout(y))};
  return emit_group_step(ctx, g, std::move(s));
}

// ---- layout conversion of 1-byte values ----------------------------------------------------

class transpose_step final : public stateless_step {
 public:
  std::size_t N = 0, C = 0, P = 0;
  bool to_channels_last = true;
  result<void> execute(run_context& rc) const override {
    const auto* src = static_cast<const unsigned char*>(rc.address[reads[0]]);
    auto* dst = static_cast<unsigned char*>(rc.address[writes[0]]);
    for (std::size_t n = 0; n < N; ++n) {
      const unsigned char* s = src + n * C * P;
      unsigned char* d = dst + n * C * P;
      if (to_channels_last)
        for (std::size_t c = 0; c < C; ++c)
          for (std::size_t p = 0; p < P; ++p) d[p * C + c] = s[c * P + p];
      else
        for (std::size_t p = 0; p < P; ++p)
          for (std::size_t c = 0; c < C; ++c) d[c * P + p] = s[p * C + c];
    }
    return {};
  }
};

class int8_backend final : public backend {
 public:
  const char* name() const override { return "int8"; }

  result<bool> lower(const node_group& g, lowering_context& ctx) override {
    if (g.k != node_group::kind::quantized || !g.q) return false;
    switch (g.q->o) {
      case qgroup::op::conv: return lower_conv(g, ctx);
      case qgroup::op::gemm: return lower_gemm(g, ctx);
      case qgroup::op::maxpool:
      case qgroup::op::global_avgpool: return lower_pool(g, ctx);
      case qgroup::op::add: return lower_add(g, ctx);
    }
    return false;
  }

  std::unique_ptr<step> convert(int from, int to, const lowering_context& ctx) override {
    const buffer& f = ctx.buf(from);
    const buffer& t = ctx.buf(to);
    const value& v = ctx.val(f.value);
    if (size_of(v.type) != 1 || v.shape.size() < 3) return nullptr;
    const bool down = f.lay.is_plain() && t.lay.k == layout::kind::channels_last;
    const bool up = f.lay.k == layout::kind::channels_last && t.lay.is_plain();
    if (!down && !up) return nullptr;
    auto s = std::make_unique<transpose_step>();
    s->N = static_cast<std::size_t>(v.shape[0]);
    s->C = static_cast<std::size_t>(v.shape[1]);
    s->P = static_cast<std::size_t>(element_count(v.shape) / std::max<std::int64_t>(1, v.shape[0] * v.shape[1]));
    s->to_channels_last = down;
    s->reads = {from};
    s->writes = {to};
    s->label = v.name;
    s->op = "Reorder";
    s->backend = "int8:loops";
    return s;
  }
};

}  // namespace

std::unique_ptr<backend> make_int8_backend() { return std::make_unique<int8_backend>(); }

}  // namespace edgert::engine::planning
