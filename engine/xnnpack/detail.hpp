// Private helpers of the XNNPACK operator wrappers (qconv.cpp, qgemm.cpp, pool.cpp): operator
// ownership, status translation, the sign-bit flip between uint8 and int8, and a byte buffer
// with XNNPACK's read slack. Include from engine/xnnpack/*.cpp only; it pulls in xnnpack.h.
// Everything here is stateless apart from the objects a caller owns.
#pragma once

#include <xnnpack.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "engine/dtype.hpp"
#include "engine/xnnpack/runtime.hpp"

namespace edgert::engine::xnn::detail {

struct operator_deleter {
  void operator()(xnn_operator_t op) const noexcept {
    if (op != nullptr) xnn_delete_operator(op);
  }
};
/// Owns one XNNPACK operator; deleting it frees the operator's packed weights and buffers.
using operator_ptr = std::unique_ptr<xnn_operator, operator_deleter>;

/// Translates an XNNPACK status of `what` ("creating the qs8 convolution") into a result.
inline result<void> check(xnn_status status, const std::string& what) {
  switch (status) {
    case xnn_status_success:
      return {};
    case xnn_status_invalid_parameter:
      return fail(errc::invalid_argument, "XNNPACK rejected the parameters when " + what);
    case xnn_status_unsupported_parameter:
      return fail(errc::not_implemented, "XNNPACK does not support the parameters when " + what);
    case xnn_status_unsupported_hardware:
      return fail(errc::not_implemented, "XNNPACK does not support this CPU when " + what);
    case xnn_status_out_of_memory:
      return fail(errc::out_of_memory, "XNNPACK ran out of memory when " + what);
    default:
      return fail(errc::internal_error,
                  "XNNPACK failed with status " + std::to_string(static_cast<int>(status)) + " when " + what);
  }
}

/// dst[i] = src[i] ^ 0x80: uint8 v <-> int8 v - 128 (the same bits both ways). src may equal dst.
inline void flip_sign_bits(const void* src, void* dst, std::size_t bytes) noexcept {
  const auto* s = static_cast<const unsigned char*>(src);
  auto* d = static_cast<unsigned char*>(dst);
  std::size_t i = 0;
  constexpr std::uint64_t mask = 0x8080808080808080ull;
  for (; i + 8 <= bytes; i += 8) {
    std::uint64_t v;
    std::memcpy(&v, s + i, 8);
    v ^= mask;
    std::memcpy(d + i, &v, 8);
  }
  for (; i < bytes; ++i) d[i] = static_cast<unsigned char>(s[i] ^ 0x80u);
}

inline bool is_q8(dtype t) noexcept { return t == dtype::u8 || t == dtype::i8; }
inline std::int32_t type_min(dtype t) noexcept { return t == dtype::i8 ? -128 : 0; }
inline std::int32_t type_max(dtype t) noexcept { return t == dtype::i8 ? 127 : 255; }
inline bool in_range(std::int64_t v, dtype t) noexcept { return v >= type_min(t) && v <= type_max(t); }
/// A scale XNNPACK accepts: finite, normal and positive.
inline bool good_scale(float s) noexcept { return std::isnormal(s) && s > 0.f; }
inline const char* short_name(dtype t) noexcept { return t == dtype::i8 ? "s8" : t == dtype::u8 ? "u8" : "f32"; }

/// A heap byte buffer with input_slack_bytes of slack after `size` bytes, allocated once.
class scratch {
 public:
  void resize(std::size_t size) { bytes_.assign(size + input_slack_bytes, 0); }
  void* data() noexcept { return bytes_.data(); }
  bool empty() const noexcept { return bytes_.empty(); }

 private:
  std::vector<unsigned char> bytes_;
};

}  // namespace edgert::engine::xnn::detail
