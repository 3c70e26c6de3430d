#include "engine/plan/groups.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace edgert::engine::planning {

namespace {

const node& node_at(const model_view& m, int n) { return m.g->nodes[static_cast<std::size_t>(n)]; }
const value& value_at(const model_view& m, int v) { return (*m.values)[static_cast<std::size_t>(v)]; }

int input_value(const model_view& m, int n, std::size_t k) {
  const auto& ins = (*m.node_inputs)[static_cast<std::size_t>(n)];
  return k < ins.size() ? ins[k] : -1;
}

int output_value(const model_view& m, int n) {
  const auto& outs = (*m.node_outputs)[static_cast<std::size_t>(n)];
  return outs.empty() ? -1 : outs[0];
}

bool is_f32_static(const model_view& m, int v) {
  if (v < 0) return false;
  const value& x = value_at(m, v);
  return x.type == dtype::f32 && x.is_static;
}

// Only output 0 of node n is used (other outputs are omitted or read by nobody).
bool only_first_output_used(const model_view& m, int n) {
  const auto& outs = (*m.node_outputs)[static_cast<std::size_t>(n)];
  for (std::size_t k = 1; k < outs.size(); ++k) {
    if (outs[k] < 0) continue;
    const value& x = value_at(m, outs[k]);
    if (x.consumers > 0 || !x.output_indices.empty()) return false;
  }
  return true;
}

// The node that alone reads value v, when v is an intermediate nobody else sees.
int sole_consumer(const model_view& m, int v, const std::vector<bool>& claimed) {
  if (v < 0) return -1;
  const value& x = value_at(m, v);
  if (!x.output_indices.empty() || x.consumers != 1) return -1;
  const auto& readers = (*m.consumers)[static_cast<std::size_t>(v)];
  if (readers.size() != 1) return -1;
  const int n = readers[0];
  if ((*m.folded)[static_cast<std::size_t>(n)] || claimed[static_cast<std::size_t>(n)]) return -1;
  return n;
}

bool is_constant(const model_view& m, int v) { return v >= 0 && value_at(m, v).constant != nullptr; }

std::optional<float> constant_scalar(const model_view& m, int v) {
  if (!is_constant(m, v)) return std::nullopt;
  const tensor& t = *value_at(m, v).constant;
  if (t.type() != dtype::f32 || t.elements() != 1) return std::nullopt;
  return t.data<float>()[0];
}

bool foldable_batch_norm(const model_view& m, int n, int x) {
  const node& bn = node_at(m, n);
  if (bn.op_type != "BatchNormalization" || !bn.domain.empty()) return false;
  if (input_value(m, n, 0) != x || bn.get_int("training_mode", 0) != 0) return false;
  for (std::size_t k = 1; k <= 4; ++k) {
    const int p = input_value(m, n, k);
    if (!is_constant(m, p) || value_at(m, p).constant->type() != dtype::f32) return false;
  }
  return only_first_output_used(m, n) && is_f32_static(m, output_value(m, n));
}

// The value id other than `x` that Add node n adds, when n is a same-shape float Add.
int residual_operand(const model_view& m, int n, int x) {
  const node& add = node_at(m, n);
  if (add.op_type != "Add" || !add.domain.empty() || add.inputs.size() != 2) return -1;
  const int a = input_value(m, n, 0), b = input_value(m, n, 1);
  const int other = a == x ? b : (b == x ? a : -1);
  if (other < 0 || other == x || !is_f32_static(m, other) || is_constant(m, other)) return -1;
  if (value_at(m, other).shape != value_at(m, x).shape) return -1;
  return is_f32_static(m, output_value(m, n)) ? other : -1;
}

// Appends the activations reading `cur` one after another; returns the last value.
int take_activations(const model_view& m, node_group& g, std::vector<activation>& into, int cur,
                     std::vector<bool>& claimed) {
  for (;;) {
    const int n = sole_consumer(m, cur, claimed);
    if (n < 0 || input_value(m, n, 0) != cur) return cur;
    auto act = parse_activation(m, n);
    const int out = output_value(m, n);
    if (!act || !is_f32_static(m, out)) return cur;
    g.nodes.push_back(n);
    claimed[static_cast<std::size_t>(n)] = true;
    into.push_back(*act);
    cur = out;
  }
}

std::string node_label(const graph& g, int n) {
  const node& x = g.nodes[static_cast<std::size_t>(n)];
  return x.name.empty() ? x.op_type + "#" + std::to_string(n) : x.name;
}

}  // namespace

