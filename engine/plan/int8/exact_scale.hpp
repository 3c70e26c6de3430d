// Private: exact requantization for the integer kernels of the planner.
//
// ONNX defines y = saturate(round_half_even(acc * s_x * s_w / s_y) + z_y) on real numbers. A
// float32 (or float64) multiplier is off by one LSB whenever the true product lies close to
// a rounding tie, so an exact_scale keeps the multiplier as an exact fraction num/den of the
// float32 scales it was made from, plus a float64 approximation. rescale() takes the fast
// float64 path and falls back to 128-bit integer arithmetic only when the float64 result lies
// within its error bound of a tie, which makes every result exact at float64 speed.
//
// Ownership and threads: exact_scale is a small immutable value; any thread may use it.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace edgert::engine::planning::int8 {

class exact_scale {
 public:
  /// (n0 * n1 * ...) / (d0 * d1 * ... * int_den) of finite positive floats; nullopt when a
  /// value is not finite and positive or the fraction needs more than ~110 bits.
  static std::optional<exact_scale> make(const std::vector<float>& numerators, const std::vector<float>& denominators,
                                         std::uint64_t int_den = 1);

  /// round_half_even(v * num / den), exact whenever |v| * num fits 127 bits: always for
  /// |v| < 2^27, and for |v| < 2^75 with the ~50-bit numerators of a product of two float32
  /// scales over a third; beyond that, the float64 rounding. Results beyond +-2^22 come out as +-2^22 (they saturate any
  /// 8-bit output anyway).
  std::int64_t rescale(std::int64_t v) const {
    const double t = static_cast<double>(v) * approx_;
    if (t >= 4194304.0) return 4194304;
    if (t <= -4194304.0) return -4194304;
    // Adding and subtracting 1.5 * 2^52 rounds to the nearest integer, ties to even.
    const double r = (t + 6755399441055744.0) - 6755399441055744.0;
    const double d = t - r;
    if (d > 0.5 - 1e-8 || d < -0.5 + 1e-8) return exact(v);
    return static_cast<std::int64_t>(r);
  }
  /// The same by 128-bit integer arithmetic alone.
  std::int64_t exact(std::int64_t v) const;
  double approx() const { return approx_; }
  unsigned __int128 num() const { return num_; }
  unsigned __int128 den() const { return den_; }

 private:
  unsigned __int128 num_ = 1, den_ = 1;
  double approx_ = 1.0;
};

/// round_half_even((a * sa + b * sb)) for two exact scales, exact (the quantized Add).
std::int64_t rescale_sum(const exact_scale& sa, std::int64_t a, const exact_scale& sb, std::int64_t b);

inline std::int32_t saturate(std::int64_t v, std::int32_t lo, std::int32_t hi) {
  return static_cast<std::int32_t>(v < lo ? lo : (v > hi ? hi : v));
}

}  // namespace edgert::engine::planning::int8
