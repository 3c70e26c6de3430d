// Conv groups on oneDNN: Conv [+ BatchNormalization folded into the weights and bias]
// [+ activations as eltwise post-ops] [+ a residual Add as a sum post-op, written in place
// over the other operand's buffer, + activations after it]. Source and destination use
// whatever layout oneDNN prefers (format_tag::any, nChw16c/8c on AVX-512/AVX2); the weights
// are reordered once into the primitive's format at plan time.
#include <cmath>

#include "engine/kernel.hpp"
#include "engine/kernels/spatial.hpp"
#include "engine/plan/onednn/lowering.hpp"

namespace edgert::engine::planning::onednn {

namespace {

std::vector<float> values_of(const tensor& t) { return std::vector<float>(t.data<float>(), t.data<float>() + t.elements()); }

// Folds y = scale * (x - mean) / sqrt(var + eps) + shift into per-output-channel weights and bias.
bool fold_batch_norm(const node& bn, const std::vector<const tensor*>& params, std::int64_t M, std::vector<float>& w,
                     std::vector<float>& b) {
  for (const tensor* p : params)
    if (!p || p->type() != dtype::f32 || p->elements() != M) return false;
  const double eps = bn.get_float("epsilon", 1e-5f);
  const std::size_t per_channel = w.size() / static_cast<std::size_t>(M);
  for (std::int64_t m = 0; m < M; ++m) {
    const double scale = params[0]->data<float>()[m], shift = params[1]->data<float>()[m];
    const double mean = params[2]->data<float>()[m], var = params[3]->data<float>()[m];
    const double s = scale / std::sqrt(var + eps);
    for (std::size_t i = 0; i < per_channel; ++i) {
      float& wi = w[static_cast<std::size_t>(m) * per_channel + i];
      wi = static_cast<float>(wi * s);
    }
    b[static_cast<std::size_t>(m)] = static_cast<float>((b[static_cast<std::size_t>(m)] - mean) * s + shift);
  }
  return true;
}

// Whether a primitive descriptor is worth using: never oneDNN's reference code, and for the
// preferred-layout candidates not its im2col-GEMM fallback either.
bool acceptable(const dnnl::primitive_desc_base& pd, bool any_implementation) {
  if (is_reference_implementation(pd)) return false;
  return any_implementation || implementation(pd).rfind("gemm", 0) != 0;
}

// A 2-D 3x3 convolution with unit strides and dilations, no groups, and channel counts that
// fill whole blocks: the shape oneDNN's Winograd kernels handle.
bool winograd_applies(const node& n, const shape_t& x, const shape_t& w) {
  const int block = preferred_block();
  auto ones = [](const std::vector<std::int64_t>& v) {
    for (auto e : v)
      if (e != 1) return false;
    return true;
  };
  return x.size() == 4 && w.size() == 4 && w[2] == 3 && w[3] == 3 && n.get_int("group", 1) == 1 &&
         ones(n.get_ints("strides")) && ones(n.get_ints("dilations")) && x[1] % block == 0 && w[0] % block == 0;
}

}  // namespace

conv_policy choose_conv_policy(const lowering_context& ctx) {
  conv_policy p;
  if (!ctx.options().winograd) return p;
  const graph& model = ctx.model();
  for (std::size_t i = 0; i < model.nodes.size() && !p.winograd_blocked; ++i) {
    const node& n = model.nodes[i];
    if (n.op_type != "Conv" || !n.domain.empty()) continue;
    const auto& ins = ctx.inputs_of(static_cast<int>(i));
    if (ins.size() < 2 || ins[0] < 0 || ins[1] < 0) continue;
    const value& x = ctx.val(ins[0]);
    const value& w = ctx.val(ins[1]);
    p.winograd_blocked = x.is_static && x.type == dtype::f32 && w.constant && winograd_applies(n, x.shape, w.shape);
  }
  return p;
}

result<bool> lower_conv(const node_group& g, lowering_context& ctx, const conv_policy& policy) {
  const graph& model = ctx.model();
  const node& n = model.nodes[static_cast<std::size_t>(g.anchor)];
  const auto& ins = ctx.inputs_of(g.anchor);
  if (ins.size() < 2 || ins[0] < 0 || ins[1] < 0) return false;
  const value& x = ctx.val(ins[0]);
  const value& wv = ctx.val(ins[1]);
  const int out_id = ctx.outputs_of(g.anchor)[0];
  if (out_id < 0 || g.output < 0) return false;
  const value& y = ctx.val(out_id);
  if (x.type != dtype::f32 || !x.is_static || !y.is_static || x.shape.size() < 3 || x.shape.size() > 5) return false;
  if (!wv.constant || wv.type != dtype::f32 || wv.shape.size() != x.shape.size()) return false;
  const tensor* bias_t = ins.size() > 2 && ins[2] >= 0 ? ctx.val(ins[2]).constant : nullptr;
  if (ins.size() > 2 && ins[2] >= 0 && (!bias_t || bias_t->type() != dtype::f32)) return false;
  if (ctx.val(g.output).shape != y.shape) return false;

  const std::int64_t group = n.get_int("group", 1);
  const std::int64_t N = x.shape[0], C = x.shape[1], M = wv.shape[0], Cg = wv.shape[1];
  if (group <= 0 || C != Cg * group || M % group != 0) return false;
  if (bias_t && bias_t->elements() != M) return false;
  const std::vector<std::int64_t> in(x.shape.begin() + 2, x.shape.end());
  const std::vector<std::int64_t> kernel(wv.shape.begin() + 2, wv.shape.end());
  kernel_context kctx{n, model.opset(n.domain), {}, {}};
  auto geo = spatial::resolve(kctx, in, kernel, {});
  if (!geo) return false;
  shape_t out_shape{N, M};
  out_shape.insert(out_shape.end(), geo->out.begin(), geo->out.end());
  if (out_shape != y.shape) return false;

  std::vector<float> w = values_of(*wv.constant);
  std::vector<float> b = bias_t ? values_of(*bias_t) : std::vector<float>(static_cast<std::size_t>(M), 0.0f);
  if (g.batch_norm >= 0) {
    const auto& bn_ins = ctx.inputs_of(g.batch_norm);
    std::vector<const tensor*> params;
    for (std::size_t k = 1; k <= 4; ++k) params.push_back(k < bn_ins.size() && bn_ins[k] >= 0 ? ctx.val(bn_ins[k]).constant : nullptr);
    if (!fold_batch_norm(model.nodes[static_cast<std::size_t>(g.batch_norm)], params, M, w, b)) return false;
  }

  memory::dims src_dims(x.shape.begin(), x.shape.end()), dst_dims(out_shape.begin(), out_shape.end());
  memory::dims w_dims;
  if (group > 1) w_dims = {group, M / group, Cg};
  else w_dims = {M, Cg};
  w_dims.insert(w_dims.end(), kernel.begin(), kernel.end());
  memory::dims strides(geo->strides.begin(), geo->strides.end());
  memory::dims dilations, pad_l(geo->pad_begin.begin(), geo->pad_begin.end()), pad_r(geo->pad_end.begin(), geo->pad_end.end());
  for (auto d : geo->dilations) dilations.push_back(d - 1);

  dnnl::post_ops ops;
  append_activations(ops, g.activations);
  if (g.residual_add >= 0) {
    ops.append_sum(1.0f);
    append_activations(ops, g.post_activations);
  }
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  attr.set_post_ops(ops);

  using tag = memory::format_tag;
  const memory::desc w_any(w_dims, memory::data_type::f32, tag::any);
  const memory::desc b_desc({M}, memory::data_type::f32, tag::a);
  const memory::desc any_src(src_dims, memory::data_type::f32, tag::any);
  const memory::desc any_dst(dst_dims, memory::data_type::f32, tag::any);

  // Candidates, best first. With Winograd allowed: Winograd for plain 3x3 convolutions, which
  // works on the blocked layout, then the direct algorithm kept in that layout (reading the
  // input in the layout it already has) so no conversions are needed between layers; last,
  // or always without Winograd, the direct algorithm in the layout oneDNN picks by itself
  // (channels-last with the AVX-512 "brgconv" kernels, measured faster than blocked direct).
  const int block = preferred_block();
  const layout& current = ctx.primary_layout(ins[0]);
  const memory::desc blocked_dst = desc_of(layout::blocked(out_shape, dtype::f32, block), out_shape);
  memory::desc direct_src = desc_of(layout::blocked(x.shape, dtype::f32, block), x.shape);
  if (!current.is_plain()) direct_src = desc_of(current, x.shape);
  else if (C < block) direct_src = plain_desc(x.shape);
  struct candidate {
    dnnl::algorithm algorithm;
    memory::desc src, dst;
    bool any_implementation;
  };
  std::vector<candidate> candidates;
  const bool winograd_shape = winograd_applies(n, x.shape, wv.shape);
  if (policy.winograd_blocked) {
    if (winograd_shape) candidates.push_back({dnnl::algorithm::convolution_winograd, any_src, any_dst, false});
    candidates.push_back({dnnl::algorithm::convolution_direct, direct_src, blocked_dst, false});
  }
  candidates.push_back({dnnl::algorithm::convolution_direct, any_src, any_dst, true});

  dnnl::convolution_forward::primitive_desc pd;
  memory weights, bias;
  bool found = false;
  int residual_buffer = -1;  // an existing buffer of the residual operand to overwrite, or -1 to copy it
  try {
    for (const candidate& c : candidates) {
      dnnl::convolution_forward::primitive_desc made;
      try {
        dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, c.algorithm, c.src, w_any, b_desc, c.dst,
                                          strides, dilations, pad_l, pad_r);
        made = dnnl::convolution_forward::primitive_desc(d, attr, cpu_engine());
      } catch (const dnnl::error&) {
        continue;  // no implementation for this candidate
      }
      if (!acceptable(made, c.any_implementation)) continue;
      if (g.residual_add >= 0) {
        // The sum post-op adds the destination's previous contents: the residual operand is
        // written there first (or already is) and overwritten in place.
        const layout want = layout_of(made.dst_desc(), out_shape);
        residual_buffer = -1;
        for (int b : ctx.val(g.residual).buffers)
          if (ctx.buf(b).lay.key == want.key) residual_buffer = b;
        const bool ok = residual_buffer >= 0 ? ctx.can_overwrite(g.residual, residual_buffer, g.residual_add)
                                             : ctx.dies_at(g.residual, g.residual_add);
        if (!ok) continue;
      }
      pd = made;
      found = true;
      break;
    }
    if (!found) return false;
    weights = reorder_to(make_memory(plain_desc(shape_t(w_dims.begin(), w_dims.end())), w), pd.weights_desc());
    bias = make_memory(b_desc, b);
  } catch (const dnnl::error&) {
    return false;
  }

