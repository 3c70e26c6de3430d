// interpreter: runs a loaded graph node by node with the kernels of a kernel_registry.
//
// create() checks once that every node has a kernel for the model's opset and plans the run
// (value slots, and after which node each intermediate value can be released). run() then
// executes the nodes in their topological order and returns the graph outputs.
//
// Ownership: the interpreter shares ownership of the graph; the registry must outlive it
// (the built-in registry lives for the whole program). Thread-safety: an interpreter is
// immutable after create(), so run() may be called from several threads at once; each call
// keeps its intermediate tensors to itself.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "engine/graph.hpp"
#include "engine/kernel.hpp"

namespace edgert::engine {

class interpreter {
 public:
  /// Fails with not_implemented listing every unsupported op (one entry per op type, naming
  /// the first node that uses it): ops without a kernel, ops with subgraph attributes, and
  /// ops whose kernel implements only newer opsets than the model's.
  static result<interpreter> create(std::shared_ptr<const graph> g,
                                    const kernel_registry& kernels = kernel_registry::builtin());

  /// Runs the graph. Every graph input must be given with the declared type, rank and
  /// static dimensions; names that are not graph inputs are rejected. Kernel failures are
  /// returned unchanged.
  result<std::map<std::string, tensor>> run(const std::map<std::string, tensor>& inputs) const;

  const graph& model() const { return *graph_; }

 private:
  struct step {
    const node* n = nullptr;
    const kernel_entry* kernel = nullptr;
    std::int64_t opset = 0;
    std::vector<int> inputs;   // slot per node input; -1 for an omitted optional input
    std::vector<int> outputs;  // slot per node output; -1 for an unused optional output
    std::vector<int> release;  // slots whose last use is this step
  };

  interpreter() = default;
  result<void> check_inputs(const std::map<std::string, tensor>& inputs) const;

  std::shared_ptr<const graph> graph_;
  std::vector<step> steps_;
  std::size_t slot_count_ = 0;
  std::vector<std::pair<int, const tensor*>> constants_;  // initializer slots
  std::vector<int> input_slots_;                          // per graph input
  std::vector<int> output_slots_;                         // per graph output
};

}  // namespace edgert::engine
