// Loading ONNX models and tensors into the engine's own representation (engine/graph.hpp).
//
// The loader parses the protobuf with libonnx, runs ONNX shape inference so every value it
// can type gets a value_info, validates the graph (every input produced, no duplicate
// producers, no cycles) and returns a topologically sorted engine::graph. Whether the
// engine can run the graph's ops is decided later by the interpreter, not here.
//
// All functions are free of shared state and may be called from any thread concurrently.
// Tensors they return own their memory.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "engine/graph.hpp"

namespace onnx {
class TensorProto;
}

namespace edgert::engine {

/// Reads and converts an ONNX model file. External tensor data is looked up beside it.
/// io_error when the file cannot be read; invalid_argument for a malformed model;
/// not_implemented for legal ONNX the engine cannot represent (string tensors, sequence or
/// optional graph inputs, sparse tensor attributes).
result<graph> load_onnx_file(const std::filesystem::path& path);

/// Converts a serialised ModelProto. base_dir is where external data files are looked up.
result<graph> load_onnx_bytes(std::string_view bytes, const std::filesystem::path& base_dir);

/// Converts one TensorProto (raw_data, the typed repeated fields, or external data stored in
/// a file under base_dir).
result<tensor> tensor_from_proto(const onnx::TensorProto& proto,
                                 const std::filesystem::path& base_dir);

/// Reads a serialised TensorProto file, such as the input_0.pb / output_0.pb files of the ONNX
/// backend tests. When name is given it receives the proto's name field ("" if unset).
result<tensor> load_tensor_pb(const std::filesystem::path& path, std::string* name = nullptr);

}  // namespace edgert::engine
