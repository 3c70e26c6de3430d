// The "loops" backend: work that needs no library, written directly on the planned buffers
// (kernels in loops_kernels.cpp). It takes
//  * reshapes (Reshape, Flatten, Squeeze, Unsqueeze, Identity) of plain values: aliases of
//    their input's bytes, no step at all;
//  * MaxPool/AveragePool (2-D) and GlobalAveragePool/GlobalMaxPool on plain, channel-blocked
//    or channels-last buffers, so pooling between oneDNN layers needs no layout conversion
//    (oneDNN 2.6's own max pooling is slow);
//  * same-shape Add groups and single activations, in whatever layout the operands are in,
//    writing in place over an operand that dies there.
#include "engine/kernel.hpp"
#include "engine/kernels/spatial.hpp"
#include "engine/plan/backend.hpp"
#include "engine/plan/loops_kernels.hpp"

namespace edgert::engine::planning {

namespace {

template <class F>
class fn_instance final : public step_instance {
 public:
  explicit fn_instance(const F& f) : f_(f) {}
  result<void> run(run_context& rc) override {
    f_(rc);
    return {};
  }

 private:
  F f_;
};

// A step whose run is a copyable function of the run context.
template <class F>
class fn_step final : public step {
 public:
  explicit fn_step(F f) : f_(std::move(f)) {}
  result<std::unique_ptr<step_instance>> instantiate(const instance_context&) const override {
    return std::unique_ptr<step_instance>(std::make_unique<fn_instance<F>>(f_));
  }

