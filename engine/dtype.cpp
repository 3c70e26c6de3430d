#include "engine/dtype.hpp"

#include <cmath>
#include <cstring>

namespace edgert::engine {

std::size_t size_of(dtype t) noexcept {
  switch (t) {
    case dtype::f32: case dtype::i32: case dtype::u32: return 4;
    case dtype::f64: case dtype::i64: case dtype::u64: return 8;
    case dtype::f16: case dtype::bf16: case dtype::i16: case dtype::u16: return 2;
    case dtype::i8: case dtype::u8: case dtype::boolean: return 1;
    case dtype::undefined: case dtype::string: return 0;
  }
  return 0;
}

std::string_view to_string(dtype t) noexcept {
  switch (t) {
    case dtype::undefined: return "undefined";
    case dtype::f32: return "float32";
    case dtype::u8: return "uint8";
    case dtype::i8: return "int8";
    case dtype::u16: return "uint16";
    case dtype::i16: return "int16";
    case dtype::i32: return "int32";
    case dtype::i64: return "int64";
    case dtype::string: return "string";
    case dtype::boolean: return "bool";
    case dtype::f16: return "float16";
    case dtype::f64: return "float64";
    case dtype::u32: return "uint32";
    case dtype::u64: return "uint64";
    case dtype::bf16: return "bfloat16";
  }
  return "unknown";
}

bool is_supported(dtype t) noexcept { return size_of(t) != 0; }

dtype from_onnx(std::int32_t onnx_type) noexcept {
  switch (onnx_type) {
    case 1: case 2: case 3: case 4: case 5: case 6: case 7: case 8: case 9: case 10: case 11:
    case 12: case 13: case 16:
      return static_cast<dtype>(onnx_type);
    default:
      return dtype::undefined;
  }
}

float half_to_float(std::uint16_t h) noexcept {
  std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  std::uint32_t exponent = (h >> 10) & 0x1fu;
  std::uint32_t mantissa = h & 0x3ffu;
  float magnitude;
  if (exponent == 0)
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);
  else if (exponent == 31)
    magnitude = mantissa ? NAN : INFINITY;
  else
    magnitude = std::ldexp(static_cast<float>(mantissa | 0x400u), static_cast<int>(exponent) - 25);
  std::uint32_t bits;
  std::memcpy(&bits, &magnitude, 4);
  bits |= sign;
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

std::uint16_t float_to_half(float f) noexcept {
  std::uint32_t bits;
  std::memcpy(&bits, &f, 4);
  std::uint16_t sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
  float a = std::fabs(f);
  if (std::isnan(f)) return static_cast<std::uint16_t>(sign | 0x7e00u);
  if (a >= 65520.0f) return static_cast<std::uint16_t>(sign | 0x7c00u);  // rounds to infinity
  if (a < 6.103515625e-05f) {  // subnormal half: multiples of 2^-24
    float scaled = std::nearbyint(a * 16777216.0f);  // round half to even
    return static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(scaled));
  }
  int exponent;
  float m = std::frexp(a, &exponent);  // a = m * 2^exponent, m in [0.5, 1)
  float scaled = std::nearbyint(m * 2048.0f);  // 11 significant bits
  if (scaled >= 2048.0f) {
    scaled /= 2.0f;
    ++exponent;
  }
  auto e = static_cast<std::uint16_t>(exponent + 14);
  if (e >= 31) return static_cast<std::uint16_t>(sign | 0x7c00u);
  return static_cast<std::uint16_t>(sign | (e << 10) | (static_cast<std::uint16_t>(scaled) & 0x3ffu));
}

float bfloat16_to_float(std::uint16_t b) noexcept {
  std::uint32_t bits = static_cast<std::uint32_t>(b) << 16;
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

std::uint16_t float_to_bfloat16(float f) noexcept {
  std::uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if (std::isnan(f)) return static_cast<std::uint16_t>((bits >> 16) | 0x40u);
  std::uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>((bits + rounding) >> 16);
}

}  // namespace edgert::engine
