#include "engine/plan/int8/qgroups.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "engine/kernels/quantized.hpp"

namespace edgert::engine::planning::int8 {

namespace {

struct matcher {
  const model_view& m;
  std::vector<bool>& claimed;
  std::vector<int> producer;  // per value: the node writing it, or -1

  const node& nd(int n) const { return m.g->nodes[static_cast<std::size_t>(n)]; }
  const value& val(int v) const { return (*m.values)[static_cast<std::size_t>(v)]; }
  int in(int n, std::size_t k) const {
    const auto& ins = (*m.node_inputs)[static_cast<std::size_t>(n)];
    return k < ins.size() ? ins[k] : -1;
  }
  int out(int n) const {
    const auto& outs = (*m.node_outputs)[static_cast<std::size_t>(n)];
    return outs.empty() ? -1 : outs[0];
  }
  bool is(int n, const char* op) const { return nd(n).domain.empty() && nd(n).op_type == op; }
  bool only_output(int n) const {
    const auto& outs = (*m.node_outputs)[static_cast<std::size_t>(n)];
    for (std::size_t k = 1; k < outs.size(); ++k)
      if (outs[k] >= 0 && (val(outs[k]).consumers > 0 || !val(outs[k]).output_indices.empty())) return false;
    return true;
  }
  // The node that alone reads v (an intermediate nobody else sees), or -1.
  int sole_reader(int v) const {
    if (v < 0 || !val(v).output_indices.empty() || val(v).consumers != 1) return -1;
    const auto& r = (*m.consumers)[static_cast<std::size_t>(v)];
    if (r.size() != 1 || claimed[static_cast<std::size_t>(r[0])] || (*m.folded)[static_cast<std::size_t>(r[0])]) return -1;
    return r[0];
  }
  const tensor* constant(int v) const { return v >= 0 ? val(v).constant : nullptr; }
  bool q8_static(int v) const {
    return v >= 0 && val(v).is_static && (val(v).type == dtype::u8 || val(v).type == dtype::i8);
  }

  // Scalar scale and zero point given as inputs si / zi of node n; the type from the zero
  // point (uint8 when absent).
  std::optional<qparams> scalar_params(int n, std::size_t si, std::size_t zi) const {
    const tensor* s = constant(in(n, si));
    if (!s || s->type() != dtype::f32 || s->elements() != 1) return std::nullopt;
    qparams p;
    p.scale = s->data<float>()[0];
    if (!(p.scale > 0.f) || !std::isfinite(p.scale)) return std::nullopt;
    const int zv = in(n, zi);
    if (zv >= 0) {
      const tensor* z = constant(zv);
      if (!z || z->elements() != 1 || (z->type() != dtype::u8 && z->type() != dtype::i8)) return std::nullopt;
      p.type = z->type();
      p.zero_point = z->type() == dtype::u8 ? z->data<std::uint8_t>()[0] : z->data<std::int8_t>()[0];
    }
    return p;
  }

  // A DequantizeLinear node (not folded) reading a static q8 value per tensor.
  bool dq_of_activation(int v, int& dq, int& x, qparams& p) const {
    if (v < 0) return false;
    dq = producer[static_cast<std::size_t>(v)];
    if (dq < 0 || (*m.folded)[static_cast<std::size_t>(dq)] || !is(dq, "DequantizeLinear")) return false;
    x = in(dq, 0);
    if (!q8_static(x)) return false;
    auto sp = scalar_params(dq, 1, 2);
    if (!sp || sp->type != val(x).type) {
      if (!sp || in(dq, 2) >= 0) return false;
    }
    p = *sp;
    p.type = val(x).type;
    return true;
  }