 private:
  F f_;
};

template <class F>
std::unique_ptr<step> make_step(F f, const node_group& g, const graph& model, std::vector<int> reads, std::vector<int> writes) {
  auto s = std::make_unique<fn_step<F>>(std::move(f));
  s->label = g.label(model);
  s->op = g.ops(model);
  s->backend = "loops";
  s->reads = std::move(reads);
  s->writes = std::move(writes);
  return s;
}

float* at(const run_context& rc, int b) { return static_cast<float*>(rc.address[b]); }

bool is_f32_static(const lowering_context& ctx, int v) {
  return v >= 0 && ctx.val(v).type == dtype::f32 && ctx.val(v).is_static;
}

// Only output 0 of the node is read by anyone.
bool only_first_output(const lowering_context& ctx, int node) {
  const auto& outs = ctx.outputs_of(node);
  for (std::size_t k = 1; k < outs.size(); ++k)
    if (outs[k] >= 0 && (ctx.val(outs[k]).consumers > 0 || !ctx.val(outs[k]).output_indices.empty())) return false;
  return !outs.empty() && outs[0] >= 0;
}

// The layout a value is read in: its primary one when the kernels understand it, else plain.
layout readable_layout(const lowering_context& ctx, int v) {
  const layout& l = ctx.primary_layout(v);
  loops::channel_view view;
  if (ctx.val(v).shape.size() >= 3 && loops::view_of(l, ctx.val(v).shape, view)) return l;
  return layout::plain(ctx.val(v).shape, ctx.val(v).type);
}

// The same arrangement for a value of another shape (pooling outputs).
layout same_kind(const layout& l, const shape_t& shape) {
  if (l.k == layout::kind::channel_blocked) return layout::blocked(shape, dtype::f32, l.block);
  if (l.k == layout::kind::channels_last) return layout::channels_last(shape, dtype::f32);
  return layout::plain(shape, dtype::f32);
}

result<bool> lower_alias(const node_group& g, lowering_context& ctx) {
  static const char* ops[] = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity"};
  const node& n = ctx.model().nodes[static_cast<std::size_t>(g.anchor)];
  bool reshape = false;
  for (const char* op : ops) reshape = reshape || n.op_type == op;
  if (!reshape) return false;
  const auto& ins = ctx.inputs_of(g.anchor);
  const auto& outs = ctx.outputs_of(g.anchor);
  if (ins.empty() || ins[0] < 0 || outs.size() != 1 || outs[0] < 0) return false;
  const value& x = ctx.val(ins[0]);
  const value& y = ctx.val(outs[0]);
  if (!x.is_static || !y.is_static || x.type != y.type || element_count(x.shape) != element_count(y.shape)) return false;
  if (!y.output_indices.empty() || x.buffers.empty()) return false;
  auto source = ctx.buffer_in(ins[0], layout::plain(x.shape, x.type));
  if (!source) return source.error();
  ctx.define_alias(outs[0], *source);
  return true;
}

result<bool> lower_pool(const node_group& g, lowering_context& ctx) {
  const graph& model = ctx.model();
  const node& n = model.nodes[static_cast<std::size_t>(g.anchor)];
  const bool max = n.op_type == "MaxPool";
  const auto& ins = ctx.inputs_of(g.anchor);
  if (ins.empty() || !is_f32_static(ctx, ins[0]) || !only_first_output(ctx, g.anchor)) return false;
  const int out = ctx.outputs_of(g.anchor)[0];
  if (!is_f32_static(ctx, out) || ctx.val(ins[0]).shape.size() != 4) return false;
  const shape_t& xs = ctx.val(ins[0]).shape;
  const shape_t& ys = ctx.val(out).shape;
  kernel_context kctx{n, model.opset(n.domain), {}, {}};
  spatial::window_options opt;
  opt.ceil_mode = n.get_int("ceil_mode", 0) != 0;
  opt.allow_dilations = max;
  auto geo = spatial::resolve(kctx, {xs[2], xs[3]}, n.get_ints("kernel_shape"), opt);
  if (!geo || ys != shape_t{xs[0], xs[1], geo->out[0], geo->out[1]}) return false;
  loops::pool_geometry pg;
  pg.max = max;
  pg.in_h = xs[2], pg.in_w = xs[3], pg.out_h = ys[2], pg.out_w = ys[3];
  pg.kernel_h = geo->kernel[0], pg.kernel_w = geo->kernel[1];
  pg.stride_h = geo->strides[0], pg.stride_w = geo->strides[1];
  pg.dilation_h = geo->dilations[0], pg.dilation_w = geo->dilations[1];
  pg.pad_top = geo->pad_begin[0], pg.pad_left = geo->pad_begin[1];
  pg.pad_bottom = geo->pad_end[0], pg.pad_right = geo->pad_end[1];
  pg.count_include_pad = n.get_int("count_include_pad", 0) != 0;

  const layout in_layout = readable_layout(ctx, ins[0]);
  const layout out_layout = same_kind(in_layout, ys);
  loops::channel_view in_view, out_view;
  loops::view_of(in_layout, xs, in_view);
  loops::view_of(out_layout, ys, out_view);
  auto src = ctx.buffer_in(ins[0], in_layout);
  if (!src) return src.error();
  const int dst = ctx.define(out, out_layout);
  const std::int64_t batch = xs[0];
  const int s = *src;
  ctx.emit(make_step([=](run_context& rc) { loops::pool2d(at(rc, s), in_view, at(rc, dst), out_view, batch, pg); }, g,
                     model, {s}, {dst}));
  return true;
}

result<bool> lower_global_pool(const node_group& g, lowering_context& ctx) {
  const node& n = ctx.model().nodes[static_cast<std::size_t>(g.anchor)];
  const auto& ins = ctx.inputs_of(g.anchor);
  if (ins.empty() || !is_f32_static(ctx, ins[0]) || !only_first_output(ctx, g.anchor)) return false;
  const int out = ctx.outputs_of(g.anchor)[0];
  const shape_t& xs = ctx.val(ins[0]).shape;
  if (!is_f32_static(ctx, out) || xs.size() < 3) return false;
  const layout in_layout = readable_layout(ctx, ins[0]);
  loops::channel_view view;
  loops::view_of(in_layout, xs, view);
  auto src = ctx.buffer_in(ins[0], in_layout);
  if (!src) return src.error();
  const int dst = ctx.define(out, layout::plain(ctx.val(out).shape, dtype::f32));
  const bool max = n.op_type == "GlobalMaxPool";
  const std::int64_t batch = xs[0];
  const int s = *src;
  ctx.emit(make_step([=](run_context& rc) { loops::global_pool(at(rc, s), view, at(rc, dst), batch, max); }, g,
                     ctx.model(), {s}, {dst}));
  return true;
}

// A usable common layout for two operands: equal layouts, else the first non-plain one the
// kernels understand (the other operand is converted), else plain.
layout common_layout(const lowering_context& ctx, int a, int b) {
  const layout& la = ctx.primary_layout(a);
  const layout& lb = ctx.primary_layout(b);
  if (la.key == lb.key) return la;
  for (const layout* l : {&la, &lb})
    if (l->k == layout::kind::channel_blocked || l->k == layout::kind::channels_last) return *l;
  return layout::plain(ctx.val(a).shape, dtype::f32);
}

result<bool> lower_add(const node_group& g, lowering_context& ctx) {
  const auto& ins = ctx.inputs_of(g.anchor);
  const int a = ins[0], b = ins[1];
  const layout l = common_layout(ctx, a, b);
  auto ba = ctx.buffer_in(a, l);
  if (!ba) return ba.error();
  auto bb = ctx.buffer_in(b, l);
  if (!bb) return bb.error();
  int dst;
  if (a != b && ctx.can_overwrite(a, *ba, g.anchor)) dst = ctx.define_alias(g.output, *ba);
  else if (a != b && ctx.can_overwrite(b, *bb, g.anchor)) dst = ctx.define_alias(g.output, *bb);
  else dst = ctx.define(g.output, l);
  const std::size_t count = l.bytes / sizeof(float);
  const std::vector<activation> acts = g.activations;
  const int x = *ba, y = *bb;
  ctx.emit(make_step([=](run_context& rc) { loops::add(at(rc, x), at(rc, y), at(rc, dst), count, acts); }, g,
                     ctx.model(), {x, y}, {dst}));
  return true;
}

result<bool> lower_activation(const node_group& g, lowering_context& ctx) {
  auto act = parse_activation(ctx.view(), g.anchor);
  const int in = ctx.inputs_of(g.anchor)[0];
  const int out = ctx.outputs_of(g.anchor)[0];
  if (!act || !is_f32_static(ctx, out) || ctx.val(in).buffers.empty()) return false;
  const layout l = ctx.primary_layout(in);
  auto src = ctx.buffer_in(in, l);
  if (!src) return src.error();
  const int dst = ctx.can_overwrite(in, *src, g.anchor) ? ctx.define_alias(out, *src) : ctx.define(out, l);
  const std::size_t count = l.bytes / sizeof(float);
  const std::vector<activation> acts{*act};
  const int s = *src;
  ctx.emit(make_step([=](run_context& rc) { loops::activate(at(rc, s), at(rc, dst), count, acts); }, g, ctx.model(),
                     {s}, {dst}));
  return true;
}

class loops_backend final : public backend {
 public:
  const char* name() const override { return "loops"; }

  result<bool> lower(const node_group& g, lowering_context& ctx) override {
    const node& n = ctx.model().nodes[static_cast<std::size_t>(g.anchor)];
    if (!n.domain.empty()) return false;
    if (g.k == node_group::kind::eltwise) return lower_add(g, ctx);
    if (g.nodes.size() != 1) return false;
    if (n.op_type == "MaxPool" || n.op_type == "AveragePool") return lower_pool(g, ctx);
    if (n.op_type == "GlobalAveragePool" || n.op_type == "GlobalMaxPool") return lower_global_pool(g, ctx);
    if (auto r = lower_alias(g, ctx); !r || *r) return r;
    return lower_activation(g, ctx);
  }
};

}  // namespace

std::unique_ptr<backend> make_loops_backend() { return std::make_unique<loops_backend>(); }

}  // namespace edgert::engine::planning
