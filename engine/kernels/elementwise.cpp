#include "engine/kernels/elementwise.hpp"

namespace edgert::engine::kernels {

tensor widen_half(const tensor& t) {
  if (!is_half(t.type())) return t;
  tensor out(dtype::f32, t.shape());
  const auto* in = t.data<std::uint16_t>();
  float* o = out.data<float>();
  const std::int64_t n = t.elements();
  if (t.type() == dtype::f16)
    for (std::int64_t i = 0; i < n; ++i) o[i] = half_to_float(in[i]);
  else
    for (std::int64_t i = 0; i < n; ++i) o[i] = bfloat16_to_float(in[i]);
  return out;
}

tensor narrow_half(const tensor& t, dtype target) {
  tensor out(target, t.shape());
  const float* in = t.data<float>();
  auto* o = out.data<std::uint16_t>();
  const std::int64_t n = t.elements();
  if (target == dtype::f16)
    for (std::int64_t i = 0; i < n; ++i) o[i] = float_to_half(in[i]);
  else
    for (std::int64_t i = 0; i < n; ++i) o[i] = float_to_bfloat16(in[i]);
  return out;
}

std::vector<double> to_doubles(const tensor& t) {
  std::vector<double> out(static_cast<std::size_t>(t.elements()));
  dispatch_all(t.type(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = t.data<T>();
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = convert_value<double>(p[i]);
  });
  return out;
}

std::optional<std::vector<std::int64_t>> to_int64s(const tensor& t) {
  std::vector<std::int64_t> out(static_cast<std::size_t>(t.elements()));
  if (t.type() == dtype::i64) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = t.data<std::int64_t>()[i];
  } else if (t.type() == dtype::i32) {
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = t.data<std::int32_t>()[i];
  } else {
    return std::nullopt;
  }
  return out;
}

std::optional<std::int64_t> normalize_axis(std::int64_t axis, std::int64_t rank) {
  if (axis < -rank || axis >= rank) return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

}  // namespace edgert::engine::kernels
