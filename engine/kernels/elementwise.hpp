// Private helpers shared by the element-wise, reduction and normalization reference kernels
// (unary*.cpp, binary*.cpp, reduce.cpp, normalization.cpp): exception guarding, half-precision
// widening, value conversion for Cast, axis handling and a broadcasting loop that walks the
// output in contiguous runs.
//
// Everything here is stateless; the functions may be called from any thread.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <new>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <vector>

#include "engine/kernel.hpp"
#include "engine/kernels/broadcast.hpp"
#include "engine/kernels/dispatch.hpp"

namespace edgert::engine::kernels {

/// Wraps a kernel so that allocation failures and other exceptions become failures instead
/// of escaping into the interpreter.
template <class F>
kernel_fn guarded(F fn) {
  return [fn](kernel_context& ctx) -> result<void> {
    try {
      return fn(ctx);
    } catch (const std::bad_alloc&) {
      return ctx.error(errc::out_of_memory, "out of memory while computing the output");
    } catch (const std::exception& e) {
      return ctx.error(errc::internal_error, std::string("kernel failed: ") + e.what());
    }
  };
}

inline bool is_half(dtype t) { return t == dtype::f16 || t == dtype::bf16; }
inline bool is_float(dtype t) { return t == dtype::f32 || t == dtype::f64 || is_half(t); }

/// A float32 copy of an f16/bf16 tensor (other types are returned unchanged, sharing storage).
tensor widen_half(const tensor& t);
/// The f16/bf16 (`target`) copy of a float32 tensor, rounding to nearest even.
tensor narrow_half(const tensor& t, dtype target);

/// Every element of a numeric, bool or half tensor as a double.
std::vector<double> to_doubles(const tensor& t);
/// The elements of an integer tensor (int64 or int32, as ONNX uses for axes, k, shapes).
std::optional<std::vector<std::int64_t>> to_int64s(const tensor& t);

/// `axis` resolved against `rank` (negative counts from the end), or nothing if out of range.
std::optional<std::int64_t> normalize_axis(std::int64_t axis, std::int64_t rank);

/// Storage types for half-precision values, so Cast can dispatch over every dtype at once.
struct f16_bits {
  std::uint16_t bits;
};
struct bf16_bits {
  std::uint16_t bits;
};

/// Calls f(T{}) for every dtype a tensor can hold, with f16_bits/bf16_bits for the halves.
template <class F>
bool dispatch_all(dtype t, F&& f) {
  if (t == dtype::f16) {
    f(f16_bits{});
    return true;
  }
  if (t == dtype::bf16) {
    f(bf16_bits{});
    return true;
  }
  if (t == dtype::boolean) {
    f(bool{});
    return true;
  }
  return dispatch_numeric(t, std::forward<F>(f));
}

/// Converts one value between element types following ONNX Cast: float to integer truncates
/// toward zero (NaN becomes 0 and out-of-range values saturate, where ONNX leaves the result
/// undefined), anything to bool is "not zero", halves go through float.
template <class D, class S>
D convert_value(S s) {
  if constexpr (std::is_same_v<S, f16_bits>) {
    return convert_value<D>(half_to_float(s.bits));
  } else if constexpr (std::is_same_v<S, bf16_bits>) {
    return convert_value<D>(bfloat16_to_float(s.bits));
  } else if constexpr (std::is_same_v<D, f16_bits>) {
    return f16_bits{float_to_half(convert_value<float>(s))};
  } else if constexpr (std::is_same_v<D, bf16_bits>) {
    return bf16_bits{float_to_bfloat16(convert_value<float>(s))};
  } else if constexpr (std::is_same_v<D, bool>) {
    return s != S{};
  } else if constexpr (std::is_integral_v<D> && std::is_floating_point_v<S>) {
    if (std::isnan(s)) return D{};
    S t = std::trunc(s);
    if (t <= static_cast<S>(std::numeric_limits<D>::lowest())) return std::numeric_limits<D>::lowest();
    if (t >= static_cast<S>(std::numeric_limits<D>::max())) return std::numeric_limits<D>::max();
    return static_cast<D>(t);
  } else {
    return static_cast<D>(s);
  }
}

/// A broadcast loop: the output shape with adjacent dimensions merged where every operand
/// allows it, and each operand's strides on those merged dimensions (0 where it broadcasts).
template <std::size_t N>
struct broadcast_plan {
  shape_t dims;
  std::array<std::vector<std::int64_t>, N> strides;
};

/// Plans reading each of `inputs` broadcast to `out`; every input must broadcast to `out`.
template <std::size_t N>
broadcast_plan<N> plan_broadcast(const shape_t& out, const std::array<shape_t, N>& inputs) {
  std::array<std::vector<std::int64_t>, N> full;
  for (std::size_t k = 0; k < N; ++k) full[k] = broadcast_strides(inputs[k], out);
  broadcast_plan<N> plan;
  for (std::size_t d = 0; d < out.size(); ++d) {
    if (out[d] == 1) continue;  // contributes nothing to any offset
    bool merge = !plan.dims.empty();
    for (std::size_t k = 0; merge && k < N; ++k)
      merge = plan.strides[k].back() == full[k][d] * out[d];
    if (merge) {
      plan.dims.back() *= out[d];
      for (std::size_t k = 0; k < N; ++k) plan.strides[k].back() = full[k][d];
    } else {
      plan.dims.push_back(out[d]);
      for (std::size_t k = 0; k < N; ++k) plan.strides[k].push_back(full[k][d]);
    }
  }
  return plan;
}

/// Calls body(offsets, inner_strides, count, out_offset) for each contiguous run of the
/// output: `count` output elements starting at `out_offset`, operand k's i-th element of the
/// run at offsets[k] + i * inner_strides[k].
template <std::size_t N, class F>
void for_each_run(const broadcast_plan<N>& plan, F&& body) {
  std::array<std::int64_t, N> offsets{};
  std::array<std::int64_t, N> inner{};
  const std::size_t rank = plan.dims.size();
  if (rank == 0) {
    body(offsets, inner, std::int64_t{1}, std::int64_t{0});
    return;
  }
  for (auto d : plan.dims)
    if (d == 0) return;
  for (std::size_t k = 0; k < N; ++k) inner[k] = plan.strides[k][rank - 1];
  const std::int64_t count = plan.dims[rank - 1];
  std::vector<std::int64_t> index(rank, 0);
  std::int64_t out = 0;
  for (;;) {
    body(offsets, inner, count, out);
    out += count;
    std::size_t d = rank - 1;
    for (;;) {
      if (d == 0) return;
      --d;
      if (++index[d] < plan.dims[d]) {
        for (std::size_t k = 0; k < N; ++k) offsets[k] += plan.strides[k][d];
        break;
      }
      for (std::size_t k = 0; k < N; ++k) offsets[k] -= plan.strides[k][d] * (plan.dims[d] - 1);
      index[d] = 0;
    }
  }
}

/// out[i] = op(a[i], b[i]) over the broadcast of a and b to out's shape.
template <class TA, class TB, class TO, class Op>
void broadcast_binary(const tensor& a, const tensor& b, tensor& out, Op op) {
  auto plan = plan_broadcast<2>(out.shape(), {a.shape(), b.shape()});
  const TA* pa = a.data<TA>();
  const TB* pb = b.data<TB>();
  TO* po = out.data<TO>();
  for_each_run(plan, [&](const std::array<std::int64_t, 2>& off,
                         const std::array<std::int64_t, 2>& step, std::int64_t n, std::int64_t o) {
    const TA* x = pa + off[0];
    const TB* y = pb + off[1];
    TO* z = po + o;
    if (step[0] == 1 && step[1] == 1) {
      for (std::int64_t i = 0; i < n; ++i) z[i] = op(x[i], y[i]);
    } else if (step[0] == 1 && step[1] == 0) {
      const TB yv = *y;
      for (std::int64_t i = 0; i < n; ++i) z[i] = op(x[i], yv);
    } else if (step[0] == 0 && step[1] == 1) {
      const TA xv = *x;
      for (std::int64_t i = 0; i < n; ++i) z[i] = op(xv, y[i]);
    } else {
      for (std::int64_t i = 0; i < n; ++i) z[i] = op(x[i * step[0]], y[i * step[1]]);
    }
  });
}

}  // namespace edgert::engine::kernels
