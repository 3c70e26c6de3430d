// NumPy .npy files: the simplest way to move tensors between edgert and Python.
//
// Reading accepts format versions 1.0, 2.0 and 3.0, little- or big-endian numeric types,
// '|b1' booleans and 'f2' halves, in C order (Fortran order is not_implemented). Malformed
// files give invalid_argument with the reason; no input can crash the reader. Writing
// produces format 1.0 (2.0 if the header would not fit), little-endian, C order.
//
// Stateless; safe to call from any thread.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "engine/tensor.hpp"

namespace edgert::engine {

result<tensor> read_npy(const std::filesystem::path& path);
result<tensor> parse_npy(std::string_view bytes);

/// not_implemented for types NumPy has no standard descriptor for (bfloat16).
result<void> write_npy(const std::filesystem::path& path, const tensor& t);
/// The file contents for t. Precondition: t's type has a NumPy descriptor (anything but
/// bfloat16, string and undefined); otherwise throws std::invalid_argument.
std::string encode_npy(const tensor& t);

}  // namespace edgert::engine
