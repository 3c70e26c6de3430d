// Private: recognising quantized computations at plan time.
//
// match_quantized() finds, in graph order, the groups the int8 backend runs as integer
// kernels: QLinearConv, QLinearMatMul, MaxPool on int8/uint8, and QDQ groups
// (DequantizeLinear -> Conv / Gemm / MatMul / Add / MaxPool / GlobalAveragePool
// [-> Relu | Clip] -> QuantizeLinear) with per-tensor activations, per-tensor or per-channel
// weights and int32 biases. A DequantizeLinear whose every reader is such a group is taken
// into the first of them and never runs. Every check the backend needs is made here, so the
// backend takes each matched group.
//
// Runs on the planning thread; the qgroup descriptions are immutable afterwards and owned by
// the groups (shared_ptr) that the planner hands to the backend.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/plan/groups.hpp"
#include "engine/plan/int8/exact_scale.hpp"

namespace edgert::engine::planning::int8 {

/// Quantization of one activation tensor: real = (q - zero_point) * scale.
struct qparams {
  float scale = 1.f;
  std::int32_t zero_point = 0;
  dtype type = dtype::u8;  // u8 or i8
};

struct qgroup {
  enum class op { conv, gemm, maxpool, global_avgpool, add };
  op o = op::conv;
  int anchor = -1;               // the node whose attributes apply (Conv, QLinearConv, Gemm, MaxPool, ...)
  std::vector<int> inputs;       // quantized input value ids (x; or a and b for add)
  std::vector<qparams> in;       // their parameters
  int output = -1;               // quantized output value id
  qparams out;
  std::int32_t lo = 0, hi = 255;  // output clamp (saturation and fused Relu/Clip)

  // conv / gemm:
  std::vector<std::int32_t> weights;  // w - w_zero_point: conv OIHW, gemm [N][K]
  shape_t weight_shape;                // conv: [M, C/group, kH, kW]; gemm: [N, K]
  std::vector<std::int32_t> bias;      // per output channel (zeros when absent)
  std::vector<exact_scale> scales;     // per output channel: s_x * s_w[c] / s_y (one entry: shared)
  // add: scales[0] = s_a / s_y, scales[1] = s_b / s_y. global_avgpool: s_x / (s_y * pixels).
};

/// Groups in graph order; `claimed` marks nodes already taken (updated for the matched ones).
std::vector<node_group> match_quantized(const model_view& m, std::vector<bool>& claimed);

}  // namespace edgert::engine::planning::int8