  // A folded DequantizeLinear that made constant v from a q8 or int32 tensor, per tensor or
  // per channel along axis 0: the integers (minus zero point) and the scales.
  bool dq_of_constant(int v, dtype want, std::vector<std::int32_t>& ints, std::vector<float>& scales,
                      std::int64_t channels) const {
    if (v < 0 || !constant(v)) return false;
    const int dq = producer[static_cast<std::size_t>(v)];
    if (dq < 0 || !is(dq, "DequantizeLinear")) return false;
    const tensor* q = constant(in(dq, 0));
    const tensor* s = constant(in(dq, 1));
    const tensor* z = in(dq, 2) >= 0 ? constant(in(dq, 2)) : nullptr;
    if (!q || !s || (in(dq, 2) >= 0 && !z) || s->type() != dtype::f32) return false;
    if (want == dtype::i32 ? q->type() != dtype::i32 : (q->type() != dtype::i8 && q->type() != dtype::u8)) return false;
    if (q->rank() < 1 || q->shape()[0] != channels) return false;
    if (s->elements() != 1 && (s->elements() != channels || nd(dq).get_int("axis", 1) != 0)) return false;
    if (z && z->elements() != s->elements()) return false;
    scales.assign(s->data<float>(), s->data<float>() + s->elements());
    if (!quant::read_ints(*q, ints)) return false;
    std::vector<std::int32_t> zs;
    if (z && !quant::read_ints(*z, zs)) return false;
    const std::size_t per = ints.size() / static_cast<std::size_t>(channels);
    for (std::size_t i = 0; i < ints.size() && !zs.empty(); ++i) ints[i] -= zs[zs.size() == 1 ? 0 : i / per];
    return true;
  }

  // The group writes value v quantized with p, over the full range of p's type.
  static void set_output(qgroup& g, int v, const qparams& p) {
    g.output = v;
    g.out = p;
    g.lo = p.type == dtype::i8 ? -128 : 0;
    g.hi = p.type == dtype::i8 ? 127 : 255;
  }

  // Output side: [Relu | Clip] -> QuantizeLinear after value v; fills g's output and clamp.
  bool tail(int v, qgroup& g, std::vector<int>& nodes) {
    bool relu = false;
    float clip_lo = -std::numeric_limits<float>::infinity(), clip_hi = std::numeric_limits<float>::infinity();
    int n = sole_reader(v);
    if (n < 0) return false;
    if ((is(n, "Relu") || is(n, "Clip")) && only_output(n) && in(n, 0) == v) {
      if (is(n, "Relu")) {
        relu = true;
      } else {
        for (std::size_t k = 1; k <= 2; ++k) {
          if (in(n, k) < 0) continue;
          const tensor* b = constant(in(n, k));
          if (!b || b->type() != dtype::f32 || b->elements() != 1) return false;
          (k == 1 ? clip_lo : clip_hi) = b->data<float>()[0];
        }
        if (m.g->opset("") < 11) return false;
      }
      nodes.push_back(n);
      v = out(n);
      n = sole_reader(v);
      if (n < 0) return false;
    }
    if (!is(n, "QuantizeLinear") || in(n, 0) != v || !q8_static(out(n))) return false;
    auto p = scalar_params(n, 1, 2);
    if (!p) return false;
    nodes.push_back(n);
    set_output(g, out(n), *p);
    if (relu) g.lo = std::max(g.lo, p->zero_point);
    auto bound = [&](float b, std::int32_t& into, bool low) {
      if (!std::isfinite(b)) return true;
      std::int64_t r = 0;
      if (b != 0.f) {
        auto s = exact_scale::make({std::fabs(b)}, {p->scale});
        if (!s) return false;
        r = s->rescale(1);
        if (b < 0) r = -r;
      }
      const std::int32_t q = saturate(r + p->zero_point, g.lo, g.hi);
      into = low ? std::max(into, q) : std::min(into, q);
      return true;
    };
    return bound(clip_lo, g.lo, true) && bound(clip_hi, g.hi, false) && g.lo <= g.hi;
  }

  bool requant_scales(qgroup& g, const std::vector<float>& ws, std::size_t channels) {
    g.scales.clear();
    for (std::size_t c = 0; c < channels; ++c) {
      auto s = exact_scale::make({g.in[0].scale, ws[ws.size() == 1 ? 0 : c]}, {g.out.scale});
      if (!s) return false;
      g.scales.push_back(*s);
    }
    return true;
  }

