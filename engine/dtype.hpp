// Element types the engine knows. Values follow ONNX's TensorProto.DataType numbering so a
// model's type field converts with a cast.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace edgert::engine {

enum class dtype : std::int32_t {
  undefined = 0,
  f32 = 1,
  u8 = 2,
  i8 = 3,
  u16 = 4,
  i16 = 5,
  i32 = 6,
  i64 = 7,
  string = 8,  // recognised so errors can name it; no kernel computes on strings
  boolean = 9,
  f16 = 10,
  f64 = 11,
  u32 = 12,
  u64 = 13,
  bf16 = 16,
};

/// Bytes per element; 0 for undefined and string.
std::size_t size_of(dtype t) noexcept;
/// "float32", "int8", ... (the names NumPy and the peer runtimes use).
std::string_view to_string(dtype t) noexcept;
/// True for the types tensors can hold (everything but undefined and string).
bool is_supported(dtype t) noexcept;
/// Converts an ONNX TensorProto.DataType value; undefined when unknown.
dtype from_onnx(std::int32_t onnx_type) noexcept;

/// Half-precision conversions (IEEE binary16 and bfloat16), round to nearest even.
float half_to_float(std::uint16_t h) noexcept;
std::uint16_t float_to_half(float f) noexcept;
float bfloat16_to_float(std::uint16_t b) noexcept;
std::uint16_t float_to_bfloat16(float f) noexcept;

}  // namespace edgert::engine
