#include "engine/plan/fold.hpp"

#include <algorithm>
#include <exception>
#include <set>

#include "engine/kernel.hpp"

namespace edgert::engine::planning {

namespace {

bool is_random(const node& n) {
  static const std::set<std::string> random_ops{"RandomNormal", "RandomUniform", "RandomNormalLike",
                                                "RandomUniformLike", "Bernoulli", "Multinomial"};
  return n.domain.empty() && random_ops.count(n.op_type) != 0;
}

// Shape (with opset-15 start/end) or Size of a value whose shape is static.
bool fold_shape_query(const node& n, const value& x, tensor& out) {
  if (!n.domain.empty() || !x.is_static) return false;
  if (n.op_type == "Size") {
    out = tensor(dtype::i64, {});
    out.data<std::int64_t>()[0] = element_count(x.shape);
    return true;
  }
  if (n.op_type != "Shape") return false;
  const auto rank = static_cast<std::int64_t>(x.shape.size());
  auto clamp = [rank](std::int64_t i) { return std::min(std::max(i < 0 ? i + rank : i, std::int64_t{0}), rank); };
  const std::int64_t start = clamp(n.get_int("start", 0));
  const std::int64_t end = clamp(n.get_int("end", rank));
  const std::int64_t count = std::max<std::int64_t>(end - start, 0);
  out = tensor(dtype::i64, {count});
  for (std::int64_t i = 0; i < count; ++i) out.data<std::int64_t>()[i] = x.shape[static_cast<std::size_t>(start + i)];
  return true;
}

// Runs node n's reference kernel on constant inputs; false when it fails.
bool run_kernel(const graph& g, const node& n, const std::vector<const tensor*>& inputs, std::vector<tensor>& outputs) {
  const kernel_entry* k = kernel_registry::builtin().find(n.domain, n.op_type);
  if (!k) return false;
  kernel_context ctx{n, g.opset(n.domain), inputs, {}};
  ctx.outputs.resize(n.outputs.size());
  try {
    if (!k->run(ctx)) return false;
  } catch (const std::exception&) {
    return false;
  }
  outputs = std::move(ctx.outputs);
  return true;
}

}  // namespace

std::size_t fold_constants(const fold_tables& t) {
  const graph& g = *t.g;
  std::vector<value>& values = *t.values;
  std::size_t count = 0;
  for (std::size_t i = 0; i < g.nodes.size(); ++i) {
    const node& n = g.nodes[i];
    if (is_random(n)) continue;
    const auto& ins = (*t.node_inputs)[i];
    const auto& outs = (*t.node_outputs)[i];
    std::vector<tensor> produced;
    if ((n.op_type == "Shape" || n.op_type == "Size") && n.domain.empty() && ins.size() == 1 && ins[0] >= 0 &&
        outs.size() == 1) {
      produced.resize(1);
      if (!fold_shape_query(n, values[static_cast<std::size_t>(ins[0])], produced[0])) continue;
    } else {
      std::vector<const tensor*> args;
      bool all_constant = true;
      for (int v : ins) {
        if (v < 0) {
          args.push_back(nullptr);
          continue;
        }
        const tensor* c = values[static_cast<std::size_t>(v)].constant;
        if (!c) {
          all_constant = false;
          break;
        }
        args.push_back(c);
      }
      if (!all_constant || !run_kernel(g, n, args, produced)) continue;
    }
    bool complete = produced.size() == outs.size();
    for (std::size_t k = 0; complete && k < outs.size(); ++k)
      complete = outs[k] < 0 || !produced[k].empty();
    if (!complete) continue;
    for (std::size_t k = 0; k < outs.size(); ++k) {
      if (outs[k] < 0) continue;
      value& v = values[static_cast<std::size_t>(outs[k])];
      tensor& stored = (*t.constants)[v.name];
      stored = std::move(produced[k]);
      v.constant = &stored;
      v.type = stored.type();
      v.shape = stored.shape();
      v.is_static = true;
    }
    (*t.folded)[i] = true;
    ++count;
  }
  return count;
}

}  // namespace edgert::engine::planning