  // The fp32 accumulation the conv kernel uses is exact when no partial sum can exceed 2^24.
  static bool conv_bound_ok(const qgroup& g, bool& split) {
    const std::int64_t M = g.weight_shape[0];
    const std::int64_t per = static_cast<std::int64_t>(g.weights.size()) / M;
    const std::int64_t xmax = std::max(g.in[0].zero_point - (g.in[0].type == dtype::i8 ? -128 : 0),
                                       (g.in[0].type == dtype::i8 ? 127 : 255) - g.in[0].zero_point);
    std::int64_t worst = 0, worst_split = 0;
    for (std::int64_t c = 0; c < M; ++c) {
      std::int64_t l1 = 0, hi = 0, lo = 0;
      for (std::int64_t k = 0; k < per; ++k) {
        const std::int32_t w = g.weights[static_cast<std::size_t>(c * per + k)];
        l1 += std::abs(w);
        const std::int32_t l = ((w + 8) & 15) - 8;
        lo += std::abs(l);
        hi += std::abs((w - l) / 16);
      }
      worst = std::max(worst, l1);
      worst_split = std::max({worst_split, lo, hi});
    }
    const std::int64_t limit = std::int64_t{1} << 24;
    split = worst * xmax > limit;
    return !split || worst_split * xmax <= limit;
  }

  bool conv_shape_ok(int n, int x, const shape_t& w) const {
    const value& xv = val(x);
    if (xv.shape.size() != 4 || w.size() != 4) return false;
    const std::int64_t group = nd(n).get_int("group", 1);
    if (group < 1 || xv.shape[1] != w[1] * group || w[0] % group != 0) return false;
    for (auto d : nd(n).get_ints("dilations"))
      if (d < 1) return false;
    return nd(n).get_string("auto_pad", "NOTSET") == "NOTSET" || nd(n).get_string("auto_pad", "NOTSET") == "VALID";
  }

  std::optional<node_group> finish(qgroup&& q, std::vector<int> nodes, int anchor) {
    if (q.output < 0 || !val(q.output).is_static) return std::nullopt;
    for (int n : nodes)
      if (claimed[static_cast<std::size_t>(n)]) return std::nullopt;
    node_group g;
    g.k = node_group::kind::quantized;
    g.anchor = anchor;
    g.nodes = std::move(nodes);
    g.output = q.output;
    q.anchor = anchor;
    g.q = std::make_shared<const qgroup>(std::move(q));
    return g;
  }

  std::optional<node_group> qlinear_conv(int n) {
    qgroup g;
    g.o = qgroup::op::conv;
    const int x = in(n, 0);
    const tensor* w = constant(in(n, 3));
    const tensor* ws = constant(in(n, 4));
    if (!q8_static(x) || !w || !ws || ws->type() != dtype::f32 || !only_output(n)) return std::nullopt;
    auto xp = scalar_params(n, 1, 2);
    auto yp = scalar_params(n, 6, 7);
    if (!xp || !yp || (in(n, 2) >= 0 && xp->type != val(x).type) || !q8_static(out(n))) return std::nullopt;
    xp->type = val(x).type;
    if (!conv_shape_ok(n, x, w->shape())) return std::nullopt;
    const std::int64_t M = w->shape()[0];
    if (ws->elements() != 1 && ws->elements() != M) return std::nullopt;
    if (!quant::read_ints(*w, g.weights)) return std::nullopt;
    if (in(n, 5) >= 0) {
      const tensor* z = constant(in(n, 5));
      std::vector<std::int32_t> zs;
      if (!z || (z->elements() != 1 && z->elements() != M) || !quant::read_ints(*z, zs)) return std::nullopt;
      const std::size_t per = g.weights.size() / static_cast<std::size_t>(M);
      for (std::size_t i = 0; i < g.weights.size(); ++i) g.weights[i] -= zs[zs.size() == 1 ? 0 : i / per];
    }
    g.bias.assign(static_cast<std::size_t>(M), 0);
    if (in(n, 8) >= 0) {
      const tensor* b = constant(in(n, 8));
      if (!b || b->type() != dtype::i32 || b->elements() != M) return std::nullopt;
      g.bias.assign(b->data<std::int32_t>(), b->data<std::int32_t>() + M);
    }
    g.weight_shape = w->shape();
    g.inputs = {x};
    g.in = {*xp};
    qparams quantized_output = *yp;
    quantized_output.type = val(out(n)).type;
    set_output(g, out(n), quantized_output);
    std::vector<float> scales(ws->data<float>(), ws->data<float>() + ws->elements());
    bool split = false;
    if (!requant_scales(g, scales, static_cast<std::size_t>(M)) || !conv_bound_ok(g, split)) return std::nullopt;
    if (split && nd(n).get_int("group", 1) != 1) return std::nullopt;  // the split needs one group
    return finish(std::move(g), {n}, n);
  }

