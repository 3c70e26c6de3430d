// Layout conversions between two buffers of one float32 value (plain <-> blocked, or
// between two blocked forms), as oneDNN reorder primitives.
#include "engine/plan/onednn/lowering.hpp"

namespace edgert::engine::planning::onednn {

std::unique_ptr<step> make_reorder(int from, int to, const lowering_context& ctx) {
  const buffer& src = ctx.buf(from);
  const buffer& dst = ctx.buf(to);
  const value& v = ctx.val(src.value);
  if (v.type != dtype::f32 || !v.is_static || v.shape.empty()) return nullptr;
  if (src.lay.k == layout::kind::opaque && !src.lay.native) return nullptr;
  if (dst.lay.k == layout::kind::opaque && !dst.lay.native) return nullptr;
  const memory::desc from_desc = desc_of(src.lay, v.shape), to_desc = desc_of(dst.lay, v.shape);
  try {
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::reorder::primitive_desc pd(cpu_engine(), from_desc, cpu_engine(), to_desc, attr);
    auto s = std::make_unique<primitive_step>();
    s->primitive = dnnl::reorder(pd);
    s->args.push_back({DNNL_ARG_FROM, from, from_desc, {}});
    s->args.push_back({DNNL_ARG_TO, to, to_desc, {}});
    s->scratch = pd.scratchpad_desc().get_size();
    s->reads = {from};
    s->writes = {to};
    s->label = v.name;
    s->op = "Reorder(" + src.lay.name(v.shape.size()) + ")";
    s->backend = "onednn";
    return s;
  } catch (const dnnl::error&) {
    return nullptr;
  }
}

}  // namespace edgert::engine::planning::onednn
