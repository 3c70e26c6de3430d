// model_info: what a user needs to know about a model before running it, and a printable
// summary of it (the `edgert info` command).
//
// Sources, in order of precedence: the manifest.json beside the model (engine/manifest.hpp)
// for layout, quantization and padding; the ONNX graph (engine/onnx_loader.hpp) for names,
// types, shapes, op counts, parameters and MACs, and for quantization parameters that the
// graph itself states (a constant-parameter DequantizeLinear / QLinear* consuming an input,
// a QuantizeLinear / QLinear* producing an output); the ModelProto header for the producer,
// IR version and metadata.
//
// Plain data and stateless functions; any thread. A model_info holds no reference to the
// graph it was made from.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "engine/graph.hpp"
#include "engine/manifest.hpp"
#include "engine/quantize.hpp"

namespace edgert::engine {

struct plan_cost;

/// One graph input or output as the device stores it.
struct tensor_info {
  std::string name;
  dtype type = dtype::undefined;
  bool rank_known = true;         // false: the model does not say the rank (shape is empty)
  shape_t shape;                  // as stored, padding included; -1 for a run-time dimension
  shape_t unpadded_shape;         // the logical shape; equals shape when there is no padding
  std::string layout;             // "NCHW", "NC", ... or "" when unknown
  std::optional<quant_params> quantization;
  std::vector<dim_padding> padding;  // one entry per dimension, or empty for none

  /// Elements of the stored tensor; -1 when a dimension or the rank is unknown.
  std::int64_t elements() const noexcept;
  /// Bytes of the stored tensor; 0 when elements() is unknown.
  std::uint64_t size_bytes() const noexcept;
  bool is_static() const noexcept { return elements() >= 0; }
};

/// Fields of the ModelProto that the engine's graph does not keep.
struct model_header {
  std::int64_t ir_version = 0;
  std::string producer_name;
  std::string producer_version;
  std::string domain;
  std::int64_t model_version = 0;
  std::string doc_string;
  std::string graph_name;
  std::map<std::string, std::string> metadata;  // metadata_props
};

struct model_info {
  std::string name;                 // manifest name, else graph name, else file stem
  std::filesystem::path path;       // the model file ("" for an in-memory graph)
  std::filesystem::path manifest;   // the manifest used ("" for none)
  std::string description;          // manifest description, else the model's doc_string
  model_header header;
  std::map<std::string, std::int64_t> opsets;  // domain ("" = ai.onnx) -> version
  std::string quantization_format;  // "none", "qdq", "qoperator" or "integer"
  std::vector<tensor_info> inputs;
  std::vector<tensor_info> outputs;
  std::size_t node_count = 0;
  std::map<std::string, std::size_t> op_counts;  // "Conv", "com.microsoft.QLinearAdd", ...
  std::size_t initializer_count = 0;
  std::uint64_t parameter_count = 0;  // elements of all initializers
  std::uint64_t parameter_bytes = 0;
  std::uint64_t macs = 0;
  std::string macs_source;  // "plan" (plan_cost) or "shapes" (counted here)
  bool macs_complete = true;  // false: some Conv/Gemm/MatMul had unknown shapes
  std::vector<std::string> warnings;  // manifest/graph disagreements that were resolved
};

/// MACs of one run counted from static shapes: Conv / ConvInteger / QLinearConv (output
/// elements x input channels per group x kernel area), ConvTranspose (input elements x output
/// channels per group x kernel area), Gemm / MatMul / MatMulInteger / QLinearMatMul (output
/// elements x K). `complete` (if given) is cleared when a counted op has an unknown shape.
std::uint64_t count_macs(const graph& g, bool* complete = nullptr);

/// Reads the header fields of a serialised ModelProto without converting its tensors.
/// invalid_argument when the bytes are not a ModelProto.
result<model_header> read_model_header(std::string_view bytes);

/// Describes a loaded graph. The manifest, if given, must agree with the graph on names,
/// types and shapes (shape + padding = the graph's shape): invalid_argument otherwise.
result<model_info> describe_graph(const graph& g, const model_header& header,
                                  const model_manifest* manifest = nullptr);

/// Loads the model file and the manifest.json beside it (find_manifest_for) and describes
/// them. Fails like load_onnx_file, read_manifest and describe_graph. When `loaded` is given
/// it receives the graph, so a caller that also runs the model loads it only once.
result<model_info> describe_model_file(const std::filesystem::path& model_file,
                                       std::shared_ptr<const graph>* loaded = nullptr);

/// Replaces the counted MACs with a plan's (engine/plan.hpp), which sees fused graphs.
void apply_plan_cost(model_info& info, const plan_cost& cost);

/// A human-readable multi-line summary.
std::string model_summary(const model_info& info);
/// The same content as one JSON document (2-space indented).
std::string model_summary_json(const model_info& info);

}  // namespace edgert::engine