  std::optional<node_group> qdq_conv(int n) {
    qgroup g;
    g.o = qgroup::op::conv;
    int dq = -1, x = -1;
    qparams xp;
    if (!only_output(n) || !dq_of_activation(in(n, 0), dq, x, xp)) return std::nullopt;
    const int wv = in(n, 1);
    if (!constant(wv) || constant(wv)->rank() != 4) return std::nullopt;
    const std::int64_t M = constant(wv)->shape()[0];
    std::vector<float> ws;
    if (!dq_of_constant(wv, dtype::i8, g.weights, ws, M)) return std::nullopt;
    if (!conv_shape_ok(n, x, constant(wv)->shape())) return std::nullopt;
    g.weight_shape = constant(wv)->shape();
    g.inputs = {x};
    g.in = {xp};
    if (!bias_from(in(n, 2), M, ws, g)) return std::nullopt;
    std::vector<int> nodes{n};
    if (!tail(out(n), g, nodes)) return std::nullopt;
    bool split = false;
    if (!requant_scales(g, ws, static_cast<std::size_t>(M)) || !conv_bound_ok(g, split)) return std::nullopt;
    if (split && nd(n).get_int("group", 1) != 1) return std::nullopt;  // the split needs one group
    dq_reads[dq].push_back(n);
    return finish(std::move(g), nodes, n);
  }

  // An int32 bias DequantizeLinear whose scale is exactly s_x * s_w[c] (so it adds to the
  // accumulator as it is), or no bias.
  bool bias_from(int bv, std::int64_t M, const std::vector<float>& ws, qgroup& g) const {
    g.bias.assign(static_cast<std::size_t>(M), 0);
    if (bv < 0) return true;
    std::vector<float> bs;
    if (!dq_of_constant(bv, dtype::i32, g.bias, bs, M) || constant(bv)->rank() != 1) return false;
    for (std::int64_t c = 0; c < M; ++c) {
      const double want = static_cast<double>(g.in[0].scale) * ws[ws.size() == 1 ? 0 : static_cast<std::size_t>(c)];
      if (static_cast<double>(bs[bs.size() == 1 ? 0 : static_cast<std::size_t>(c)]) != want) return false;
    }
    return true;
  }

  std::optional<node_group> qdq_gemm(int n) {
    qgroup g;
    g.o = qgroup::op::gemm;
    int dq = -1, x = -1;
    qparams xp;
    if (!only_output(n) || !dq_of_activation(in(n, 0), dq, x, xp)) return std::nullopt;
    const bool gemm = is(n, "Gemm");
    if (gemm && (nd(n).get_int("transA", 0) != 0 || nd(n).get_float("alpha", 1.f) != 1.f ||
                 nd(n).get_float("beta", 1.f) != 1.f))
      return std::nullopt;
    const bool trans = gemm && nd(n).get_int("transB", 0) != 0;
    const int wv = in(n, 1);
    if (!constant(wv) || constant(wv)->rank() != 2) return std::nullopt;
    if (gemm && val(x).shape.size() != 2) return std::nullopt;
    if (val(x).shape.empty()) return std::nullopt;
    const std::int64_t K = trans ? constant(wv)->shape()[1] : constant(wv)->shape()[0];
    const std::int64_t N = trans ? constant(wv)->shape()[0] : constant(wv)->shape()[1];
    if (val(x).shape.back() != K || K > 32000) return std::nullopt;
    std::vector<float> ws;
    std::vector<std::int32_t> raw;
    // Per-channel weights are per output column: axis 0 of [N, K] (transB) only.
    if (!dq_of_constant(wv, dtype::i8, raw, ws, constant(wv)->shape()[0])) return std::nullopt;
    if (!trans && ws.size() != 1) return std::nullopt;
    g.weights.resize(raw.size());
    for (std::int64_t j = 0; j < N; ++j)
      for (std::int64_t k = 0; k < K; ++k)
        g.weights[static_cast<std::size_t>(j * K + k)] = raw[static_cast<std::size_t>(trans ? j * K + k : k * N + j)];
    g.weight_shape = {N, K};
    g.inputs = {x};
    g.in = {xp};
    if (!bias_from(gemm ? in(n, 2) : -1, N, ws, g)) return std::nullopt;
    std::vector<int> nodes{n};
    if (!tail(out(n), g, nodes)) return std::nullopt;
    if (!requant_scales(g, ws, static_cast<std::size_t>(N))) return std::nullopt;
    dq_reads[dq].push_back(n);
    return finish(std::move(g), nodes, n);
  }

