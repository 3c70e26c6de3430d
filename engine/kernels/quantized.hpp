// Private helpers of the quantized kernels (quantized.cpp, quantized_conv.cpp): reading
// scales and zero points, and ONNX's requantization rounding. Stateless.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "common/result.hpp"
#include "engine/kernel.hpp"

namespace edgert::engine::quant {

/// ONNX's quantization step: round `v` half to even (the default floating-point rounding
/// mode), add the zero point, saturate to Q's range. NaN counts as 0.
template <class Q>
Q quantize(float v, std::int32_t zero_point) {
  const float r = std::isnan(v) ? 0.f : std::nearbyint(v);
  constexpr double lo = static_cast<double>(std::numeric_limits<Q>::lowest());
  constexpr double hi = static_cast<double>(std::numeric_limits<Q>::max());
  const double q = static_cast<double>(r) + zero_point;
  if (q <= lo) return std::numeric_limits<Q>::lowest();
  if (q >= hi) return std::numeric_limits<Q>::max();
  return static_cast<Q>(q);
}

/// The values of a float, double, float16 or bfloat16 tensor as floats; false for other types.
bool read_floats(const tensor& t, std::vector<float>& out);
/// The values of an 8/16/32-bit integer tensor as int32; false for other types.
bool read_ints(const tensor& t, std::vector<std::int32_t>& out);
/// True for the 8-bit quantized types.
inline bool is_q8(dtype t) { return t == dtype::u8 || t == dtype::i8; }

/// The int32 values of an 8-bit tensor minus a zero point that broadcasts against it (`zp`
/// has the shape `zp_shape`, or is empty for zero).
std::vector<std::int32_t> shifted(const tensor& t, const std::vector<std::int32_t>& zp, const shape_t& zp_shape);

result<void> qlinear_conv_kernel(kernel_context& ctx);
result<void> conv_integer_kernel(kernel_context& ctx);

}  // namespace edgert::engine::quant
