#include "engine/interpreter.hpp"

#include <algorithm>
#include <new>
#include <set>
#include <unordered_map>

namespace edgert::engine {

namespace {

std::string domain_label(const std::string& domain) {
  return domain.empty() ? std::string("ai.onnx") : domain;
}

bool has_subgraph(const node& n) {
  for (const auto& [key, a] : n.attributes)
    if (a.type == attribute::kind::graph) return true;
  return false;
}

// "[1, 3, ?, ?]": a declared shape with run-time dimensions shown as '?'.
std::string declared_shape(const shape_t& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i)
    out += (i ? ", " : "") + (shape[i] < 0 ? std::string("?") : std::to_string(shape[i]));
  return out + "]";
}

}  // namespace

result<interpreter> interpreter::create(std::shared_ptr<const graph> g,
                                        const kernel_registry& kernels) {
  if (!g) return fail(errc::invalid_argument, "interpreter::create: no graph");
  interpreter ip;
  ip.graph_ = g;

  std::unordered_map<std::string, int> slots;
  auto new_slot = [&](const std::string& name) -> int {
    auto [it, inserted] = slots.emplace(name, static_cast<int>(slots.size()));
    return inserted ? it->second : -1;
  };
  for (const auto& [name, t] : g->initializers) ip.constants_.emplace_back(new_slot(name), &t);
  for (const auto& in : g->inputs) {
    int s = new_slot(in.name);
    if (s < 0)
      return fail(errc::invalid_argument,
                  "graph input '" + in.name + "' is also an initializer or another input");
    ip.input_slots_.push_back(s);
  }

  std::vector<std::string> unsupported;
  std::set<std::pair<std::string, std::string>> reported;
  for (std::size_t i = 0; i < g->nodes.size(); ++i) {
    const node& n = g->nodes[i];
    step st;
    st.n = &n;
    st.opset = g->opset(n.domain);
    st.kernel = kernels.find(n.domain, n.op_type);

    std::string why;
    if (!st.kernel) why = "";
    else if (has_subgraph(n)) why = " (subgraphs are not supported)";
    else if (st.opset < st.kernel->since_opset)
      why = " (the kernel implements opset " + std::to_string(st.kernel->since_opset) + " and later)";
    if ((!st.kernel || !why.empty()) && reported.emplace(n.domain, n.op_type).second)
      unsupported.push_back("op " + n.op_type + " (domain " + domain_label(n.domain) + ", opset " +
                            std::to_string(st.opset) + ") in node " +
                            (n.name.empty() ? "#" + std::to_string(i) : "'" + n.name + "'") + why);

    for (const auto& name : n.inputs) {
      if (name.empty()) {
        st.inputs.push_back(-1);
        continue;
      }
      auto found = slots.find(name);
      if (found == slots.end())
        return fail(errc::invalid_argument,
                    n.describe() + " uses '" + name +
                        "' before any node, input or initializer defines it");
      st.inputs.push_back(found->second);
    }
    for (const auto& name : n.outputs) {
      if (name.empty()) {
        st.outputs.push_back(-1);
        continue;
      }
      int s = new_slot(name);
      if (s < 0)
        return fail(errc::invalid_argument,
                    n.describe() + " produces '" + name + "', which is already defined");
      st.outputs.push_back(s);
    }
    ip.steps_.push_back(std::move(st));
  }
  if (!unsupported.empty()) {
    std::string message = "unsupported: ";
    for (std::size_t k = 0; k < unsupported.size(); ++k) message += (k ? "; " : "") + unsupported[k];
    return fail(errc::not_implemented, message);
  }

  for (const auto& out : g->outputs) {
    auto found = slots.find(out.name);
    if (found == slots.end())
      return fail(errc::invalid_argument,
                  "graph output '" + out.name + "' is not produced by any node, input or initializer");
    ip.output_slots_.push_back(found->second);
  }
  ip.slot_count_ = slots.size();

  // Each intermediate value is released after the last step that reads it (or right after
  // the step that makes it, if nothing reads it). Graph outputs are kept to the end, and
  // initializers and inputs only drop a shared reference, so they need no special case.
  std::vector<int> last_use(ip.slot_count_, -1);
  for (std::size_t i = 0; i < ip.steps_.size(); ++i) {
    for (int s : ip.steps_[i].outputs)
      if (s >= 0) last_use[static_cast<std::size_t>(s)] = static_cast<int>(i);
    for (int s : ip.steps_[i].inputs)
      if (s >= 0) last_use[static_cast<std::size_t>(s)] = static_cast<int>(i);
  }
  for (int s : ip.output_slots_) last_use[static_cast<std::size_t>(s)] = -1;
  for (std::size_t s = 0; s < last_use.size(); ++s)
    if (last_use[s] >= 0) ip.steps_[static_cast<std::size_t>(last_use[s])].release.push_back(static_cast<int>(s));
  return ip;
}

