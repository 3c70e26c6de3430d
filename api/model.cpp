#include "edgert/model.hpp"

#include <cstring>

#include "api/model_core.hpp"
#include "api/unwrap.hpp"
#include "engine/quantize.hpp"

namespace edgert {

const std::string& Model::name() const { return core_->info.name; }
const std::vector<TensorInfo>& Model::inputs() const { return core_->inputs; }
const std::vector<TensorInfo>& Model::outputs() const { return core_->outputs; }
std::uint64_t Model::macs() const { return core_->info.macs; }
std::string Model::summary() const { return engine::model_summary(core_->info); }
std::string Model::summary_json() const { return engine::model_summary_json(core_->info); }

namespace {

engine::tensor engine_view(const Tensor& t) {
  return engine::tensor::wrap(to_engine(t.dtype()), t.shape(), const_cast<void*>(t.data()));
}

Tensor copy_out(const engine::tensor& t) {
  Tensor out(to_public(t.type()), t.shape());
  if (t.bytes()) std::memcpy(out.data(), t.raw(), t.bytes());
  return out;
}

}  // namespace

Tensor Model::quantize_and_pad(std::size_t input, const Tensor& host) const {
  if (input >= core_->info.inputs.size())
    throw InvalidArgument("model " + name() + " has " + std::to_string(core_->info.inputs.size()) +
                          " inputs; there is no input " + std::to_string(input));
  const auto& info = core_->info.inputs[input];
  return copy_out(unwrap(
      engine::quantize_and_pad(engine_view(host), info.type, info.quantization, info.padding)));
}

Tensor Model::depad_and_dequantize(std::size_t output, const Tensor& device) const {
  if (output >= core_->info.outputs.size())
    throw InvalidArgument("model " + name() + " has " +
                          std::to_string(core_->info.outputs.size()) +
                          " outputs; there is no output " + std::to_string(output));
  const auto& info = core_->info.outputs[output];
  return copy_out(
      unwrap(engine::depad_and_dequantize(engine_view(device), info.quantization, info.padding)));
}

}  // namespace edgert