  auto src = ctx.buffer_in(ins[0], layout_of(pd.src_desc(), x.shape));
  if (!src) return src.error();
  int dst = -1;
  int overwritten = -1;
  if (g.residual_add >= 0) {
    if (residual_buffer < 0) {
      // A converted copy of the residual operand, private to this step.
      auto copy = ctx.buffer_in(g.residual, layout_of(pd.dst_desc(), out_shape));
      if (!copy) return copy.error();
      residual_buffer = *copy;
    }
    overwritten = residual_buffer;
    dst = ctx.define_alias(g.output, residual_buffer);
  } else {
    dst = ctx.define(g.output, layout_of(pd.dst_desc(), out_shape));
  }
  auto s = std::make_unique<primitive_step>();
  s->primitive = dnnl::convolution_forward(pd);
  s->args.push_back({DNNL_ARG_SRC, *src, pd.src_desc(), {}});
  s->args.push_back({DNNL_ARG_WEIGHTS, -1, pd.weights_desc(), weights});
  s->args.push_back({DNNL_ARG_BIAS, -1, b_desc, bias});
  s->args.push_back({DNNL_ARG_DST, dst, pd.dst_desc(), {}});
  s->scratch = pd.scratchpad_desc().get_size();
  s->reads = {*src};
  if (overwritten >= 0) s->reads.push_back(overwritten);
  s->writes = {dst};
  s->label = g.label(model);
  s->op = g.ops(model);
  s->backend = "onednn:" + implementation(pd);
  ctx.emit(std::move(s));
  return true;
}

}  // namespace edgert::engine::planning::onednn
