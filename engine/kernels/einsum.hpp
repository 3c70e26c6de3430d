// Private: the Einsum kernel (einsum.cpp), registered by register_linear_kernels.
#pragma once

#include "common/result.hpp"
#include "engine/kernel.hpp"

namespace edgert::engine {

/// Einsum over any numeric type: explicit and implicit output, '...' broadcasting, repeated
/// labels (diagonals) and summation, by explicit index loops.
result<void> einsum_kernel(kernel_context& ctx);

}  // namespace edgert::engine
