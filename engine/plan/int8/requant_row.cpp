#include "engine/plan/int8/requant_row.hpp"

#include <immintrin.h>

namespace edgert::engine::planning::int8 {

namespace {

constexpr double kCap = 4194304.0;               // 2^22: saturates any 8-bit output
constexpr double kTie = 0.5 - 1e-8;              // closer than this to x.5 takes the exact path

bool scalar_row(const float* acc, bool split, std::int64_t M, const double* bias, const double* mul, double zp,
                double lo, double hi, std::int32_t* row) {
  bool any = false;
  for (std::int64_t c = 0; c < M; ++c) {
    double a = static_cast<double>(acc[c]);
    if (split) a = a * 16.0 + static_cast<double>(acc[M + c]);
    bool near = false;
    row[c] = round_fast((a + bias[c]) * mul[c], zp, lo, hi, near);
    any = any || near;
  }
  return any;
}

__attribute__((target("avx2"))) bool avx2_row(const float* acc, bool split, std::int64_t M, const double* bias,
                                               const double* mul, double zp, double lo, double hi, std::int32_t* row) {
  const __m256d cap = _mm256_set1_pd(kCap), ncap = _mm256_set1_pd(-kCap), tie = _mm256_set1_pd(kTie);
  const __m256d vzp = _mm256_set1_pd(zp), vlo = _mm256_set1_pd(lo), vhi = _mm256_set1_pd(hi);
  const __m256d sixteen = _mm256_set1_pd(16.0);
  const __m256d sign = _mm256_set1_pd(-0.0);
  __m256d near = _mm256_setzero_pd();
  std::int64_t c = 0;
  for (; c + 4 <= M; c += 4) {
    __m256d a = _mm256_cvtps_pd(_mm_loadu_ps(acc + c));
    if (split) a = _mm256_add_pd(_mm256_mul_pd(a, sixteen), _mm256_cvtps_pd(_mm_loadu_ps(acc + M + c)));
    __m256d t = _mm256_mul_pd(_mm256_add_pd(a, _mm256_loadu_pd(bias + c)), _mm256_loadu_pd(mul + c));
    t = _mm256_min_pd(_mm256_max_pd(t, ncap), cap);
    const __m256d r = _mm256_round_pd(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256d d = _mm256_andnot_pd(sign, _mm256_sub_pd(t, r));
    near = _mm256_or_pd(near, _mm256_cmp_pd(d, tie, _CMP_GT_OQ));
    const __m256d y = _mm256_min_pd(_mm256_max_pd(_mm256_add_pd(r, vzp), vlo), vhi);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(row + c), _mm256_cvtpd_epi32(y));
  }
  bool any = _mm256_movemask_pd(near) != 0;
  if (c < M) {
    const std::int64_t done = c;
    // The tail through the scalar pass, on pointers shifted to it.
    if (split) {
      for (; c < M; ++c) {
        const double a = static_cast<double>(acc[c]) * 16.0 + static_cast<double>(acc[M + c]);
        bool near = false;
        row[c] = round_fast((a + bias[c]) * mul[c], zp, lo, hi, near);
        any = any || near;
      }
    } else {
      any = scalar_row(acc + done, false, M - done, bias + done, mul + done, zp, lo, hi, row + done) || any;
    }
  }
  return any;
}

bool scalar_row_i32(const std::int32_t* acc, std::int64_t M, const double* bias, const double* mul, double zp,
                    double lo, double hi, std::int32_t* row) {
  bool any = false;
  for (std::int64_t c = 0; c < M; ++c) {
    bool near = false;
    row[c] = round_fast((static_cast<double>(acc[c]) + bias[c]) * mul[c], zp, lo, hi, near);
    any = any || near;
  }
  return any;
}

__attribute__((target("avx2"))) bool avx2_row_i32(const std::int32_t* acc, std::int64_t M, const double* bias,
                                                   const double* mul, double zp, double lo, double hi,
                                                   std::int32_t* row) {
  const __m256d cap = _mm256_set1_pd(kCap), ncap = _mm256_set1_pd(-kCap), tie = _mm256_set1_pd(kTie);
  const __m256d vzp = _mm256_set1_pd(zp), vlo = _mm256_set1_pd(lo), vhi = _mm256_set1_pd(hi);
  const __m256d sign = _mm256_set1_pd(-0.0);
  __m256d near = _mm256_setzero_pd();
  std::int64_t c = 0;
  for (; c + 4 <= M; c += 4) {
    const __m256d a = _mm256_cvtepi32_pd(_mm_loadu_si128(reinterpret_cast<const __m128i*>(acc + c)));
    __m256d t = _mm256_mul_pd(_mm256_add_pd(a, _mm256_loadu_pd(bias + c)), _mm256_loadu_pd(mul + c));
    t = _mm256_min_pd(_mm256_max_pd(t, ncap), cap);
    const __m256d r = _mm256_round_pd(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256d d = _mm256_andnot_pd(sign, _mm256_sub_pd(t, r));
    near = _mm256_or_pd(near, _mm256_cmp_pd(d, tie, _CMP_GT_OQ));
    const __m256d y = _mm256_min_pd(_mm256_max_pd(_mm256_add_pd(r, vzp), vlo), vhi);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(row + c), _mm256_cvtpd_epi32(y));
  }
  bool any = _mm256_movemask_pd(near) != 0;
  if (c < M) any = scalar_row_i32(acc + c, M - c, bias + c, mul + c, zp, lo, hi, row + c) || any;
  return any;
}

}  // namespace

bool requant_row(const std::int32_t* acc, std::int64_t M, const double* bias, const double* mul, double zp,
                 double lo, double hi, std::int32_t* row) {
  static const bool has_avx2 = __builtin_cpu_supports("avx2");
  return has_avx2 ? avx2_row_i32(acc, M, bias, mul, zp, lo, hi, row)
                  : scalar_row_i32(acc, M, bias, mul, zp, lo, hi, row);
}

bool requant_row(const float* acc, bool split, std::int64_t M, const double* bias, const double* mul, double zp,
                 double lo, double hi, std::int32_t* row) {
  static const bool has_avx2 = __builtin_cpu_supports("avx2");
  return has_avx2 ? avx2_row(acc, split, M, bias, mul, zp, lo, hi, row)
                  : scalar_row(acc, split, M, bias, mul, zp, lo, hi, row);
}

}  // namespace edgert::engine::planning::int8
