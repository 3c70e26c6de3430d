// Private: constant folding for the planner. A node whose inputs are all constants
// (initializers or values folded before it) runs once, at plan time, with the reference
// kernels; Shape and Size of a value with a static shape fold without running anything.
// Random-number ops never fold. A node whose kernel fails is left for run time, where it
// fails exactly as it would in the interpreter.
//
// Runs on the planning thread only.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/graph.hpp"
#include "engine/plan/ir.hpp"

namespace edgert::engine::planning {

struct fold_tables {
  const graph* g = nullptr;
  std::vector<value>* values = nullptr;
  const std::vector<std::vector<int>>* node_inputs = nullptr;   // value id per node input (-1: omitted)
  const std::vector<std::vector<int>>* node_outputs = nullptr;  // value id per node output (-1: unused)
  std::vector<bool>* folded = nullptr;                          // per node, set for folded nodes
  std::map<std::string, tensor>* constants = nullptr;           // receives the folded values
};

/// Folds what it can in graph order; returns the number of nodes folded.
std::size_t fold_constants(const fold_tables& t);

}  // namespace edgert::engine::planning
