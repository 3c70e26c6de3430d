#include "engine/plan/onednn/common.hpp"

#include <cfloat>
#include <cstring>

namespace edgert::engine::planning::onednn {

namespace {

memory::dims dims_of(const shape_t& shape) { return memory::dims(shape.begin(), shape.end()); }

// nCw8c, nChw8c, nCdhw8c and their 16c forms.
bool blocked_tag(std::size_t rank, int block, memory::format_tag& tag) {
  using t = memory::format_tag;
  if (block == 8) {
    if (rank == 3) tag = t::nCw8c;
    else if (rank == 4) tag = t::nChw8c;
    else if (rank == 5) tag = t::nCdhw8c;
    else return false;
    return true;
  }
  if (block == 16) {
    if (rank == 3) tag = t::nCw16c;
    else if (rank == 4) tag = t::nChw16c;
    else if (rank == 5) tag = t::nCdhw16c;
    else return false;
    return true;
  }
  return false;
}

bool channels_last_tag(std::size_t rank, memory::format_tag& tag) {
  using t = memory::format_tag;
  if (rank == 3) tag = t::nwc;
  else if (rank == 4) tag = t::nhwc;
  else if (rank == 5) tag = t::ndhwc;
  else return false;
  return true;
}

// A stable text form of a descriptor, for telling opaque layouts apart.
std::string key_of(const memory::desc& d) {
  const dnnl_memory_desc_t& c = d.data;
  std::string k = "dnnl:" + std::to_string(c.ndims) + ":" + std::to_string(static_cast<int>(c.format_kind));
  for (int i = 0; i < c.ndims; ++i) k += ":" + std::to_string(c.padded_dims[i]);
  if (c.format_kind == dnnl_blocked) {
    const dnnl_blocking_desc_t& b = c.format_desc.blocking;
    for (int i = 0; i < c.ndims; ++i) k += "s" + std::to_string(b.strides[i]);
    for (int i = 0; i < b.inner_nblks; ++i) k += "b" + std::to_string(b.inner_idxs[i]) + "x" + std::to_string(b.inner_blks[i]);
  }
  return k;
}

class primitive_instance final : public step_instance {
 public:
  primitive_instance(const primitive_step& s, const instance_context& ctx) : prim_(s.primitive), stream_(cpu_engine()) {
    memories_.reserve(s.args.size() + 1);
    for (const argument& a : s.args) {
      if (a.buffer < 0) {
        memories_.push_back(a.constant);
      } else {
        void* address = (*ctx.fixed)[static_cast<std::size_t>(a.buffer)];
        memories_.emplace_back(a.desc, cpu_engine(), address ? address : DNNL_MEMORY_NONE);
        if (!address) per_run_.emplace_back(memories_.size() - 1, a.buffer);
      }
      args_.push_back({a.arg, memories_.back().get()});
    }
    if (s.scratch > 0) {
      memories_.emplace_back(memory::desc({static_cast<memory::dim>(s.scratch)}, memory::data_type::u8, memory::format_tag::a),
                             cpu_engine(), ctx.scratch);
      args_.push_back({DNNL_ARG_SCRATCHPAD, memories_.back().get()});
    }
  }

  result<void> run(run_context& rc) override {
    for (const auto& [index, buffer] : per_run_)
      if (dnnl_memory_set_data_handle(memories_[index].get(), rc.address[buffer]) != dnnl_success)
        return fail(errc::internal_error, "oneDNN refused a buffer address");
    const dnnl_status_t status =
        dnnl_primitive_execute(prim_.get(), stream_.get(), static_cast<int>(args_.size()), args_.data());
    if (status != dnnl_success)
      return fail(errc::internal_error, "oneDNN primitive failed with status " + std::to_string(static_cast<int>(status)));
    return {};
  }

