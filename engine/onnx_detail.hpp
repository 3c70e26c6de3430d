// Helpers shared by the ONNX loader's source files (onnx_loader.cpp, onnx_tensor.cpp); not
// part of the engine's interface.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "common/result.hpp"

namespace edgert::engine {

/// "float32", "string", "complex64", or "unknown data type 42" for an ONNX data type value.
std::string onnx_type_name(std::int32_t onnx_type);

/// The whole file; io_error naming the path if it is missing, a directory or unreadable.
result<std::string> read_file_bytes(const std::filesystem::path& path);

/// Builds libonnx's operator schema registry now rather than at the first model load, so
/// processes forked afterwards share it instead of each building their own.
void prepare_onnx_schemas();

}  // namespace edgert::engine
