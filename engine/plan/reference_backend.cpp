// The reference backend: runs any single node with its kernel from
// kernel_registry::builtin(), on plain buffers. The kernel allocates its outputs as it does
// in the interpreter; the step copies them into their planned buffers (arena or caller
// memory) or, for values whose shape is known only at run time, keeps the tensor.
#include <cstring>
#include <exception>
#include <new>

#include "engine/kernel.hpp"
#include "engine/plan/backend.hpp"

namespace edgert::engine::planning {

namespace {

struct operand {
  int value = -1;   // -1: omitted optional input, or an output nobody reads
  int buffer = -1;
  dtype type = dtype::undefined;
  shape_t shape;    // planned shape (static values)
  bool dynamic = false;
  const tensor* constant = nullptr;
};

class reference_instance final : public step_instance {
 public:
  reference_instance(const node& n, std::int64_t opset, const kernel_entry& k, std::vector<operand> ins,
                     std::vector<operand> outs, const instance_context& ctx)
      : node_(n), opset_(opset), kernel_(k), ins_(std::move(ins)), outs_(std::move(outs)) {
    // Inputs whose address is fixed for the executor are wrapped once here.
    wrapped_.resize(ins_.size());
    fixed_.assign(ins_.size(), false);
    for (std::size_t k = 0; k < ins_.size(); ++k) {
      const operand& o = ins_[k];
      if (o.buffer < 0 || o.dynamic || o.constant) continue;
      void* address = (*ctx.fixed)[static_cast<std::size_t>(o.buffer)];
      if (!address) continue;
      wrapped_[k] = tensor::wrap(o.type, o.shape, address);
      fixed_[k] = true;
    }
  }

  result<void> run(run_context& rc) override {
    kernel_context ctx{node_, opset_, {}, {}};
    ctx.inputs.resize(ins_.size(), nullptr);
    std::vector<tensor> bound(ins_.size());
    for (std::size_t k = 0; k < ins_.size(); ++k) {
      const operand& o = ins_[k];
      if (o.buffer < 0) continue;
      if (o.constant) {
        ctx.inputs[k] = o.constant;
      } else if (o.dynamic) {
        ctx.inputs[k] = &(*rc.dynamic)[static_cast<std::size_t>(o.value)];
      } else if (fixed_[k]) {
        ctx.inputs[k] = &wrapped_[k];
      } else {
        bound[k] = tensor::wrap(o.type, o.shape, rc.address[o.buffer]);
        ctx.inputs[k] = &bound[k];
      }
    }
    ctx.outputs.resize(node_.outputs.size());
    result<void> r;
    try {
      r = kernel_.run(ctx);
    } catch (const std::bad_alloc&) {
      return fail(errc::out_of_memory, node_.describe() + ": out of memory");
    } catch (const std::exception& e) {
      return fail(errc::internal_error, node_.describe() + ": the kernel threw: " + e.what());
    }
    if (!r) return r;
    for (std::size_t k = 0; k < outs_.size() && k < ctx.outputs.size(); ++k) {
      const operand& o = outs_[k];
      if (o.buffer < 0) continue;
      tensor& t = ctx.outputs[k];
      if (t.empty())
        return fail(errc::internal_error, node_.describe() + ": the kernel did not produce output '" +
                                              node_.outputs[k] + "'");
      if (o.dynamic) {
        (*rc.dynamic)[static_cast<std::size_t>(o.value)] = std::move(t);
        continue;
      }
      if (t.type() != o.type || t.shape() != o.shape)
        return fail(errc::internal_error, node_.describe() + ": output '" + node_.outputs[k] + "' came out as " +
                                              std::string(to_string(t.type())) + " " + to_string(t.shape()) +
                                              ", planned as " + std::string(to_string(o.type)) + " " +
                                              to_string(o.shape));
      if (t.bytes()) std::memcpy(rc.address[o.buffer], t.raw(), t.bytes());
    }
    return {};
  }

 private:
  const node& node_;
  std::int64_t opset_;
  const kernel_entry& kernel_;
  std::vector<operand> ins_, outs_;
  std::vector<tensor> wrapped_;
  std::vector<bool> fixed_;
};

class reference_step final : public step {
 public:
  const node* n = nullptr;
  std::int64_t opset = 0;
  const kernel_entry* kernel = nullptr;
  std::vector<operand> ins, outs;

  result<std::unique_ptr<step_instance>> instantiate(const instance_context& ctx) const override {
    return std::unique_ptr<step_instance>(std::make_unique<reference_instance>(*n, opset, *kernel, ins, outs, ctx));
  }
};

operand describe_operand(const lowering_context& ctx, int v, int b) {
  operand o;
  o.value = v;
  o.buffer = b;
  if (v < 0) return o;
  const value& x = ctx.val(v);
  o.type = x.type;
  o.shape = x.shape;
  o.dynamic = !x.is_static;
  if (b >= 0 && ctx.buf(b).where == home::constant) o.constant = x.constant;
  return o;
}

class reference_backend final : public backend {
 public:
  const char* name() const override { return "reference"; }

  result<bool> lower(const node_group& group, lowering_context& ctx) override {
    if (group.nodes.size() != 1) return false;
    const int index = group.nodes[0];
    const node& n = ctx.model().nodes[static_cast<std::size_t>(index)];
    const kernel_entry* k = kernel_registry::builtin().find(n.domain, n.op_type);
    if (!k) return fail(errc::not_implemented, n.describe() + ": no reference kernel");
    auto s = std::make_unique<reference_step>();
    s->n = &n;
    s->opset = ctx.model().opset(n.domain);
    s->kernel = k;
    for (int v : ctx.inputs_of(index)) {
      int b = -1;
      if (v >= 0) {
        auto got = ctx.buffer_in(v, layout::plain(ctx.val(v).shape, ctx.val(v).type));
        if (!got) return got.error();
        b = *got;
        s->reads.push_back(b);
      }
      s->ins.push_back(describe_operand(ctx, v, b));
    }
    for (int v : ctx.outputs_of(index)) {
      int b = -1;
      // Outputs nobody reads are computed by the kernel and dropped.
      if (v >= 0 && (ctx.val(v).consumers > 0 || !ctx.val(v).output_indices.empty())) {
        b = ctx.define(v, layout::plain(ctx.val(v).shape, ctx.val(v).type));
        s->writes.push_back(b);
      }
      s->outs.push_back(describe_operand(ctx, b >= 0 ? v : -1, b));
    }
    s->label = n.name.empty() ? n.op_type + "#" + std::to_string(index) : n.name;
    s->op = n.op_type;
    s->backend = "reference";
    ctx.emit(std::move(s));
    return true;
  }
};

}  // namespace

std::unique_ptr<backend> make_reference_backend() { return std::make_unique<reference_backend>(); }

}  // namespace edgert::engine::planning
