// Private to the binary kernel family (binary.cpp, binary_logic.cpp): operand preparation
// shared by every two-input element-wise kernel, and the registration of binary_logic.cpp.
//
// Stateless; safe to call from any thread.
#pragma once

#include <string>

#include "engine/kernels/elementwise.hpp"

namespace edgert::engine::kernels {

void register_arithmetic_kernels(kernel_registry& r);    // binary.cpp
void register_binary_logic_kernels(kernel_registry& r);  // binary_logic.cpp

/// Two operands ready for broadcast_binary, and the output shape.
struct binary_operands {
  tensor a;
  tensor b;
  shape_t out_shape;
};

/// Reads inputs 0 and 1 and checks that they broadcast. Before opset 7, a node with
/// broadcast=1 aligns B's dimensions with A's starting at attribute 'axis' (default: B's
/// trailing dimensions), so B is viewed with 1s added around its shape; every other case
/// uses multidirectional (NumPy) broadcasting. With same_type, both inputs must share a type.
result<binary_operands> binary_inputs(kernel_context& ctx, bool same_type = true);

}  // namespace edgert::engine::kernels
