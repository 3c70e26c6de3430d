// qgemm: a quantized fully-connected layer (ONNX QLinearMatMul with a constant 2-D B, or a
// QDQ Gemm/MatMul group) on XNNPACK, created once and run on row-major buffers.
//
// It is a 1x1 convolution over `rows` pixels (XNNPACK runs that as a plain GEMM), so it has
// qconv2d's variants, numerics, conversions and limits (see qconv.hpp); per-column weight
// scales use qc8, which this XNNPACK version offers only for convolutions.
//
// Ownership and threads: as qconv2d. The object owns its operator and packed weights; one
// object must not be run by two threads at once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "engine/tensor.hpp"
#include "engine/xnnpack/qconv.hpp"
#include "engine/xnnpack/runtime.hpp"

namespace edgert::engine::xnn {

struct qgemm_params {
  /// Rows of A (all leading dimensions of a MatMul's A flattened).
  std::int64_t rows = 1;
  dtype input_type = dtype::u8;  // A: u8 or i8
  float input_scale = 1.f;
  std::int32_t input_zero_point = 0;

  /// 2-D u8/i8 weights: [K, N] as MatMul's B, or [N, K] when weights_transposed (Gemm with
  /// transB = 1). Copied at create.
  tensor weights;
  bool weights_transposed = false;
  std::vector<float> weight_scales;              // 1 value, or N (per output column)
  std::vector<std::int32_t> weight_zero_points;  // empty (all 0), 1 value, or N
  tensor bias;                                   // empty, or int32 [N]

  dtype output_type = dtype::u8;  // u8 or i8
  float output_scale = 1.f;
  std::int32_t output_zero_point = 0;
  /// Fused clamp in the output's quantized domain (see qconv_params).
  std::optional<std::int32_t> output_min;
  std::optional<std::int32_t> output_max;
};

class qgemm {
 public:
  /// invalid_argument for inconsistent parameters; not_implemented when XNNPACK cannot
  /// express the product (see qconv2d::create).
  static result<qgemm> create(const qgemm_params& params);

  /// input: row-major [rows, K] of input_type with input_slack_bytes of readable memory
  /// after it; output: row-major [rows, N] of output_type. Allocates nothing.
  result<void> run(const void* input, void* output, const thread_pool& pool) { return conv_.run(input, output, pool); }

  std::int64_t rows() const noexcept { return rows_; }
  std::int64_t in_features() const noexcept { return k_; }   // K
  std::int64_t out_features() const noexcept { return n_; }  // N
  qvariant variant() const noexcept { return conv_.variant(); }
  /// "qgemm 1x1024->1000 qs8 ...", for plan descriptions.
  const std::string& describe() const noexcept { return description_; }

 private:
  static result<qgemm> create_unchecked(const qgemm_params& params);
  qgemm(qconv2d conv, std::int64_t rows, std::int64_t k, std::int64_t n);
  qconv2d conv_;
  std::int64_t rows_ = 0, k_ = 0, n_ = 0;
  std::string description_;
};

}  // namespace edgert::engine::xnn
