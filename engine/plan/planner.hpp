// Private: builds a plan_impl from a graph (the work behind plan::create).
//
// Order of work: value table (initializers, inputs, node outputs with their inferred static
// shapes) -> constant folding -> grouping of fusable nodes -> lowering of each group, in
// graph order, by the first backend that takes it (conversions between layouts inserted on
// demand) -> graph outputs bound to the caller's buffers -> buffer lifetimes and arena
// offsets -> cost counts.
//
// A planner lives for one plan::create call on one thread.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/plan/backend.hpp"
#include "engine/plan/plan_impl.hpp"

namespace edgert::engine::planning {

class planner final : public lowering_context {
 public:
  planner(std::shared_ptr<const graph> g, const plan_options& options);
  result<std::shared_ptr<const plan>> build();

  const graph& model() const override { return *p_->model; }
  const plan_options& options() const override { return p_->opts; }
  const model_view& view() const override { return view_; }
  const value& val(int id) const override { return p_->values[static_cast<std::size_t>(id)]; }
  const buffer& buf(int id) const override { return p_->buffers[static_cast<std::size_t>(id)]; }
  const std::vector<int>& inputs_of(int node) const override { return node_inputs_[static_cast<std::size_t>(node)]; }
  const std::vector<int>& outputs_of(int node) const override { return node_outputs_[static_cast<std::size_t>(node)]; }
  const layout& primary_layout(int value) const override;
  result<int> buffer_in(int value, const layout& l) override;
  int define(int value, const layout& l) override;
  int define_alias(int value, int source) override;
  int define_output_slot(int value, int index) override;
  bool can_overwrite(int value, int b, int reader) const override;
  bool dies_at(int value, int reader) const override;
  void emit(std::unique_ptr<step> s) override;

 private:
  result<void> build_values();
  void count_consumers();
  result<void> lower_all();
  result<void> lower_group(const node_group& g);
  result<bool> offer(const node_group& g);
  result<void> bind_outputs();
  void place_buffers();
  void count_cost();
  int new_buffer(int value, const layout& l);
  int root_of(int b) const;

  std::shared_ptr<plan_impl> p_;
  std::vector<std::unique_ptr<backend>> backends_;
  std::unordered_map<std::string, int> ids_;
  std::vector<std::vector<int>> node_inputs_, node_outputs_, consumers_;
  std::vector<bool> folded_, claimed_, lowered_, output_bound_;
  model_view view_;
};

}  // namespace edgert::engine::planning
