#include "engine/kernels/gemm.hpp"

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

namespace edgert::engine {

namespace {

constexpr std::int64_t MR = 4;    // rows of C per register tile
constexpr std::int64_t KC = 256;  // depth of one packed block of B
constexpr std::int64_t NC = 512;  // width of one packed block of B

// Two 16-byte vectors of T make one row of a register tile (GCC/Clang vector extensions,
// which lower to SSE on x86-64 and NEON on arm64).
template <class T>
struct simd {
  typedef T vec __attribute__((vector_size(16)));
  static constexpr std::int64_t lanes = 16 / sizeof(T);
  static constexpr std::int64_t NR = 2 * lanes;  // columns of C per register tile
};

// One MR x NR tile of C over a packed kc x NR panel of B.
template <class T>
__attribute__((always_inline)) inline void tile(std::int64_t mr, std::int64_t nr, std::int64_t kc, const T* a, std::int64_t lda,
                 const T* panel, T* c, std::int64_t ldc, bool overwrite) {
  using V = typename simd<T>::vec;
  constexpr std::int64_t L = simd<T>::lanes;
  constexpr std::int64_t NR = simd<T>::NR;
  V acc[MR][2] = {};
  if (mr == MR) {
    for (std::int64_t k = 0; k < kc; ++k) {
      V b0, b1;
      std::memcpy(&b0, panel + k * NR, sizeof(V));
      std::memcpy(&b1, panel + k * NR + L, sizeof(V));
      for (std::int64_t r = 0; r < MR; ++r) {
        const V s = V{} + a[r * lda + k];
        acc[r][0] += s * b0;
        acc[r][1] += s * b1;
      }
    }
  } else {
    for (std::int64_t k = 0; k < kc; ++k) {
      V b0, b1;
      std::memcpy(&b0, panel + k * NR, sizeof(V));
      std::memcpy(&b1, panel + k * NR + L, sizeof(V));
      for (std::int64_t r = 0; r < mr; ++r) {
        const V s = V{} + a[r * lda + k];
        acc[r][0] += s * b0;
        acc[r][1] += s * b1;
      }
    }
  }
  for (std::int64_t r = 0; r < mr; ++r) {
    T row[NR];
    std::memcpy(row, &acc[r][0], sizeof(V));
    std::memcpy(row + L, &acc[r][1], sizeof(V));
    T* cr = c + r * ldc;
    if (overwrite)
      for (std::int64_t j = 0; j < nr; ++j) cr[j] = row[j];
    else
      for (std::int64_t j = 0; j < nr; ++j) cr[j] += row[j];
  }
}

template <class T>
void gemm_impl(std::int64_t M, std::int64_t N, std::int64_t K, const T* A, std::int64_t lda,
               const T* B, std::int64_t ldb, T* C, std::int64_t ldc, bool accumulate) {
  constexpr std::int64_t NR = simd<T>::NR;
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate)
      for (std::int64_t i = 0; i < M; ++i) std::fill(C + i * ldc, C + i * ldc + N, T{});
    return;
  }
  std::vector<T> packed(static_cast<std::size_t>(KC * ((std::min(N, NC) + NR - 1) / NR) * NR));
  for (std::int64_t k0 = 0; k0 < K; k0 += KC) {
    const std::int64_t kc = std::min(KC, K - k0);
    const bool overwrite = !accumulate && k0 == 0;
    for (std::int64_t j0 = 0; j0 < N; j0 += NC) {
      const std::int64_t nc = std::min(NC, N - j0);
      const std::int64_t panels = (nc + NR - 1) / NR;
      for (std::int64_t p = 0; p < panels; ++p) {
        T* dst = packed.data() + p * kc * NR;
        const std::int64_t cols = std::min(NR, nc - p * NR);
        for (std::int64_t k = 0; k < kc; ++k) {
          const T* src = B + (k0 + k) * ldb + j0 + p * NR;
          std::int64_t j = 0;
          for (; j < cols; ++j) dst[k * NR + j] = src[j];
          for (; j < NR; ++j) dst[k * NR + j] = T{};
        }
      }
      for (std::int64_t i0 = 0; i0 < M; i0 += MR) {
        const std::int64_t mr = std::min(MR, M - i0);
        for (std::int64_t p = 0; p < panels; ++p) {
          const std::int64_t nr = std::min(NR, nc - p * NR);
          tile<T>(mr, nr, kc, A + i0 * lda + k0, lda, packed.data() + p * kc * NR,
                  C + i0 * ldc + j0 + p * NR, ldc, overwrite);
        }
      }
    }
  }
}

}  // namespace

