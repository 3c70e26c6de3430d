// Private: which nodes the planner lowers together. After constant folding, the planner
// groups each fusable anchor (Conv, Gemm, MatMul, a same-shape Add) with the nodes that
// only post-process its output: a BatchNormalization with constant statistics, a constant
// bias Add, element-wise activations, and for Conv a residual Add with another activation.
// A backend lowers a whole group into one step or declines; the planner then retries
// without the residual, and finally node by node.
//
// Pure functions over the planner's tables; any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/graph.hpp"
#include "engine/plan/ir.hpp"

namespace edgert::engine::planning {

namespace int8 {
struct qgroup;
}

/// An element-wise activation a fast kernel can apply to its output.
struct activation {
  enum class kind { relu, leaky_relu, clip, sigmoid, tanh, elu, hard_sigmoid, hard_swish, softplus };
  kind k = kind::relu;
  float alpha = 0, beta = 0;  // leaky_relu/elu: alpha; clip: [alpha, beta]; hard_sigmoid: alpha*x+beta

  float apply(float x) const;
  const char* name() const;
};

/// The read-only tables the grouping looks at.
struct model_view {
  const graph* g = nullptr;
  const std::vector<value>* values = nullptr;
  const std::vector<std::vector<int>>* node_inputs = nullptr;   // value id per node input, -1 if omitted
  const std::vector<std::vector<int>>* node_outputs = nullptr;  // value id per node output, -1 if unused
  const std::vector<std::vector<int>>* consumers = nullptr;     // per value: reading nodes (each once)
  const std::vector<bool>* folded = nullptr;                    // per node
};

/// Parses an activation node on float32 (Clip bounds must be constant scalars).
std::optional<activation> parse_activation(const model_view& m, int node);

struct node_group {
  enum class kind { single, conv, gemm, matmul, eltwise, quantized };
  kind k = kind::single;
  std::vector<int> nodes;   // every node of the group in data-flow order; nodes[0] is the anchor
  int anchor = -1;
  int batch_norm = -1;      // conv: the BatchNormalization node folded into it
  int bias = -1;            // matmul: the constant value added as a bias
  std::vector<activation> activations;       // applied to the anchor's result, in order
  int residual_add = -1;    // conv: the Add node summing another activation in
  int residual = -1;        // conv: that other activation's value id
  std::vector<activation> post_activations;  // applied after the residual Add
  int output = -1;          // value id the group produces
  /// quantized: what the int8 backend computes (engine/plan/int8/qgroups.hpp).
  std::shared_ptr<const int8::qgroup> q;

  /// "conv1+bn1+relu1" (node names, or op#index for unnamed nodes).
  std::string label(const graph& g) const;
  /// "Conv+BatchNormalization+Relu".
  std::string ops(const graph& g) const;
};

/// The longest group anchored at `node` (a single-node group when nothing fuses). Nodes
/// already claimed by an earlier group are never included.
node_group match_group(const model_view& m, int node, const std::vector<bool>& claimed);

/// `group` without its residual Add and the activations after it, or nullopt if it has none.
std::optional<node_group> without_residual(const model_view& m, const node_group& group);

/// A single-node group for `node`.
node_group single(const model_view& m, int node);

}  // namespace edgert::engine::planning