  std::optional<node_group> qlinear_matmul(int n) {
    qgroup g;
    g.o = qgroup::op::gemm;
    const int x = in(n, 0);
    const tensor* w = constant(in(n, 3));
    const tensor* ws = constant(in(n, 4));
    if (!q8_static(x) || !w || w->rank() != 2 || !ws || ws->type() != dtype::f32 || !q8_static(out(n))) return std::nullopt;
    auto xp = scalar_params(n, 1, 2);
    auto yp = scalar_params(n, 6, 7);
    if (!xp || !yp || val(x).shape.empty() || val(x).shape.back() != w->shape()[0]) return std::nullopt;
    xp->type = val(x).type;
    const std::int64_t K = w->shape()[0], N = w->shape()[1];
    if (K > 32000) return std::nullopt;
    if (ws->elements() != 1 && ws->elements() != N) return std::nullopt;
    std::vector<std::int32_t> raw, zs;
    if (!quant::read_ints(*w, raw)) return std::nullopt;
    if (in(n, 5) >= 0) {
      const tensor* z = constant(in(n, 5));
      if (!z || (z->elements() != 1 && z->elements() != N) || !quant::read_ints(*z, zs)) return std::nullopt;
    }
    g.weights.resize(raw.size());
    for (std::int64_t j = 0; j < N; ++j)
      for (std::int64_t k = 0; k < K; ++k)
        g.weights[static_cast<std::size_t>(j * K + k)] =
            raw[static_cast<std::size_t>(k * N + j)] - (zs.empty() ? 0 : zs[zs.size() == 1 ? 0 : static_cast<std::size_t>(j)]);
    g.weight_shape = {N, K};
    g.bias.assign(static_cast<std::size_t>(N), 0);
    g.inputs = {x};
    g.in = {*xp};
    qparams quantized_output = *yp;
    quantized_output.type = val(out(n)).type;
    set_output(g, out(n), quantized_output);
    std::vector<float> scales(ws->data<float>(), ws->data<float>() + ws->elements());
    if (!requant_scales(g, scales, static_cast<std::size_t>(N))) return std::nullopt;
    return finish(std::move(g), {n}, n);
  }

  bool pool_attrs_ok(int n, int x) const {
    if (val(x).shape.size() != 4 || !only_output(n)) return false;
    for (auto d : nd(n).get_ints("dilations"))
      if (d != 1) return false;
    return nd(n).get_int("storage_order", 0) == 0 && nd(n).get_ints("kernel_shape").size() == 2 &&
           nd(n).get_string("auto_pad", "NOTSET") == "NOTSET";
  }

  std::optional<node_group> maxpool(int n) {
    qgroup g;
    g.o = qgroup::op::maxpool;
    const int v = in(n, 0);
    if (q8_static(v)) {  // MaxPool on int8 / uint8 itself
      if (!pool_attrs_ok(n, v) || !q8_static(out(n))) return std::nullopt;
      g.inputs = {v};
      g.in = {qparams{1.f, 0, val(v).type}};
      g.output = out(n);
      g.out = g.in[0];
      return finish(std::move(g), {n}, n);
    }
    int dq = -1, x = -1;
    qparams xp;
    if (!dq_of_activation(v, dq, x, xp) || !pool_attrs_ok(n, x)) return std::nullopt;
    g.inputs = {x};
    g.in = {xp};
    std::vector<int> nodes{n};
    // Max commutes with the monotonic dequantize / quantize pair only when the parameters match.
    const int q = sole_reader(out(n));
    if (q < 0 || !tail(out(n), g, nodes) || nodes.size() != 2) return std::nullopt;
    if (g.out.scale != xp.scale || g.out.zero_point != xp.zero_point || g.out.type != xp.type) return std::nullopt;
    dq_reads[dq].push_back(n);
    return finish(std::move(g), nodes, n);
  }