float activation::apply(float x) const {
  switch (k) {
    case kind::relu: return x > 0 ? x : 0.0f;
    case kind::leaky_relu: return x < 0 ? alpha * x : x;
    case kind::clip: return std::min(std::max(x, alpha), beta);
    case kind::sigmoid: return 1.0f / (1.0f + std::exp(-x));
    case kind::tanh: return std::tanh(x);
    case kind::elu: return x < 0 ? alpha * (std::exp(x) - 1.0f) : x;
    case kind::hard_sigmoid: return std::max(0.0f, std::min(1.0f, alpha * x + beta));
    case kind::hard_swish: return x * std::max(0.0f, std::min(1.0f, x / 6.0f + 0.5f));
    case kind::softplus: return x > 20.0f ? x : std::log1p(std::exp(x));
  }
  return x;
}

const char* activation::name() const {
  switch (k) {
    case kind::relu: return "relu";
    case kind::leaky_relu: return "leaky_relu";
    case kind::clip: return "clip";
    case kind::sigmoid: return "sigmoid";
    case kind::tanh: return "tanh";
    case kind::elu: return "elu";
    case kind::hard_sigmoid: return "hard_sigmoid";
    case kind::hard_swish: return "hard_swish";
    case kind::softplus: return "softplus";
  }
  return "?";
}

std::optional<activation> parse_activation(const model_view& m, int n) {
  const node& x = node_at(m, n);
  if (!x.domain.empty() || x.inputs.empty() || !is_f32_static(m, input_value(m, n, 0))) return std::nullopt;
  if (!only_first_output_used(m, n)) return std::nullopt;
  using k = activation::kind;
  const std::string& op = x.op_type;
  if (op == "Relu") return activation{k::relu, 0, 0};
  if (op == "LeakyRelu") return activation{k::leaky_relu, x.get_float("alpha", 0.01f), 0};
  if (op == "Sigmoid") return activation{k::sigmoid, 0, 0};
  if (op == "Tanh") return activation{k::tanh, 0, 0};
  if (op == "Elu") return activation{k::elu, x.get_float("alpha", 1.0f), 0};
  if (op == "HardSigmoid") return activation{k::hard_sigmoid, x.get_float("alpha", 0.2f), x.get_float("beta", 0.5f)};
  if (op == "HardSwish") return activation{k::hard_swish, 0, 0};
  if (op == "Softplus") return activation{k::softplus, 0, 0};
  if (op == "Clip") {
    const float inf = std::numeric_limits<float>::infinity();
    if (m.g->opset("") < 11) return activation{k::clip, x.get_float("min", -inf), x.get_float("max", inf)};
    float lo = -inf, hi = inf;
    for (std::size_t i = 1; i < x.inputs.size() && i <= 2; ++i) {
      if (x.inputs[i].empty()) continue;
      auto bound = constant_scalar(m, input_value(m, n, i));
      if (!bound) return std::nullopt;
      (i == 1 ? lo : hi) = *bound;
    }
    return activation{k::clip, lo, hi};
  }
  return std::nullopt;
}

node_group single(const model_view& m, int n) {
  node_group g;
  g.nodes = {n};
  g.anchor = n;
  g.output = output_value(m, n);
  return g;
}

