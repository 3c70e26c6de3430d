// Private: the data of a built plan (engine/plan.hpp) and the executor that runs it.
//
// Ownership: plan_impl owns everything the planner made: folded constants, the value and
// buffer tables, the steps (and through them reordered weights and compiled primitives).
// It shares the graph, whose initializers the constants point into. Immutable after
// create(); executors share it through shared_ptr.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/plan.hpp"
#include "engine/plan/ir.hpp"

namespace edgert::engine::planning {

class plan_impl final : public plan {
 public:
  plan_impl() = default;

  std::shared_ptr<const graph> model;
  plan_options opts;
  std::map<std::string, tensor> folded;  // values computed by constant folding
  std::vector<value> values;
  std::vector<buffer> buffers;
  std::vector<std::unique_ptr<step>> steps;
  std::vector<value_info> input_infos, output_infos;
  std::vector<int> input_values, output_values;  // value id per graph input / output
  plan_cost costs;
  std::size_t arena_size = 0;
  std::size_t scratch_size = 0;
  /// OpenMP threads the plan's kernels are made and run with: opts.threads, or 1 for models
  /// too small to gain from a second thread (waking OpenMP workers costs more, and stalls a
  /// run for a scheduler time slice when the other cores are busy).
  int compute_threads = 1;
};

inline const plan_impl& impl_of(const plan& p) { return static_cast<const plan_impl&>(p); }

/// Creates an executor for a plan (engine/plan/executor.cpp).
result<std::unique_ptr<executor>> make_executor_for(std::shared_ptr<const plan_impl> p);

/// Builds the plan (engine/plan/planner.cpp).
result<std::shared_ptr<const plan>> build_plan(std::shared_ptr<const graph> g, const plan_options& options);

}  // namespace edgert::engine::planning
