// Gemm and MatMul groups on oneDNN's matmul primitive, on plain row-major buffers:
// Gemm(A, B, C) with transA/transB through strides, alpha folded into constant weights and
// beta*C into the bias; MatMul [+ a constant bias Add]; both [+ activations as eltwise
// post-ops]. Constant weights are reordered once into the primitive's preferred format.
#include "engine/plan/onednn/lowering.hpp"

namespace edgert::engine::planning::onednn {

namespace {

using tag = memory::format_tag;

memory::desc strided(const memory::dims& dims, const memory::dims& strides) {
  return memory::desc(dims, memory::data_type::f32, strides);
}

struct matmul_parts {
  memory::desc src, weights, bias, dst;
  memory weights_memory, bias_memory;  // plan-owned when constant (null otherwise)
  int weights_value = -1;              // dynamic weights: the value read at run time
  bool has_bias = false;
  memory::desc addend;                 // a constant added as a binary post-op (Gemm's C of
  memory addend_memory;                // shape [M, 1] or [M, N]), before the activations
};

// Creates the primitive and emits its step; false when oneDNN has no fast implementation.
result<bool> emit_matmul(const node_group& g, lowering_context& ctx, int src_value, matmul_parts& p,
                         const std::vector<float>* constant_weights) {
  dnnl::post_ops ops;
  if (p.addend_memory) ops.append_binary(dnnl::algorithm::binary_add, p.addend);
  append_activations(ops, g.activations);
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  attr.set_post_ops(ops);
  dnnl::matmul::primitive_desc pd;
  try {
    const memory::desc w_want =
        constant_weights ? memory::desc(p.weights.dims(), memory::data_type::f32, tag::any) : p.weights;
    dnnl::matmul::desc d = p.has_bias ? dnnl::matmul::desc(p.src, w_want, p.bias, p.dst) : dnnl::matmul::desc(p.src, w_want, p.dst);
    pd = dnnl::matmul::primitive_desc(d, attr, cpu_engine());
    if (is_reference_implementation(pd)) return false;
    if (constant_weights) p.weights_memory = reorder_to(make_memory(p.weights, *constant_weights), pd.weights_desc());
  } catch (const dnnl::error&) {
    return false;
  }
  const value& a = ctx.val(src_value);
  auto src = ctx.buffer_in(src_value, layout::plain(a.shape, a.type));
  if (!src) return src.error();
  int weights_buffer = -1;
  if (p.weights_value >= 0) {
    const value& w = ctx.val(p.weights_value);
    auto got = ctx.buffer_in(p.weights_value, layout::plain(w.shape, w.type));
    if (!got) return got.error();
    weights_buffer = *got;
  }
  const value& out = ctx.val(g.output);
  const int dst = ctx.define(g.output, layout::plain(out.shape, out.type));
  auto s = std::make_unique<primitive_step>();
  s->primitive = dnnl::matmul(pd);
  s->args.push_back({DNNL_ARG_SRC, *src, p.src, {}});
  s->args.push_back({DNNL_ARG_WEIGHTS, weights_buffer, pd.weights_desc(), p.weights_memory});
  if (p.has_bias) s->args.push_back({DNNL_ARG_BIAS, -1, p.bias, p.bias_memory});
  if (p.addend_memory) s->args.push_back({DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, -1, p.addend, p.addend_memory});
  s->args.push_back({DNNL_ARG_DST, dst, p.dst, {}});
  s->scratch = pd.scratchpad_desc().get_size();
  s->reads = {*src};
  if (weights_buffer >= 0) s->reads.push_back(weights_buffer);
  s->writes = {dst};
  s->label = g.label(ctx.model());
  s->op = g.ops(ctx.model());
  s->backend = "onednn:" + implementation(pd);
  ctx.emit(std::move(s));
  return true;
}

bool is_f32_static(const lowering_context& ctx, int v) {
  return v >= 0 && ctx.val(v).type == dtype::f32 && ctx.val(v).is_static;
}

}  // namespace

result<bool> lower_gemm(const node_group& g, lowering_context& ctx) {
  const node& n = ctx.model().nodes[static_cast<std::size_t>(g.anchor)];
  const auto& ins = ctx.inputs_of(g.anchor);
  if (ins.size() < 2 || !is_f32_static(ctx, ins[0]) || !is_f32_static(ctx, ins[1]) || !is_f32_static(ctx, g.output)) return false;
  const value& a = ctx.val(ins[0]);
  const value& b = ctx.val(ins[1]);
  if (a.shape.size() != 2 || b.shape.size() != 2 || a.constant) return false;
  const bool ta = n.get_int("transA", 0) != 0, tb = n.get_int("transB", 0) != 0;
  const float alpha = n.get_float("alpha", 1.0f), beta = n.get_float("beta", 1.0f);
  const std::int64_t M = ta ? a.shape[1] : a.shape[0], K = ta ? a.shape[0] : a.shape[1];
  const std::int64_t N = tb ? b.shape[0] : b.shape[1];
  if ((tb ? b.shape[1] : b.shape[0]) != K || ctx.val(g.output).shape != shape_t{M, N}) return false;

  matmul_parts p;
  p.src = strided({M, K}, ta ? memory::dims{1, M} : memory::dims{K, 1});
  p.dst = plain_desc({M, N});
  std::vector<float> w;
  if (b.constant) {
    w.resize(static_cast<std::size_t>(K * N));
    const float* bd = b.constant->data<float>();
    for (std::int64_t k = 0; k < K; ++k)
      for (std::int64_t j = 0; j < N; ++j) w[static_cast<std::size_t>(k * N + j)] = alpha * (tb ? bd[j * K + k] : bd[k * N + j]);
    p.weights = plain_desc({K, N});
  } else {
    if (alpha != 1.0f) return false;
    p.weights = strided({K, N}, tb ? memory::dims{1, K} : memory::dims{N, 1});
    p.weights_value = ins[1];
  }
  if (ins.size() > 2 && ins[2] >= 0 && beta != 0.0f) {
    const value& c = ctx.val(ins[2]);
    if (!c.constant || c.type != dtype::f32 || c.shape.size() > 2) return false;
    shape_t cs = c.shape;
    while (cs.size() < 2) cs.insert(cs.begin(), 1);
    if ((cs[0] != 1 && cs[0] != M) || (cs[1] != 1 && cs[1] != N)) return false;
    std::vector<float> values(c.constant->data<float>(), c.constant->data<float>() + c.constant->elements());
    for (float& v : values) v *= beta;
    try {
      if (cs[0] == 1) {
        // One row broadcast down the columns: the primitive's bias.
        if (cs[1] == 1) values.assign(static_cast<std::size_t>(N), values[0]);
        p.bias = plain_desc({1, N});
        p.has_bias = true;
        p.bias_memory = make_memory(p.bias, values);
      } else {
        // Per-row or full C: materialised as a full [M, N] addend (oneDNN's binary post-op
        // has no fast per-row broadcast).
        std::vector<float> full(static_cast<std::size_t>(M * N));
        for (std::int64_t i = 0; i < M; ++i)
          for (std::int64_t j = 0; j < N; ++j)
            full[static_cast<std::size_t>(i * N + j)] = values[static_cast<std::size_t>(cs[1] == 1 ? i : i * N + j)];
        p.addend = plain_desc({M, N});
        p.addend_memory = make_memory(p.addend, full);
      }
    } catch (const dnnl::error&) {
      return false;
    }
  }
  return emit_matmul(g, ctx, ins[0], p, b.constant ? &w : nullptr);
}

result<bool> lower_matmul(const node_group& g, lowering_context& ctx) {
  const auto& ins = ctx.inputs_of(g.anchor);
  if (ins.size() != 2 || !is_f32_static(ctx, ins[0]) || !is_f32_static(ctx, ins[1]) || !is_f32_static(ctx, g.output)) return false;
  const value& a = ctx.val(ins[0]);
  const value& b = ctx.val(ins[1]);
  const shape_t& out = ctx.val(g.output).shape;
  if (a.shape.size() < 2 || b.shape.size() < 2 || a.constant || out.size() != std::max(a.shape.size(), b.shape.size())) return false;
  const std::size_t r = out.size();
  shape_t as = a.shape, bs = b.shape;
  while (as.size() < r) as.insert(as.begin(), 1);
  while (bs.size() < r) bs.insert(bs.begin(), 1);
  const std::int64_t M = as[r - 2], K = as[r - 1], N = bs[r - 1];
  if (bs[r - 2] != K || out[r - 2] != M || out[r - 1] != N) return false;
  bool b_is_matrix = true;  // every batch dimension of B is 1
  for (std::size_t d = 0; d + 2 < r; ++d) b_is_matrix = b_is_matrix && bs[d] == 1;

  matmul_parts p;
  std::vector<float> w;
  std::vector<float> bias_values;
  if (g.bias >= 0) {
    const tensor& t = *ctx.val(g.bias).constant;
    bias_values.assign(t.data<float>(), t.data<float>() + t.elements());
    p.has_bias = true;
  }
  if (b.constant && b_is_matrix) {
    // Rows of every batch of A at once: [prod(batch) * M, K] x [K, N].
    const std::int64_t rows = element_count(a.shape) / K;
    p.src = plain_desc({rows, K});
    p.dst = plain_desc({rows, N});
    p.weights = plain_desc({K, N});
    w.assign(b.constant->data<float>(), b.constant->data<float>() + K * N);
    if (p.has_bias) p.bias = plain_desc({1, N});
  } else {
    p.src = plain_desc(as);
    p.dst = plain_desc(out);
    p.weights = plain_desc(bs);
    if (b.constant) {
      try {
        p.weights_memory = make_memory(p.weights, std::vector<float>(b.constant->data<float>(),
                                                                     b.constant->data<float>() + b.constant->elements()));
      } catch (const dnnl::error&) {
        return false;
      }
    } else {
      p.weights_value = ins[1];
    }
    if (p.has_bias) {
      shape_t ones(r, 1);
      ones.back() = N;
      p.bias = plain_desc(ones);
    }
  }
  if (p.has_bias) {
    try {
      p.bias_memory = make_memory(p.bias, bias_values);
    } catch (const dnnl::error&) {
      return false;
    }
  }
  return emit_matmul(g, ctx, ins[0], p, !w.empty() ? &w : nullptr);
}

}  // namespace edgert::engine::planning::onednn