node_group match_group(const model_view& m, int n, const std::vector<bool>& claimed_in) {
  std::vector<bool> claimed = claimed_in;
  claimed[static_cast<std::size_t>(n)] = true;
  node_group g = single(m, n);
  const node& anchor = node_at(m, n);
  if (!anchor.domain.empty() || !only_first_output_used(m, n)) return g;
  const int out = output_value(m, n);
  if (!is_f32_static(m, out) || !is_f32_static(m, input_value(m, n, 0))) return g;
  int cur = out;

  if (anchor.op_type == "Conv") {
    if (!is_constant(m, input_value(m, n, 1))) return g;
    if (anchor.inputs.size() > 2 && !anchor.inputs[2].empty() && !is_constant(m, input_value(m, n, 2))) return g;
    g.k = node_group::kind::conv;
    const int bn = sole_consumer(m, cur, claimed);
    if (bn >= 0 && foldable_batch_norm(m, bn, cur)) {
      g.nodes.push_back(bn);
      claimed[static_cast<std::size_t>(bn)] = true;
      g.batch_norm = bn;
      cur = output_value(m, bn);
    }
    cur = take_activations(m, g, g.activations, cur, claimed);
    const int add = sole_consumer(m, cur, claimed);
    if (add >= 0) {
      const int other = residual_operand(m, add, cur);
      if (other >= 0) {
        g.nodes.push_back(add);
        claimed[static_cast<std::size_t>(add)] = true;
        g.residual_add = add;
        g.residual = other;
        cur = take_activations(m, g, g.post_activations, output_value(m, add), claimed);
      }
    }
  } else if (anchor.op_type == "Gemm") {
    g.k = node_group::kind::gemm;
    cur = take_activations(m, g, g.activations, cur, claimed);
  } else if (anchor.op_type == "MatMul") {
    g.k = node_group::kind::matmul;
    const int add = sole_consumer(m, cur, claimed);
    if (add >= 0 && node_at(m, add).op_type == "Add" && node_at(m, add).domain.empty() &&
        node_at(m, add).inputs.size() == 2 && is_f32_static(m, output_value(m, add))) {
      const int a = input_value(m, add, 0), b = input_value(m, add, 1);
      const int bias = a == cur ? b : (b == cur ? a : -1);
      const shape_t& out_shape = value_at(m, cur).shape;
      if (bias >= 0 && bias != cur && is_constant(m, bias) && value_at(m, bias).type == dtype::f32 &&
          value_at(m, output_value(m, add)).shape == out_shape && !out_shape.empty()) {
        // A bias broadcasts along the last axis only: [N], [1, N], [1, 1, N], ...
        const shape_t& bs = value_at(m, bias).shape;
        bool row = !bs.empty() && bs.back() == out_shape.back() && bs.size() <= out_shape.size();
        for (std::size_t d = 0; row && d + 1 < bs.size(); ++d) row = bs[d] == 1;
        if (row) {
          g.nodes.push_back(add);
          claimed[static_cast<std::size_t>(add)] = true;
          g.bias = bias;
          cur = output_value(m, add);
        }
      }
    }
    cur = take_activations(m, g, g.activations, cur, claimed);
  } else if (anchor.op_type == "Add" && anchor.inputs.size() == 2) {
    const int a = input_value(m, n, 0), b = input_value(m, n, 1);
    if (!is_f32_static(m, a) || !is_f32_static(m, b) || value_at(m, a).shape != value_at(m, b).shape ||
        value_at(m, a).shape != value_at(m, out).shape)
      return g;
    g.k = node_group::kind::eltwise;
    cur = take_activations(m, g, g.activations, cur, claimed);
  } else {
    return g;
  }
  g.output = cur;
  return g;
}

std::optional<node_group> without_residual(const model_view& m, const node_group& group) {
  if (group.residual_add < 0) return std::nullopt;
  node_group g = group;
  auto cut = std::find(g.nodes.begin(), g.nodes.end(), group.residual_add);
  g.nodes.erase(cut, g.nodes.end());
  g.residual_add = -1;
  g.residual = -1;
  g.post_activations.clear();
  g.output = output_value(m, g.nodes.back());
  return g;
}

std::string node_group::label(const graph& g) const {
  std::string out;
  for (int n : nodes) out += (out.empty() ? "" : "+") + node_label(g, n);
  return out;
}

std::string node_group::ops(const graph& g) const {
  std::string out;
  for (int n : nodes) out += (out.empty() ? "" : "+") + g.nodes[static_cast<std::size_t>(n)].op_type;
  return out;
}

}  // namespace edgert::engine::planning
