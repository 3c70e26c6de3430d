// Private matrix-multiply helper of the reference kernels (conv, linear, quantized):
// a cache-blocked, register-tiled row-major GEMM in portable C++. Stateless; safe to call
// from any thread; it allocates a small packing buffer per call.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.hpp"

namespace edgert::engine {

/// C[M x N] = A[M x K] * B[K x N] (+ C when `accumulate`), all row-major with leading
/// dimensions lda, ldb, ldc (in elements). Accumulates in T; instantiated for float, double,
/// std::int32_t, std::int64_t, std::uint32_t and std::uint64_t (integer overflow wraps
/// around).
template <class T>
void gemm(std::int64_t M, std::int64_t N, std::int64_t K, const T* A, std::int64_t lda,
          const T* B, std::int64_t ldb, T* C, std::int64_t ldc, bool accumulate);

/// The batched-matrix layout of a NumPy matmul of operands with shapes a and b: 1-D
/// operands are promoted to a row (a) or a column (b) and that axis is dropped from the
/// output; the batch axes broadcast.
struct matmul_plan {
  shape_t out_shape;
  shape_t full_shape;  // out_shape with the dropped vector axes kept as 1: [batch..., M, N]
  std::int64_t M = 0, N = 0, K = 0;
  /// For each output matrix (row-major over the batch axes), the index of the a and b
  /// matrices it multiplies (in units of M*K and K*N elements).
  std::vector<std::int64_t> a_matrix, b_matrix;
};

/// Plans a matmul; on mismatched inner or batch extents returns false with a message.
bool plan_matmul(const shape_t& a, const shape_t& b, matmul_plan& plan, std::string& error);

}  // namespace edgert::engine