result<void> interpreter::check_inputs(const std::map<std::string, tensor>& inputs) const {
  const auto& declared = graph_->inputs;
  for (const auto& [name, t] : inputs) {
    bool known = std::any_of(declared.begin(), declared.end(),
                             [&](const value_info& v) { return v.name == name; });
    if (!known) {
      std::string names;
      for (const auto& v : declared) names += (names.empty() ? "'" : ", '") + v.name + "'";
      return fail(errc::invalid_argument, "'" + name + "' is not an input of the model (its inputs are " +
                                              (names.empty() ? std::string("none") : names) + ")");
    }
  }
  for (const auto& v : declared) {
    auto found = inputs.find(v.name);
    if (found == inputs.end())
      return fail(errc::invalid_argument, "missing input '" + v.name + "'");
    const tensor& t = found->second;
    if (t.empty())
      return fail(errc::invalid_argument, "input '" + v.name + "' is an empty tensor");
    if (v.type != dtype::undefined && t.type() != v.type)
      return fail(errc::invalid_argument, "input '" + v.name + "' has type " +
                                              std::string(to_string(t.type())) +
                                              ", the model expects " + std::string(to_string(v.type)));
    if (!v.shape) continue;
    bool matches = v.shape->size() == t.rank();
    for (std::size_t d = 0; matches && d < t.rank(); ++d)
      matches = (*v.shape)[d] < 0 || (*v.shape)[d] == t.shape()[d];
    if (!matches)
      return fail(errc::invalid_argument, "input '" + v.name + "' has shape " + to_string(t.shape()) +
                                              ", the model expects " + declared_shape(*v.shape));
  }
  return {};
}

result<std::map<std::string, tensor>> interpreter::run(
    const std::map<std::string, tensor>& inputs) const {
  auto checked = check_inputs(inputs);
  if (!checked) return checked.error();

  std::vector<tensor> slots(slot_count_);
  for (const auto& [s, t] : constants_) slots[static_cast<std::size_t>(s)] = *t;
  for (std::size_t k = 0; k < input_slots_.size(); ++k)
    slots[static_cast<std::size_t>(input_slots_[k])] = inputs.at(graph_->inputs[k].name);

  for (const auto& st : steps_) {
    kernel_context ctx{*st.n, st.opset, {}, {}};
    ctx.inputs.reserve(st.inputs.size());
    for (int s : st.inputs)
      ctx.inputs.push_back(s < 0 ? nullptr : &slots[static_cast<std::size_t>(s)]);
    ctx.outputs.resize(st.outputs.size());
    result<void> r;
    try {
      r = st.kernel->run(ctx);
    } catch (const std::bad_alloc&) {
      return fail(errc::out_of_memory, st.n->describe() + ": out of memory");
    } catch (const std::exception& e) {
      return fail(errc::internal_error, st.n->describe() + ": the kernel threw: " + e.what());
    } catch (...) {
      return fail(errc::internal_error, st.n->describe() + ": the kernel threw an unknown exception");
    }
    if (!r) return r.error();
    for (std::size_t k = 0; k < st.outputs.size(); ++k) {
      int s = st.outputs[k];
      if (s < 0) continue;
      if (ctx.outputs[k].empty())
        return fail(errc::internal_error,
                    st.n->describe() + ": the kernel did not produce output '" + st.n->outputs[k] + "'");
      slots[static_cast<std::size_t>(s)] = std::move(ctx.outputs[k]);
    }
    for (int s : st.release) slots[static_cast<std::size_t>(s)] = tensor{};
  }

  std::map<std::string, tensor> outputs;
  for (std::size_t k = 0; k < output_slots_.size(); ++k)
    outputs[graph_->outputs[k].name] = slots[static_cast<std::size_t>(output_slots_[k])];
  return outputs;
}

}  // namespace edgert::engine