 private:
  dnnl::primitive prim_;
  dnnl::stream stream_;
  std::vector<memory> memories_;
  std::vector<dnnl_exec_arg_t> args_;
  std::vector<std::pair<std::size_t, int>> per_run_;  // memory index, buffer bound at each run
};

}  // namespace

const dnnl::engine& cpu_engine() {
  static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

int preferred_block() {
  static const int block = [] {
    const auto isa = static_cast<unsigned>(dnnl_get_effective_cpu_isa());
    const auto avx512 = static_cast<unsigned>(dnnl_cpu_isa_avx512_core);
    return (isa & avx512) == avx512 ? 16 : 8;
  }();
  return block;
}

memory::desc plain_desc(const shape_t& shape) {
  memory::dims strides(shape.size(), 1);
  for (std::size_t d = shape.size(); d-- > 1;) strides[d - 1] = strides[d] * shape[d];
  return memory::desc(dims_of(shape), memory::data_type::f32, strides);
}

memory::desc desc_of(const layout& l, const shape_t& shape) {
  if (l.k == layout::kind::channel_blocked) {
    memory::format_tag tag;
    if (blocked_tag(shape.size(), l.block, tag)) return memory::desc(dims_of(shape), memory::data_type::f32, tag);
  }
  if (l.k == layout::kind::channels_last) {
    memory::format_tag tag;
    if (channels_last_tag(shape.size(), tag)) return memory::desc(dims_of(shape), memory::data_type::f32, tag);
  }
  if (l.k == layout::kind::opaque && l.native) return *static_cast<const memory::desc*>(l.native.get());
  return plain_desc(shape);
}

layout layout_of(const memory::desc& d, const shape_t& shape) {
  if (d == plain_desc(shape)) return layout::plain(shape, dtype::f32);
  for (int block : {8, 16}) {
    memory::format_tag tag;
    if (blocked_tag(shape.size(), block, tag) && d == memory::desc(dims_of(shape), memory::data_type::f32, tag))
      return layout::blocked(shape, dtype::f32, block);
  }
  memory::format_tag last;
  if (channels_last_tag(shape.size(), last) && d == memory::desc(dims_of(shape), memory::data_type::f32, last))
    return layout::channels_last(shape, dtype::f32);
  layout l;
  l.k = layout::kind::opaque;
  l.native = std::make_shared<const memory::desc>(d);
  l.key = key_of(d);
  l.bytes = d.get_size();
  return l;
}

void append_activations(dnnl::post_ops& ops, const std::vector<activation>& acts) {
  using k = activation::kind;
  using a = dnnl::algorithm;
  auto finite = [](float v) { return v > FLT_MAX ? FLT_MAX : (v < -FLT_MAX ? -FLT_MAX : v); };
  for (const activation& act : acts) {
    switch (act.k) {
      case k::relu: ops.append_eltwise(1.0f, a::eltwise_relu, 0.0f, 0.0f); break;
      case k::leaky_relu: ops.append_eltwise(1.0f, a::eltwise_relu, act.alpha, 0.0f); break;
      case k::clip: ops.append_eltwise(1.0f, a::eltwise_clip, finite(act.alpha), finite(act.beta)); break;
      case k::sigmoid: ops.append_eltwise(1.0f, a::eltwise_logistic, 0.0f, 0.0f); break;
      case k::tanh: ops.append_eltwise(1.0f, a::eltwise_tanh, 0.0f, 0.0f); break;
      case k::elu: ops.append_eltwise(1.0f, a::eltwise_elu, act.alpha, 0.0f); break;
      case k::hard_sigmoid:
        ops.append_eltwise(1.0f, a::eltwise_linear, act.alpha, act.beta);
        ops.append_eltwise(1.0f, a::eltwise_clip, 0.0f, 1.0f);
        break;
      case k::hard_swish: ops.append_eltwise(1.0f, a::eltwise_hardswish, 0.0f, 0.0f); break;
      case k::softplus: ops.append_eltwise(1.0f, a::eltwise_soft_relu, 0.0f, 0.0f); break;
    }
  }
}

std::string implementation(const dnnl::primitive_desc_base& pd) {
  const char* info = pd.impl_info_str();
  return info ? info : "";
}

bool is_reference_implementation(const dnnl::primitive_desc_base& pd) {
  return implementation(pd).rfind("ref", 0) == 0;
}

result<std::unique_ptr<step_instance>> primitive_step::instantiate(const instance_context& ctx) const {
  try {
    return std::unique_ptr<step_instance>(std::make_unique<primitive_instance>(*this, ctx));
  } catch (const dnnl::error& e) {
    return fail(errc::internal_error, label + ": oneDNN: " + e.what());
  }
}

memory make_memory(const memory::desc& d, const std::vector<float>& values) {
  memory m(d, cpu_engine());
  std::memcpy(m.get_data_handle(), values.data(), std::min(d.get_size(), values.size() * sizeof(float)));
  return m;
}

memory reorder_to(const memory& from, const memory::desc& to) {
  if (from.get_desc() == to) return from;
  memory m(to, cpu_engine());
  dnnl::stream s(cpu_engine());
  dnnl::reorder(from, m).execute(s, const_cast<memory&>(from), m);
  s.wait();
  return m;
}

}  // namespace edgert::engine::planning::onednn
