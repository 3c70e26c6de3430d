// engine::plan's public functions (engine/plan.hpp) over planning::plan_impl, and the
// convenience executor::run on named tensors.
#include <algorithm>
#include <cstdio>

#include "engine/plan/plan_impl.hpp"

namespace edgert::engine {

using planning::impl_of;

result<std::shared_ptr<const plan>> plan::create(std::shared_ptr<const graph> g, const plan_options& options) {
  return planning::build_plan(std::move(g), options);
}

const std::vector<value_info>& plan::inputs() const { return impl_of(*this).input_infos; }
const std::vector<value_info>& plan::outputs() const { return impl_of(*this).output_infos; }
const plan_cost& plan::cost() const { return impl_of(*this).costs; }
std::size_t plan::arena_bytes() const { return impl_of(*this).arena_size; }
const plan_options& plan::options() const { return impl_of(*this).opts; }

std::string plan::describe() const {
  const auto& p = impl_of(*this);
  std::string out;
  for (const auto& s : p.steps) {
    std::string line = s->label + "  " + s->op + "  " + s->backend;
    // The shape and layout of what the step writes first.
    if (!s->writes.empty() && s->writes[0] >= 0) {
      const auto& b = p.buffers[static_cast<std::size_t>(s->writes[0])];
      const auto& v = p.values[static_cast<std::size_t>(b.value)];
      line += "  " + (v.is_static ? to_string(v.shape) : std::string("[run-time shape]")) + " " +
              b.lay.name(v.shape.size());
    }
    out += line + "\n";
  }
  return out;
}

result<std::unique_ptr<executor>> plan::make_executor() const {
  return planning::make_executor_for(
      std::static_pointer_cast<const planning::plan_impl>(shared_from_this()));
}

result<std::map<std::string, tensor>> executor::run(const std::map<std::string, tensor>& inputs) {
  const plan& p = owner();
  for (const auto& [name, t] : inputs) {
    const bool known = std::any_of(p.inputs().begin(), p.inputs().end(),
                                   [&](const value_info& v) { return v.name == name; });
    if (!known) return fail(errc::invalid_argument, "'" + name + "' is not an input of the plan");
  }
  std::vector<const void*> in_ptrs;
  for (const auto& v : p.inputs()) {
    auto found = inputs.find(v.name);
    if (found == inputs.end()) return fail(errc::invalid_argument, "missing input '" + v.name + "'");
    const tensor& t = found->second;
    if (t.type() != v.type)
      return fail(errc::invalid_argument, "input '" + v.name + "' has type " + std::string(to_string(t.type())) +
                                              ", the plan expects " + std::string(to_string(v.type)));
    if (!v.shape || t.shape() != *v.shape)
      return fail(errc::invalid_argument, "input '" + v.name + "' has shape " + to_string(t.shape()) +
                                              ", the plan expects " + (v.shape ? to_string(*v.shape) : "?"));
    in_ptrs.push_back(t.raw());
  }
  std::vector<tensor> outs;
  std::vector<void*> out_ptrs;
  for (const auto& v : p.outputs()) {
    const bool known = v.shape && std::all_of(v.shape->begin(), v.shape->end(), [](std::int64_t d) { return d >= 0; });
    outs.push_back(known ? tensor(v.type, *v.shape) : tensor{});
    out_ptrs.push_back(known ? outs.back().raw() : nullptr);
  }
  auto r = run(in_ptrs, out_ptrs);
  if (!r) return r.error();
  std::map<std::string, tensor> result;
  for (std::size_t j = 0; j < outs.size(); ++j) {
    tensor t = outs[j].empty() ? run_time_output(j).clone() : outs[j];
    result[p.outputs()[j].name] = t;
  }
  return result;
}

}  // namespace edgert::engine
