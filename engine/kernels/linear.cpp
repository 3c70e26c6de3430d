// Gemm and MatMul reference kernels (float, double, 32/64-bit integers; float16/bfloat16
// through float), on the blocked GEMM of gemm.hpp. Einsum lives in einsum.cpp.
// The kernels keep no state between calls; any thread may run them.
#include <string>
#include <type_traits>
#include <vector>

#include "engine/kernel.hpp"
#include "engine/kernels/dispatch.hpp"
#include "engine/kernels/einsum.hpp"
#include "engine/kernels/gemm.hpp"
#include "engine/kernels/register.hpp"
#include "engine/kernels/spatial.hpp"

namespace edgert::engine {

namespace {

template <class T>
constexpr bool gemm_type = std::is_same_v<T, float> || std::is_same_v<T, double> ||
                           std::is_same_v<T, std::int32_t> || std::is_same_v<T, std::int64_t> ||
                           std::is_same_v<T, std::uint32_t> || std::is_same_v<T, std::uint64_t>;

// Applies alpha to an integer or floating value (integers scale through double).
template <class T>
T scaled(T v, float alpha) {
  if constexpr (std::is_floating_point_v<T>)
    return static_cast<T>(alpha) * v;
  else
    return alpha == 1.f ? v : static_cast<T>(static_cast<double>(alpha) * static_cast<double>(v));
}

template <class T>
void gemm_typed(kernel_context& ctx, bool trans_a, bool trans_b, float alpha, float beta, std::int64_t M,
                std::int64_t N, std::int64_t K) {
  const tensor& a = ctx.input(0);
  const tensor& b = ctx.input(1);
  const tensor* c = ctx.has_input(2) ? ctx.inputs[2] : nullptr;
  tensor y(dtype_of<T>(), {M, N});
  // Transposed operands are copied into row-major [M, K] and [K, N] matrices.
  std::vector<T> at, bt;
  const T* ap = a.data<T>();
  const T* bp = b.data<T>();
  if (trans_a) {
    at.resize(static_cast<std::size_t>(M * K));
    for (std::int64_t k = 0; k < K; ++k)
      for (std::int64_t m = 0; m < M; ++m) at[m * K + k] = ap[k * M + m];
    ap = at.data();
  }
  T* yd = y.data<T>();
  if (std::is_floating_point_v<T> && trans_b && !trans_a && M <= 8) {
    // A few rows against B stored [N, K] (a fully-connected layer): one dot product per
    // output, both operands contiguous, with eight partial sums the compiler vectorises.
    for (std::int64_t m = 0; m < M; ++m)
      for (std::int64_t n = 0; n < N; ++n) {
        const T* ar = ap + m * K;
        const T* br = bp + n * K;
        T acc[8] = {};
        std::int64_t k = 0;
        for (; k + 8 <= K; k += 8)
          for (int j = 0; j < 8; ++j) acc[j] += ar[k + j] * br[k + j];
        T sum = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        for (; k < K; ++k) sum += ar[k] * br[k];
        yd[m * N + n] = sum;
      }
  } else {
    if (trans_b) {
      bt.resize(static_cast<std::size_t>(K * N));
      for (std::int64_t n = 0; n < N; ++n)
        for (std::int64_t k = 0; k < K; ++k) bt[k * N + n] = bp[n * K + k];
      bp = bt.data();
    }
    gemm<T>(M, N, K, ap, K, bp, N, yd, N, false);
  }
  if (alpha != 1.f)
    for (std::int64_t i = 0; i < M * N; ++i) yd[i] = scaled(yd[i], alpha);
  if (c && beta != 0.f) {
    const shape_t& cs = c->shape();
    const std::int64_t rows = cs.size() == 2 ? cs[0] : 1;
    const std::int64_t cols = cs.empty() ? 1 : cs.back();
    const T* cd = c->data<T>();
    for (std::int64_t m = 0; m < M; ++m)
      for (std::int64_t n = 0; n < N; ++n)
        yd[m * N + n] += scaled(cd[(rows == 1 ? 0 : m) * cols + (cols == 1 ? 0 : n)], beta);
  }
  ctx.outputs[0] = y;
}

result<void> gemm_kernel(kernel_context& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.invalid("Gemm needs inputs A and B");
  const tensor& a = ctx.input(0);
  const tensor& b = ctx.input(1);
  if (a.rank() != 2 || b.rank() != 2)
    return ctx.invalid("A " + to_string(a.shape()) + " and B " + to_string(b.shape()) + " must be 2-D");
  if (a.type() != b.type()) return ctx.invalid("A and B must have the same type");
  const bool trans_a = ctx.n.get_int("transA", 0) != 0, trans_b = ctx.n.get_int("transB", 0) != 0;
  const std::int64_t M = trans_a ? a.shape()[1] : a.shape()[0];
  const std::int64_t K = trans_a ? a.shape()[0] : a.shape()[1];
  const std::int64_t Kb = trans_b ? b.shape()[1] : b.shape()[0];
  const std::int64_t N = trans_b ? b.shape()[0] : b.shape()[1];
  if (K != Kb)
    return ctx.invalid("the inner extents of A " + to_string(a.shape()) + " and B " + to_string(b.shape()) +
                       " differ (transA " + std::to_string(trans_a) + ", transB " + std::to_string(trans_b) + ")");
  if (ctx.has_input(2)) {
    const tensor& c = ctx.input(2);
    if (c.type() != a.type()) return ctx.invalid("C must have the type of A");
    const shape_t& cs = c.shape();
    bool ok = cs.size() <= 2;
    if (ok && !cs.empty()) ok = cs.back() == N || cs.back() == 1;
    if (ok && cs.size() == 2) ok = cs[0] == M || cs[0] == 1;
    if (ok && ctx.opset < 7 && ctx.n.get_int("broadcast", 0) == 0) ok = cs == shape_t{M, N};
    if (!ok)
      return ctx.invalid("C " + to_string(cs) + " does not broadcast to the output [" + std::to_string(M) + ", " +
                         std::to_string(N) + "]");
  } else if (ctx.opset < 11) {
    return ctx.invalid("input C is required before opset 11");
  }
  const float alpha = ctx.n.get_float("alpha", 1.f), beta = ctx.n.get_float("beta", 1.f);
  bool done = false;
  dispatch_numeric(a.type(), [&](auto v) {
    using T = decltype(v);
    if constexpr (gemm_type<T>) {
      gemm_typed<T>(ctx, trans_a, trans_b, alpha, beta, M, N, K);
      done = true;
    }
  });
  if (!done) return ctx.unsupported("Gemm on " + std::string(to_string(a.type())) + " tensors");
  return {};
}

template <class T>
void matmul_typed(const tensor& a, const tensor& b, const matmul_plan& plan, tensor& y) {
  const T* ad = a.data<T>();
  const T* bd = b.data<T>();
  T* yd = y.data<T>();
  const std::int64_t M = plan.M, N = plan.N, K = plan.K;
  for (std::size_t i = 0; i < plan.a_matrix.size(); ++i)
    gemm<T>(M, N, K, ad + plan.a_matrix[i] * M * K, K, bd + plan.b_matrix[i] * K * N, N,
            yd + static_cast<std::int64_t>(i) * M * N, N, false);
}

result<void> matmul_kernel(kernel_context& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.invalid("MatMul needs inputs A and B");
  const tensor& a = ctx.input(0);
  const tensor& b = ctx.input(1);
  if (a.type() != b.type()) return ctx.invalid("A and B must have the same type");
  matmul_plan plan;
  std::string error;
  if (!plan_matmul(a.shape(), b.shape(), plan, error)) return ctx.invalid(error);
  tensor y(a.type(), plan.out_shape);
  bool done = false;
  dispatch_numeric(a.type(), [&](auto v) {
    using T = decltype(v);
    if constexpr (gemm_type<T>) {
      matmul_typed<T>(a, b, plan, y);
      done = true;
    }
  });
  if (!done) return ctx.unsupported("MatMul on " + std::string(to_string(a.type())) + " tensors");
  ctx.outputs[0] = y;
  return {};
}

}  // namespace

void register_linear_kernels(kernel_registry& r) {
  r.add("", "Gemm", [](kernel_context& ctx) { return spatial::with_half_promoted(ctx, gemm_kernel); }, 1);
  r.add("", "MatMul", [](kernel_context& ctx) { return spatial::with_half_promoted(ctx, matmul_kernel); }, 1);
  r.add("", "Einsum", [](kernel_context& ctx) { return spatial::guarded(ctx, einsum_kernel); }, 12);
}

}  // namespace edgert::engine
