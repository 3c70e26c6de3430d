// Private: the lowering functions of the oneDNN backend (engine/plan/onednn/backend.cpp),
// one file each. Each returns true having emitted its steps, false having requested and
// emitted nothing (the planner then offers the group elsewhere), or a failure.
#pragma once

#include "engine/plan/onednn/common.hpp"

namespace edgert::engine::planning::onednn {

/// How convolutions choose their algorithm and layout for one plan.
struct conv_policy {
  /// Winograd where it applies, and the blocked layout for every convolution so no
  /// conversions are needed around the Winograd layers. Chosen when Winograd is enabled and
  /// the graph has 3x3 stride-1 layers it applies to; otherwise each convolution takes the
  /// layout oneDNN prefers (measured faster for the direct kernels on AVX-512).
  bool winograd_blocked = false;
};

/// The policy for ctx's graph (conv.cpp).
conv_policy choose_conv_policy(const lowering_context& ctx);

result<bool> lower_conv(const node_group& g, lowering_context& ctx, const conv_policy& policy);  // conv.cpp
result<bool> lower_gemm(const node_group& g, lowering_context& ctx);           // matmul.cpp
result<bool> lower_matmul(const node_group& g, lowering_context& ctx);         // matmul.cpp
/// A reorder step between two buffers of one value, or null (reorder.cpp).
std::unique_ptr<step> make_reorder(int from, int to, const lowering_context& ctx);

}  // namespace edgert::engine::planning::onednn
