// Moving tensors between the host's view (float values in the logical shape) and a device's
// view (quantized int8/uint8 values, possibly padded along some dimensions).
//
// Quantization is per tensor and affine: real = (q - zero_point) x scale. Quantizing follows
// ONNX QuantizeLinear: q = saturate(round_half_to_even(x / scale) + zero_point), the division
// done in float32. Padded elements hold the zero point (0.0 for float tensors), so they
// dequantize to real zero.
//
// All functions are stateless, allocate their result and may run on any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "common/result.hpp"
#include "engine/tensor.hpp"

namespace edgert::engine {

/// Per-tensor affine quantization parameters.
struct quant_params {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
};

/// Extra elements before and after the data along one dimension.
struct dim_padding {
  std::int64_t before = 0;
  std::int64_t after = 0;
};

bool operator==(const quant_params& a, const quant_params& b) noexcept;
bool operator==(const dim_padding& a, const dim_padding& b) noexcept;

/// The stored shape for a logical shape and a padding (one entry per dimension, or empty for
/// none). invalid_argument when the ranks differ, a pad is negative or a dimension is unknown.
result<shape_t> padded_shape(const shape_t& logical, const std::vector<dim_padding>& padding);

/// True when every pad is zero (an empty list included).
bool is_unpadded(const std::vector<dim_padding>& padding) noexcept;

/// One value, as QuantizeLinear computes it, saturated to [lo, hi].
std::int32_t quantize_value(float x, const quant_params& q, std::int32_t lo, std::int32_t hi) noexcept;

/// Converts a float32 host tensor in its logical shape into the stored form: quantized to
/// `target` (int8 or uint8) with `q`, or kept float32 when `target` is float32 and `q` is
/// absent; then padded. invalid_argument for a non-float32 source, a quantized target without
/// parameters (or a float target with them), a non-positive or non-finite scale, a zero
/// point outside the target's range, or a padding of the wrong rank; not_implemented for
/// other target types.
result<tensor> quantize_and_pad(const tensor& host, dtype target, const std::optional<quant_params>& q,
                                const std::vector<dim_padding>& padding);

/// The reverse: strips the padding from a stored tensor and dequantizes it (int8/uint8 with
/// `q`, or float32 without) into a float32 tensor of the logical shape. invalid_argument when
/// the padding does not fit the stored shape or the type and parameters disagree.
result<tensor> depad_and_dequantize(const tensor& stored, const std::optional<quant_params>& q,
                                    const std::vector<dim_padding>& padding);

}  // namespace edgert::engine
