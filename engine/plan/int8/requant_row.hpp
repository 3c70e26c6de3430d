// Private: the float64 fast pass of the convolution requantization, one output pixel at a
// time (engine/plan/int8/backend.cpp). row[c] = clamp(round_half_even((acc[c] (* 16 +
// acc[M + c] when split) + bias[c]) * mul[c]) + zero_point, lo, hi). Returns true when some
// value lay within the float64 error bound of a rounding tie: the caller then redoes the row
// exactly. Uses AVX2 where the CPU has it. Stateless; any thread.
#pragma once

#include <cstdint>

namespace edgert::engine::planning::int8 {

/// One value of the float64 fast pass: clamp(round_half_even(clamp(t, +-2^22)) + zero_point,
/// lo, hi). Sets `near` when t lies within the float64 error bound of a rounding tie (the
/// caller then computes that value exactly).
inline std::int32_t round_fast(double t, double zero_point, double lo, double hi, bool& near) {
  t = t < -4194304.0 ? -4194304.0 : (t > 4194304.0 ? 4194304.0 : t);  // 2^22 saturates 8 bits
  const double r = (t + 6755399441055744.0) - 6755399441055744.0;     // + 1.5 * 2^52: ties to even
  const double d = t - r;
  near = d > 0.5 - 1e-8 || d < -0.5 + 1e-8;
  double y = r + zero_point;
  y = y < lo ? lo : (y > hi ? hi : y);
  return static_cast<std::int32_t>(y);
}

bool requant_row(const float* acc, bool split, std::int64_t M, const double* bias, const double* mul,
                 double zero_point, double lo, double hi, std::int32_t* row);
/// The same over int32 accumulators (oneDNN's native int8 convolution), never split.
bool requant_row(const std::int32_t* acc, std::int64_t M, const double* bias, const double* mul,
                 double zero_point, double lo, double hi, std::int32_t* row);

}  // namespace edgert::engine::planning::int8
