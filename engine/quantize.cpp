// Quantize/pad and depad/dequantize (see engine/quantize.hpp).
#include "engine/quantize.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

namespace edgert::engine {

namespace {

struct int_range {
  std::int32_t lo;
  std::int32_t hi;
};

std::optional<int_range> range_of(dtype t) {
  if (t == dtype::i8) return int_range{-128, 127};
  if (t == dtype::u8) return int_range{0, 255};
  return std::nullopt;
}

result<void> check_params(const quant_params& q, dtype t, const char* what) {
  auto range = range_of(t);
  if (!range)
    return fail(errc::not_implemented, std::string(what) + ": quantized type " +
                                           std::string(to_string(t)) +
                                           " is not supported (int8 and uint8 are)");
  if (!std::isfinite(q.scale) || q.scale <= 0.0f)
    return fail(errc::invalid_argument,
                std::string(what) + ": the scale must be positive and finite, not " +
                    std::to_string(q.scale));
  if (q.zero_point < range->lo || q.zero_point > range->hi)
    return fail(errc::invalid_argument, std::string(what) + ": zero point " +
                                            std::to_string(q.zero_point) + " is outside the " +
                                            std::string(to_string(t)) + " range");
  return {};
}

// Copies the logical block `inner` (shape `small`) into or out of the padded block `outer`
// (shape `big`), whose data starts at the offsets given by `before`. Row by row along the
// last dimension; element size `esize`.
void copy_block(const shape_t& small, const shape_t& big, const std::vector<dim_padding>& pad,
                std::size_t esize, std::byte* padded, std::byte* dense, bool into_padded) {
  const std::size_t rank = small.size();
  if (element_count(small) == 0) return;
  if (rank == 0) {
    if (into_padded) std::memcpy(padded, dense, esize);
    else std::memcpy(dense, padded, esize);
    return;
  }
  std::vector<std::int64_t> stride(rank, 1);
  for (std::size_t d = rank - 1; d > 0; --d) stride[d - 1] = stride[d] * big[d];
  const std::int64_t row = small[rank - 1];
  const std::int64_t rows = element_count(small) / row;
  std::vector<std::int64_t> index(rank, 0);
  for (std::int64_t r = 0; r < rows; ++r) {
    std::int64_t offset = pad[rank - 1].before;
    for (std::size_t d = 0; d + 1 < rank; ++d) offset += (index[d] + pad[d].before) * stride[d];
    std::byte* p = padded + static_cast<std::size_t>(offset) * esize;
    std::byte* q = dense + static_cast<std::size_t>(r * row) * esize;
    if (into_padded) std::memcpy(p, q, static_cast<std::size_t>(row) * esize);
    else std::memcpy(q, p, static_cast<std::size_t>(row) * esize);
    for (std::size_t d = rank - 1; d-- > 0;) {  // advance the index over dimensions 0..rank-2
      if (++index[d] < small[d]) break;
      index[d] = 0;
    }
  }
}

std::vector<dim_padding> full_padding(const std::vector<dim_padding>& padding, std::size_t rank) {
  return padding.empty() ? std::vector<dim_padding>(rank) : padding;
}

}  // namespace

bool operator==(const quant_params& a, const quant_params& b) noexcept {
  return a.scale == b.scale && a.zero_point == b.zero_point;
}

bool operator==(const dim_padding& a, const dim_padding& b) noexcept {
  return a.before == b.before && a.after == b.after;
}

bool is_unpadded(const std::vector<dim_padding>& padding) noexcept {
  for (const auto& p : padding)
    if (p.before != 0 || p.after != 0) return false;
  return true;
}

result<shape_t> padded_shape(const shape_t& logical, const std::vector<dim_padding>& padding) {
  if (padding.empty()) return logical;
  if (padding.size() != logical.size())
    return fail(errc::invalid_argument, "the padding has " + std::to_string(padding.size()) +
                                            " entries for a shape of rank " +
                                            std::to_string(logical.size()) + " " + to_string(logical));
  shape_t out(logical.size());
  for (std::size_t d = 0; d < logical.size(); ++d) {
    if (logical[d] < 0)
      return fail(errc::invalid_argument,
                  "dimension " + std::to_string(d) + " of " + to_string(logical) + " is unknown");
    if (padding[d].before < 0 || padding[d].after < 0)
      return fail(errc::invalid_argument,
                  "the padding of dimension " + std::to_string(d) + " is negative");
    out[d] = logical[d] + padding[d].before + padding[d].after;
  }
  return out;
}

std::int32_t quantize_value(float x, const quant_params& q, std::int32_t lo, std::int32_t hi) noexcept {
  if (std::isnan(x)) return std::min(std::max(q.zero_point, lo), hi);
  // nearbyint rounds half to even in the default rounding mode; clamping in float first
  // keeps the conversion to int defined for huge values and infinities.
  float r = std::nearbyint(x / q.scale) + static_cast<float>(q.zero_point);
  if (r <= static_cast<float>(lo)) return lo;
  if (r >= static_cast<float>(hi)) return hi;
  return static_cast<std::int32_t>(r);
}

result<tensor> quantize_and_pad(const tensor& host, dtype target, const std::optional<quant_params>& q,
                                const std::vector<dim_padding>& padding) {
  if (host.type() != dtype::f32)
    return fail(errc::invalid_argument, "quantize_and_pad: the host tensor must be float32, not " +
                                            std::string(to_string(host.type())));
  auto stored_shape = padded_shape(host.shape(), padding);
  if (!stored_shape) return fail(stored_shape.code(), "quantize_and_pad: " + stored_shape.error().message);
  const auto pad = full_padding(padding, host.rank());

  if (target == dtype::f32) {
    if (q)
      return fail(errc::invalid_argument,
                  "quantize_and_pad: quantization parameters given for a float32 target");
    tensor out(dtype::f32, *stored_shape);  // zero-filled: the float padding value
    copy_block(host.shape(), *stored_shape, pad, sizeof(float), static_cast<std::byte*>(out.raw()),
               const_cast<std::byte*>(static_cast<const std::byte*>(host.raw())), true);
    return out;
  }
  if (!q)
    return fail(errc::invalid_argument, "quantize_and_pad: the " + std::string(to_string(target)) +
                                            " target needs quantization parameters");
  if (auto ok = check_params(*q, target, "quantize_and_pad"); !ok) return ok.error();
  const auto range = *range_of(target);

  tensor dense(target, host.shape());
  const float* src = host.data<float>();
  for (std::int64_t i = 0; i < host.elements(); ++i) {
    std::int32_t v = quantize_value(src[i], *q, range.lo, range.hi);
    if (target == dtype::i8) dense.data<std::int8_t>()[i] = static_cast<std::int8_t>(v);
    else dense.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(v);
  }
  if (is_unpadded(pad)) return dense;

  tensor out(target, *stored_shape);
  if (target == dtype::i8) {
    auto* p = out.data<std::int8_t>();
    for (std::int64_t i = 0; i < out.elements(); ++i) p[i] = static_cast<std::int8_t>(q->zero_point);
  } else {
    auto* p = out.data<std::uint8_t>();
    for (std::int64_t i = 0; i < out.elements(); ++i) p[i] = static_cast<std::uint8_t>(q->zero_point);
  }
  copy_block(host.shape(), *stored_shape, pad, 1, static_cast<std::byte*>(out.raw()),
             static_cast<std::byte*>(dense.raw()), true);
  return out;
}

result<tensor> depad_and_dequantize(const tensor& stored, const std::optional<quant_params>& q,
                                    const std::vector<dim_padding>& padding) {
  const std::size_t rank = stored.rank();
  if (!padding.empty() && padding.size() != rank)
    return fail(errc::invalid_argument, "depad_and_dequantize: the padding has " +
                                            std::to_string(padding.size()) +
                                            " entries for a tensor of rank " + std::to_string(rank));
  const auto pad = full_padding(padding, rank);
  shape_t logical(rank);
  for (std::size_t d = 0; d < rank; ++d) {
    if (pad[d].before < 0 || pad[d].after < 0)
      return fail(errc::invalid_argument, "depad_and_dequantize: the padding of dimension " +
                                              std::to_string(d) + " is negative");
    logical[d] = stored.shape()[d] - pad[d].before - pad[d].after;
    if (logical[d] < 0)
      return fail(errc::invalid_argument,
                  "depad_and_dequantize: the padding of dimension " + std::to_string(d) +
                      " is larger than the stored extent " + std::to_string(stored.shape()[d]));
  }

  if (stored.type() == dtype::f32) {
    if (q)
      return fail(errc::invalid_argument,
                  "depad_and_dequantize: quantization parameters given for a float32 tensor");
    tensor out(dtype::f32, logical);
    copy_block(logical, stored.shape(), pad, sizeof(float),
               const_cast<std::byte*>(static_cast<const std::byte*>(stored.raw())),
               static_cast<std::byte*>(out.raw()), false);
    return out;
  }
  if (!q)
    return fail(errc::invalid_argument, "depad_and_dequantize: the " +
                                            std::string(to_string(stored.type())) +
                                            " tensor needs quantization parameters");
  if (auto ok = check_params(*q, stored.type(), "depad_and_dequantize"); !ok) return ok.error();

  tensor dense(stored.type(), logical);
  copy_block(logical, stored.shape(), pad, 1,
             const_cast<std::byte*>(static_cast<const std::byte*>(stored.raw())),
             static_cast<std::byte*>(dense.raw()), false);
  tensor out(dtype::f32, logical);
  float* dst = out.data<float>();
  for (std::int64_t i = 0; i < dense.elements(); ++i) {
    std::int32_t v = stored.type() == dtype::i8 ? dense.data<std::int8_t>()[i]
                                                 : dense.data<std::uint8_t>()[i];
    dst[i] = static_cast<float>(v - q->zero_point) * q->scale;
  }
  return out;
}

}  // namespace edgert::engine
