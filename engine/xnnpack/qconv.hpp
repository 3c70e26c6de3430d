// qconv2d: a quantized 2-D convolution (ONNX QLinearConv, or a QDQ Conv group) on XNNPACK,
// created once from the node's constants and run many times on NHWC buffers.
//
// create() validates the parameters, picks the XNNPACK operator variant, repacks the OIHW
// weights into XNNPACK's layout and sets the operator up for the fixed input shape, so run()
// allocates nothing. Variants:
//   qs8  int8 compute, one weight scale;
//   qc8  int8 compute, one weight scale per output channel;
//   qu8  uint8 compute, one weight scale (uint8 or int8 weights, any per-tensor zero point).
// Activations whose type differs from the compute domain are converted by flipping the top
// bit (u8 v <-> s8 v-128, zero points shifted by 128): the input into a scratch buffer owned by
// the object, the output in place. Weights that XNNPACK cannot express give not_implemented
// (per-channel scales need weights that are int8 after subtracting their zero point), and the
// caller should fall back to the reference kernel.
//
// Numerics: y = saturate(round_half_even(acc * (x_scale * w_scale / y_scale)) + y_zero_point)
// in float, as ONNX specifies; XNNPACK has been measured within 1 LSB of it.
//
// Ownership and threads: the object owns the XNNPACK operator, its packed weights and the
// scratch buffer. run() binds the caller's buffers to the operator, so one object must not be
// run by two threads at once; it runs on the calling thread plus the pool's workers.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "engine/tensor.hpp"
#include "engine/xnnpack/runtime.hpp"

namespace edgert::engine::xnn {

/// The XNNPACK quantized operator family an object runs on.
enum class qvariant { qs8, qc8, qu8 };
std::string_view to_string(qvariant v) noexcept;
// Keeps engine::to_string (shapes, dtypes) visible beside the overload above.
using engine::to_string;

struct qconv_params {
  /// Logical input shape [N, C, H, W]; run() takes the data as NHWC.
  shape_t input_shape;
  dtype input_type = dtype::u8;  // u8 or i8
  float input_scale = 1.f;
  std::int32_t input_zero_point = 0;

  /// ONNX weights [M, C/group, kH, kW] (OIHW) of type u8 or i8. Copied at create.
  tensor weights;
  std::vector<float> weight_scales;              // 1 value, or M (per output channel)
  std::vector<std::int32_t> weight_zero_points;  // empty (all 0), 1 value, or M
  /// Empty, or int32 [M] added to the accumulator before requantization. Copied at create.
  tensor bias;

  dtype output_type = dtype::u8;  // u8 or i8
  float output_scale = 1.f;
  std::int32_t output_zero_point = 0;

  std::array<std::int64_t, 2> strides{1, 1};    // H, W
  std::array<std::int64_t, 2> dilations{1, 1};  // H, W
  std::array<std::int64_t, 4> pads{0, 0, 0, 0};  // ONNX order: top, left, bottom, right
  std::int64_t group = 1;

  /// Fused clamp in the output's quantized domain, e.g. a following Relu is
  /// output_min = output_zero_point. Unset bounds are the type's limits.
  std::optional<std::int32_t> output_min;
  std::optional<std::int32_t> output_max;
};

class qconv2d {
 public:
  /// invalid_argument for inconsistent parameters (shapes, counts, types, ranges), naming
  /// the offending field; not_implemented when XNNPACK cannot express the convolution.
  static result<qconv2d> create(const qconv_params& params);

  qconv2d(qconv2d&&) noexcept;
  qconv2d& operator=(qconv2d&&) noexcept;
  ~qconv2d();

  /// Computes one batch: `input` is NHWC [N, H, W, C] of input_type with input_slack_bytes
  /// of readable memory after it; `output` is NHWC [N, OH, OW, M] of output_type.
  /// Allocates nothing.
  result<void> run(const void* input, void* output, const thread_pool& pool);

  /// Logical output shape [N, M, OH, OW].
  const shape_t& output_shape() const noexcept;
  qvariant variant() const noexcept;
  std::size_t input_bytes() const noexcept;
  std::size_t output_bytes() const noexcept;
  /// "qc8 3x3 s1x1 d1x1 g1 64->64 in u8 (flipped to s8) out u8", for plan descriptions.
  const std::string& describe() const noexcept;

 private:
  static result<qconv2d> create_unchecked(const qconv_params& params);
  struct impl;
  explicit qconv2d(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace edgert::engine::xnn
