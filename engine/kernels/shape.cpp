// The shape family's registration and the helpers its kernels share (shape_common.hpp).
#include <algorithm>
#include <cmath>
#include <limits>
#include <new>
#include <stdexcept>
#include <type_traits>

#include "engine/kernels/broadcast.hpp"
#include "engine/kernels/dispatch.hpp"
#include "engine/kernels/register.hpp"
#include "engine/kernels/shape_common.hpp"

namespace edgert::engine {

namespace shape_detail {

kernel_fn guarded(kernel_body body) {
  return [body](kernel_context& ctx) -> result<void> {
    try {
      if (ctx.outputs.size() < ctx.n.outputs.size()) ctx.outputs.resize(ctx.n.outputs.size());
      return body(ctx);
    } catch (const std::bad_alloc&) {
      return ctx.error(errc::out_of_memory, "not enough memory for the output");
    } catch (const std::exception& e) {
      return ctx.error(errc::internal_error, e.what());
    }
  };
}

bool wants_output(const kernel_context& ctx, std::size_t i) {
  return i < ctx.n.outputs.size() && !ctx.n.outputs[i].empty();
}

std::int64_t checked_count(const shape_t& shape) noexcept {
  std::int64_t n = 1;
  for (auto d : shape) {
    if (d < 0 || __builtin_mul_overflow(n, d, &n)) return -1;
  }
  return n;
}

result<void> allocate(kernel_context& ctx, std::size_t i, dtype type, const shape_t& shape) {
  auto count = checked_count(shape);
  if (count < 0) return ctx.invalid("output shape " + to_string(shape) + " is not a valid shape");
  // Refuse sizes whose byte count cannot be represented before asking the allocator.
  if (count > std::numeric_limits<std::int64_t>::max() / 16)
    return ctx.error(errc::out_of_memory, "output shape " + to_string(shape) + " is too large");
  if (ctx.outputs.size() <= i) ctx.outputs.resize(i + 1);
  ctx.outputs[i] = tensor(type, shape);
  return {};
}

result<void> require_input(const kernel_context& ctx, std::size_t i, const char* name) {
  if (!ctx.has_input(i)) return ctx.invalid(std::string("input '") + name + "' is missing");
  return {};
}

result<void> require_storable(const kernel_context& ctx, const tensor& t, const char* name) {
  if (size_of(t.type()) == 0)
    return ctx.unsupported(std::string("input '") + name + "' has type " +
                           std::string(to_string(t.type())) + ", which this kernel cannot hold");
  return {};
}

result<std::vector<std::int64_t>> read_ints(const kernel_context& ctx, const tensor& t,
                                            const char* name) {
  std::vector<std::int64_t> out(static_cast<std::size_t>(t.elements()));
  if (t.type() == dtype::i64) {
    std::copy_n(t.data<std::int64_t>(), out.size(), out.begin());
  } else if (t.type() == dtype::i32) {
    std::copy_n(t.data<std::int32_t>(), out.size(), out.begin());
  } else {
    return ctx.invalid(std::string("input '") + name + "' must be int64 or int32, not " +
                       std::string(to_string(t.type())));
  }
  return out;
}

result<double> read_scalar(const kernel_context& ctx, const tensor& t, const char* name) {
  if (t.elements() != 1)
    return ctx.invalid(std::string("input '") + name + "' must hold one value, its shape is " +
                       to_string(t.shape()));
  if (size_of(t.type()) == 0)
    return ctx.unsupported(std::string("input '") + name + "' has type " +
                           std::string(to_string(t.type())));
  return load_scalar(t.type(), t.raw(), 0);
}

result<std::int64_t> normalize_axis(const kernel_context& ctx, std::int64_t axis,
                                    std::int64_t rank, const char* what) {
  if (axis < -rank || axis >= rank)
    return ctx.invalid(std::string(what) + " " + std::to_string(axis) +
                       " is out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

result<std::vector<std::int64_t>> normalize_axes(const kernel_context& ctx,
                                                 const std::vector<std::int64_t>& axes,
                                                 std::int64_t rank, const char* what) {
  std::vector<std::int64_t> out;
  out.reserve(axes.size());
  for (auto a : axes) {
    auto n = normalize_axis(ctx, a, rank, what);
    if (!n) return n.error();
    if (std::find(out.begin(), out.end(), *n) != out.end())
      return ctx.invalid(std::string(what) + " " + std::to_string(a) + " is repeated");
    out.push_back(*n);
  }
  return out;
}

double load_scalar(dtype type, const void* data, std::int64_t i) noexcept {
  switch (type) {
    case dtype::boolean: return static_cast<const std::uint8_t*>(data)[i] != 0 ? 1.0 : 0.0;
    case dtype::f16: return half_to_float(static_cast<const std::uint16_t*>(data)[i]);
    case dtype::bf16: return bfloat16_to_float(static_cast<const std::uint16_t*>(data)[i]);
    default: break;
  }
  double value = 0;
  dispatch_numeric(type, [&](auto zero) {
    using T = decltype(zero);
    value = static_cast<double>(static_cast<const T*>(data)[i]);
  });
  return value;
}

void store_scalar(dtype type, void* data, std::int64_t i, double value) noexcept {
  switch (type) {
    case dtype::boolean: static_cast<std::uint8_t*>(data)[i] = value != 0 ? 1 : 0; return;
    case dtype::f16:
      static_cast<std::uint16_t*>(data)[i] = float_to_half(static_cast<float>(value));
      return;
    case dtype::bf16:
      static_cast<std::uint16_t*>(data)[i] = float_to_bfloat16(static_cast<float>(value));
      return;
    default: break;
  }
  dispatch_numeric(type, [&](auto zero) {
    using T = decltype(zero);
    T out{};
    if constexpr (std::is_floating_point_v<T>) {
      out = static_cast<T>(value);
    } else if (std::isnan(value)) {
      out = 0;
    } else if (value <= static_cast<double>(std::numeric_limits<T>::lowest())) {
      out = std::numeric_limits<T>::lowest();
    } else if (value >= static_cast<double>(std::numeric_limits<T>::max())) {
      out = std::numeric_limits<T>::max();
    } else {
      out = static_cast<T>(value);
    }
    static_cast<T*>(data)[i] = out;
  });
}

void fill_elements(void* dst, const void* value, std::size_t elem_size, std::int64_t count) {
  if (count <= 0) return;
  std::memcpy(dst, value, elem_size);
  // Doubling copies: each round copies everything written so far.
  std::int64_t done = 1;
  while (done < count) {
    auto chunk = std::min(done, count - done);
    std::memcpy(at(dst, done, elem_size), dst, static_cast<std::size_t>(chunk) * elem_size);
    done += chunk;
  }
}

namespace {

template <class U>
void strided_copy_as(U* dst, const U* src, const shape_t& shape,
                     const std::vector<std::int64_t>& strides, std::int64_t offset) {
  const std::size_t rank = shape.size();
  const std::int64_t total = element_count(shape);
  if (total <= 0) return;
  if (rank == 0) {
    *dst = src[offset];
    return;
  }
  const std::int64_t inner = shape[rank - 1];
  const std::int64_t step = strides[rank - 1];
  std::vector<std::int64_t> index(rank - 1, 0);
  std::int64_t base = offset;
  for (std::int64_t written = 0; written < total; written += inner) {
    const U* s = src + base;
    if (step == 1) {
      std::memcpy(dst, s, static_cast<std::size_t>(inner) * sizeof(U));
    } else {
      for (std::int64_t j = 0; j < inner; ++j) dst[j] = s[j * step];
    }
    dst += inner;
    for (std::size_t d = rank - 1; d-- > 0;) {
      if (++index[d] < shape[d]) {
        base += strides[d];
        break;
      }
      base -= strides[d] * (shape[d] - 1);
      index[d] = 0;
    }
  }
}

}  // namespace

void strided_copy(void* dst, const void* src, std::size_t elem_size, const shape_t& shape,
                  const std::vector<std::int64_t>& strides, std::int64_t offset) {
  switch (elem_size) {
    case 1:
      strided_copy_as(static_cast<std::uint8_t*>(dst), static_cast<const std::uint8_t*>(src),
                      shape, strides, offset);
      return;
    case 2:
      strided_copy_as(static_cast<std::uint16_t*>(dst), static_cast<const std::uint16_t*>(src),
                      shape, strides, offset);
      return;
    case 4:
      strided_copy_as(static_cast<std::uint32_t*>(dst), static_cast<const std::uint32_t*>(src),
                      shape, strides, offset);
      return;
    case 8:
      strided_copy_as(static_cast<std::uint64_t*>(dst), static_cast<const std::uint64_t*>(src),
                      shape, strides, offset);
      return;
    default:
      throw std::logic_error("strided_copy: unsupported element size " +
                             std::to_string(elem_size));
  }
}

void permuted_copy(void* dst, const tensor& in, const shape_t& view,
                   const std::vector<std::int64_t>& perm) {
  auto view_strides = contiguous_strides(view);
  shape_t permuted(perm.size());
  std::vector<std::int64_t> strides(perm.size());
  for (std::size_t i = 0; i < perm.size(); ++i) {
    permuted[i] = view[static_cast<std::size_t>(perm[i])];
    strides[i] = view_strides[static_cast<std::size_t>(perm[i])];
  }
  strided_copy(dst, in.raw(), size_of(in.type()), permuted, strides, 0);
}

}  // namespace shape_detail

void register_shape_kernels(kernel_registry& r) {
  shape_detail::register_reshape_kernels(r);
  shape_detail::register_slice_kernels(r);
  shape_detail::register_gather_kernels(r);
  shape_detail::register_create_kernels(r);
}

}  // namespace edgert::engine
