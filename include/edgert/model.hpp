// Model: a loaded ONNX model, independent of any device. Load once with
// Context::load_model(); load it onto as many devices as you like (Runner, Queue).
//
// Ownership: a Model is a cheap handle; copies share the loaded graph and its compiled
// plans, which live as long as the last handle or the last runner using them.
// Thread-safety: every member may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "edgert/tensor.hpp"

namespace edgert {

struct model_core;

class Model {
 public:
  const std::string& name() const;
  const std::vector<TensorInfo>& inputs() const;
  const std::vector<TensorInfo>& outputs() const;
  /// Multiply-accumulates of one inference (batch 1).
  std::uint64_t macs() const;
  /// A readable multi-line summary: inputs, outputs, quantization, ops, parameters, MACs.
  std::string summary() const;
  /// The same as JSON.
  std::string summary_json() const;

  /// Host float32 tensor of the unpadded shape -> the input's stored dtype and padded
  /// shape (quantized with round-half-to-even and saturation when the input is quantized).
  Tensor quantize_and_pad(std::size_t input, const Tensor& host) const;
  /// The reverse for an output: strips padding and dequantizes to float32.
  Tensor depad_and_dequantize(std::size_t output, const Tensor& device) const;

  const std::shared_ptr<const model_core>& core() const noexcept { return core_; }

 private:
  friend class Context;
  explicit Model(std::shared_ptr<const model_core> core) : core_(std::move(core)) {}
  std::shared_ptr<const model_core> core_;
};

}  // namespace edgert