template <class T>
void gemm(std::int64_t M, std::int64_t N, std::int64_t K, const T* A, std::int64_t lda,
          const T* B, std::int64_t ldb, T* C, std::int64_t ldc, bool accumulate) {
  if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    // Signed integers compute in the unsigned type of the same width: two's-complement
    // wrap-around without undefined behaviour, and the same bits as a signed product.
    using U = std::make_unsigned_t<T>;
    gemm_impl<U>(M, N, K, reinterpret_cast<const U*>(A), lda, reinterpret_cast<const U*>(B), ldb,
                 reinterpret_cast<U*>(C), ldc, accumulate);
  } else {
    gemm_impl<T>(M, N, K, A, lda, B, ldb, C, ldc, accumulate);
  }
}

bool plan_matmul(const shape_t& a, const shape_t& b, matmul_plan& plan, std::string& error) {
  if (a.empty() || b.empty()) {
    error = "MatMul operands must have rank >= 1, got " + to_string(a) + " and " + to_string(b);
    return false;
  }
  const bool a_vector = a.size() == 1, b_vector = b.size() == 1;
  shape_t as = a_vector ? shape_t{1, a[0]} : a;
  shape_t bs = b_vector ? shape_t{b[0], 1} : b;
  plan.M = as[as.size() - 2];
  plan.K = as.back();
  plan.N = bs.back();
  if (bs[bs.size() - 2] != plan.K) {
    error = "the inner extents of " + to_string(a) + " and " + to_string(b) + " differ";
    return false;
  }
  shape_t a_batch(as.begin(), as.end() - 2), b_batch(bs.begin(), bs.end() - 2);
  const std::size_t rank = std::max(a_batch.size(), b_batch.size());
  a_batch.insert(a_batch.begin(), rank - a_batch.size(), 1);
  b_batch.insert(b_batch.begin(), rank - b_batch.size(), 1);
  shape_t batch(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    if (a_batch[i] != b_batch[i] && a_batch[i] != 1 && b_batch[i] != 1) {
      error = "the batch extents of " + to_string(a) + " and " + to_string(b) + " do not broadcast";
      return false;
    }
    batch[i] = a_batch[i] == 1 ? b_batch[i] : a_batch[i];
  }
  const std::int64_t count = element_count(batch);
  plan.a_matrix.assign(static_cast<std::size_t>(count), 0);
  plan.b_matrix.assign(static_cast<std::size_t>(count), 0);
  std::vector<std::int64_t> idx(rank, 0);
  for (std::int64_t m = 0; m < count; ++m) {
    std::int64_t ai = 0, bi = 0;
    for (std::size_t i = 0; i < rank; ++i) {
      ai = ai * a_batch[i] + (a_batch[i] == 1 ? 0 : idx[i]);
      bi = bi * b_batch[i] + (b_batch[i] == 1 ? 0 : idx[i]);
    }
    plan.a_matrix[m] = ai;
    plan.b_matrix[m] = bi;
    for (std::size_t i = rank; i-- > 0;) {
      if (++idx[i] < batch[i]) break;
      idx[i] = 0;
    }
  }
  plan.full_shape = batch;
  plan.full_shape.push_back(plan.M);
  plan.full_shape.push_back(plan.N);
  plan.out_shape = batch;
  if (!a_vector) plan.out_shape.push_back(plan.M);
  if (!b_vector) plan.out_shape.push_back(plan.N);
  return true;
}

#define EDGERT_GEMM_INSTANTIATE(T)                                                            \
  template void gemm<T>(std::int64_t, std::int64_t, std::int64_t, const T*, std::int64_t,     \
                        const T*, std::int64_t, T*, std::int64_t, bool);
EDGERT_GEMM_INSTANTIATE(float)
EDGERT_GEMM_INSTANTIATE(double)
EDGERT_GEMM_INSTANTIATE(std::int32_t)
EDGERT_GEMM_INSTANTIATE(std::int64_t)
EDGERT_GEMM_INSTANTIATE(std::uint32_t)
EDGERT_GEMM_INSTANTIATE(std::uint64_t)
#undef EDGERT_GEMM_INSTANTIATE

}  // namespace edgert::engine
