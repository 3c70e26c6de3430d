// pool2d: max, average and global-average pooling on XNNPACK over NHWC buffers, for float32
// and for uint8/int8 (quantized) tensors, created once and run many times.
//
// Semantics follow ONNX MaxPool / AveragePool / GlobalAveragePool with explicit pads (resolve
// auto_pad first). Quantized average pooling stands for DequantizeLinear -> AveragePool ->
// QuantizeLinear and takes both quantizations; quantized max pooling assumes the input and
// output share one quantization (max commutes with it).
//
// What XNNPACK cannot express gives not_implemented, so the caller falls back to the
// reference kernel:
//   - average pooling with dilations, with a 1x1 window, or with a stride above the window;
//   - float average pooling that counts padding (count_include_pad = 1 with padding): XNNPACK
//     divides by the taps inside the input only;
//   - quantized average pooling that excludes padding (count_include_pad = 0 with padding) or
//     counts it under ceil_mode: XNNPACK always divides by the full window;
//   - padding as large as the (dilated) window, where a window could miss the input entirely.
//
// Ownership and threads: the object owns its XNNPACK operator and, for int8 average pooling
// (computed in uint8), a scratch copy of the input. run() binds the caller's buffers, so one
// object must not be run by two threads at once.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "engine/tensor.hpp"
#include "engine/xnnpack/runtime.hpp"

namespace edgert::engine::xnn {

enum class pool_kind { max, average, global_average };

struct pool_params {
  pool_kind kind = pool_kind::max;
  dtype type = dtype::f32;  // f32, u8 or i8; input and output share it
  /// Logical input shape [N, C, H, W]; run() takes NHWC data.
  shape_t input_shape;
  // Window (ignored by global_average).
  std::array<std::int64_t, 2> kernel{1, 1};     // H, W
  std::array<std::int64_t, 2> strides{1, 1};    // H, W
  std::array<std::int64_t, 2> dilations{1, 1};  // H, W; max pooling only
  std::array<std::int64_t, 4> pads{0, 0, 0, 0};  // ONNX order: top, left, bottom, right
  bool ceil_mode = false;
  bool count_include_pad = false;  // average pooling
  // Quantization of u8/i8 average pooling (ignored otherwise).
  float input_scale = 1.f;
  std::int32_t input_zero_point = 0;
  float output_scale = 1.f;
  std::int32_t output_zero_point = 0;
  /// Fused clamp in the output's domain: float values for f32, quantized values for u8/i8
  /// (clipped to the type's range).
  float output_min = -std::numeric_limits<float>::infinity();
  float output_max = std::numeric_limits<float>::infinity();
};

class pool2d {
 public:
  static result<pool2d> create(const pool_params& params);

  pool2d(pool2d&&) noexcept;
  pool2d& operator=(pool2d&&) noexcept;
  ~pool2d();

  /// input: NHWC [N, H, W, C] with input_slack_bytes of readable memory after it; output:
  /// NHWC [N, OH, OW, C] ([N, 1, 1, C] for global pooling). Allocates nothing.
  result<void> run(const void* input, void* output, const thread_pool& pool);

  /// Logical output shape [N, C, OH, OW].
  const shape_t& output_shape() const noexcept;
  std::size_t input_bytes() const noexcept;
  std::size_t output_bytes() const noexcept;
  /// "maxpool f32 3x3 s2x2 ...", for plan descriptions.
  const std::string& describe() const noexcept;

 private:
  static result<pool2d> create_unchecked(const pool_params& params);
  struct impl;
  explicit pool2d(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace edgert::engine::xnn