  std::optional<node_group> global_avgpool(int n) {
    qgroup g;
    g.o = qgroup::op::global_avgpool;
    int dq = -1, x = -1;
    qparams xp;
    if (!dq_of_activation(in(n, 0), dq, x, xp) || val(x).shape.size() != 4 || !only_output(n)) return std::nullopt;
    g.inputs = {x};
    g.in = {xp};
    std::vector<int> nodes{n};
    if (!tail(out(n), g, nodes)) return std::nullopt;
    const auto pixels = static_cast<std::uint64_t>(val(x).shape[2] * val(x).shape[3]);
    auto s = exact_scale::make({xp.scale}, {g.out.scale}, pixels);
    if (!s || pixels == 0) return std::nullopt;
    g.scales = {*s};
    dq_reads[dq].push_back(n);
    return finish(std::move(g), nodes, n);
  }

  std::optional<node_group> add(int n) {
    qgroup g;
    g.o = qgroup::op::add;
    int dqa = -1, a = -1, dqb = -1, b = -1;
    qparams pa, pb;
    if (!only_output(n) || !dq_of_activation(in(n, 0), dqa, a, pa) || !dq_of_activation(in(n, 1), dqb, b, pb))
      return std::nullopt;
    if (val(a).shape != val(b).shape || val(a).shape != val(out(n)).shape) return std::nullopt;
    g.inputs = {a, b};
    g.in = {pa, pb};
    std::vector<int> nodes{n};
    if (!tail(out(n), g, nodes)) return std::nullopt;
    auto sa = exact_scale::make({pa.scale}, {g.out.scale});
    auto sb = exact_scale::make({pb.scale}, {g.out.scale});
    if (!sa || !sb) return std::nullopt;
    g.scales = {*sa, *sb};
    dq_reads[dqa].push_back(n);
    if (dqb != dqa) dq_reads[dqb].push_back(n);
    return finish(std::move(g), nodes, n);
  }

  std::map<int, std::vector<int>> dq_reads;  // DequantizeLinear node -> matched anchors reading it
};

}  // namespace

std::vector<node_group> match_quantized(const model_view& m, std::vector<bool>& claimed) {
  matcher mt{m, claimed, std::vector<int>(m.values->size(), -1)};
  for (std::size_t i = 0; i < m.node_outputs->size(); ++i)
    for (int v : (*m.node_outputs)[i])
      if (v >= 0) mt.producer[static_cast<std::size_t>(v)] = static_cast<int>(i);
  std::vector<node_group> groups;
  for (std::size_t i = 0; i < m.g->nodes.size(); ++i) {
    const int n = static_cast<int>(i);
    if (claimed[i] || (*m.folded)[i] || !m.g->nodes[i].domain.empty()) continue;
    const std::string& op = m.g->nodes[i].op_type;
    std::optional<node_group> g;
    if (op == "QLinearConv") g = mt.qlinear_conv(n);
    else if (op == "QLinearMatMul") g = mt.qlinear_matmul(n);
    else if (op == "Conv") g = mt.qdq_conv(n);
    else if (op == "Gemm" || op == "MatMul") g = mt.qdq_gemm(n);
    else if (op == "MaxPool") g = mt.maxpool(n);
    else if (op == "GlobalAveragePool") g = mt.global_avgpool(n);
    else if (op == "Add") g = mt.add(n);
    if (!g) continue;
    for (int k : g->nodes) claimed[static_cast<std::size_t>(k)] = true;
    groups.push_back(std::move(*g));
  }
  // A DequantizeLinear that only matched groups read is not needed at run time.
  for (const auto& [dq, readers] : mt.dq_reads) {
    const int v = mt.out(dq);
    if (v < 0 || !mt.val(v).output_indices.empty() || claimed[static_cast<std::size_t>(dq)]) continue;
    bool all = true;
    for (int r : (*m.consumers)[static_cast<std::size_t>(v)])
      all = all && std::find(readers.begin(), readers.end(), r) != readers.end();
    if (!all) continue;
    for (auto& g : groups)
      if (g.anchor == readers[0]) {
        g.nodes.push_back(dq);
        claimed[static_cast<std::size_t>(dq)] = true;
        break;
      }
  }
  return groups;
}

}  // namespace edgert::engine::planning::int8
