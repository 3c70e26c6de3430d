// Private helpers shared by the sliding-window kernels (conv.cpp, conv_transpose.cpp,
// pool.cpp, quantized_conv.cpp): reading the kernel/stride/pad attributes of a node and
// computing the output geometry, plus the half-precision promotion wrapper. Everything here
// is stateless and safe to call from any thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "engine/kernel.hpp"

namespace edgert::engine::spatial {

/// The resolved window geometry of one node over the spatial axes (everything after N, C).
struct geometry {
  std::vector<std::int64_t> in;         // input spatial extents
  std::vector<std::int64_t> kernel;     // window extents (undilated)
  std::vector<std::int64_t> strides;
  std::vector<std::int64_t> dilations;
  std::vector<std::int64_t> pad_begin;
  std::vector<std::int64_t> pad_end;
  std::vector<std::int64_t> out;        // output spatial extents

  std::size_t rank() const { return in.size(); }
  std::int64_t in_size() const;   // product of `in`
  std::int64_t out_size() const;  // product of `out`
  std::int64_t kernel_size() const;
};

/// Options that differ between Conv and the pooling operators.
struct window_options {
  bool ceil_mode = false;        // pooling: round the output extent up
  bool allow_dilations = true;   // false for ops without a dilations attribute
};

/// Reads strides, dilations, pads and auto_pad from `ctx.n`, with `kernel` already resolved
/// (from kernel_shape or the weights), and computes the output extents. Fails with a message
/// naming the node on inconsistent attributes or an empty output.
result<geometry> resolve(const kernel_context& ctx, const std::vector<std::int64_t>& in,
                         const std::vector<std::int64_t>& kernel, const window_options& opt);

/// Runs `body` with every float16/bfloat16 input converted to float32, then converts every
/// float32 output back to the half type of input 0. Inputs of other types pass through.
/// For kernels whose ONNX definition allows float16 and that compute in float.
result<void> with_half_promoted(kernel_context& ctx,
                                result<void> (*body)(kernel_context&));

/// Runs `body` and turns a std::bad_alloc or std::exception escaping it into a failure.
result<void> guarded(kernel_context& ctx, result<void> (*body)(kernel_context&));

/// "[1, 2, 3]" for messages.
std::string list(const std::vector<std::int64_t>& v);

/// Walks a sliding window in both directions of a convolution. For every kernel tap `k` and
/// every position `p` of `grid` (row-major, the last axis innermost), the data position is
/// p * stride + k * dilation - pad_begin per axis. `row(tap, grid_row, data_base, lo, hi)`
/// is called once per tap and grid row (all axes but the last fixed): grid positions
/// [lo, hi) of the last axis hit the data, the last-axis data index of grid position j being
/// j * stride + k_last * dilation - pad_begin; `data_base` is the flat data offset of the row
/// with the last axis at 0, or -1 when the row lies outside the data on an outer axis.
template <class Row>
void for_each_window_row(const std::vector<std::int64_t>& grid, const std::vector<std::int64_t>& data,
                         const geometry& g, Row&& row) {
  const std::size_t r = grid.size();
  if (r == 0 || data.size() != r) return;
  const std::int64_t last_grid = grid[r - 1];
  std::int64_t grid_rows = 1;
  for (std::size_t d = 0; d + 1 < r; ++d) grid_rows *= grid[d];
  const std::int64_t taps = g.kernel_size();
  std::vector<std::int64_t> k(r, 0), p(r, 0);
  for (std::int64_t tap = 0; tap < taps; ++tap) {
    // Last-axis range of grid positions that land inside the data for this tap.
    const std::int64_t s = g.strides[r - 1];
    const std::int64_t off = k[r - 1] * g.dilations[r - 1] - g.pad_begin[r - 1];
    std::int64_t lo = off >= 0 ? 0 : (-off + s - 1) / s;
    std::int64_t hi = data[r - 1] - off <= 0 ? 0 : (data[r - 1] - off + s - 1) / s;
    if (hi > last_grid) hi = last_grid;
    if (lo > hi) lo = hi;
    std::fill(p.begin(), p.end(), 0);
    for (std::int64_t gr = 0; gr < grid_rows; ++gr) {
      std::int64_t base = 0;
      for (std::size_t d = 0; d + 1 < r; ++d) {
        const std::int64_t pos = p[d] * g.strides[d] + k[d] * g.dilations[d] - g.pad_begin[d];
        if (pos < 0 || pos >= data[d]) {
          base = -1;
          break;
        }
        base = base * data[d] + pos;
      }
      if (base >= 0) base *= data[r - 1];
      row(tap, gr, base, lo, hi);
      for (std::size_t d = r - 1; d-- > 0;) {
        if (++p[d] < grid[d]) break;
        p[d] = 0;
      }
    }
    for (std::size_t d = r; d-- > 0;) {
      if (++k[d] < g.kernel[d]) break;
      k[d] = 0;
    }
  }
}

/// Copies the receptive fields of one image into the column matrix
/// col[channels * kernel_size][out_size] (row = channel-major, then kernel tap); positions in
/// the padding get `pad_value`.
template <class T>
void im2col(const T* x, std::int64_t channels, const geometry& g, T* col, T pad_value = T{}) {
  const std::int64_t in_size = g.in_size(), out_size = g.out_size(), taps = g.kernel_size();
  const std::int64_t width = g.out.back(), s = g.strides.back();
  for (std::int64_t c = 0; c < channels; ++c) {
    const T* xc = x + c * in_size;
    for_each_window_row(g.out, g.in, g, [&](std::int64_t tap, std::int64_t gr, std::int64_t base,
                                            std::int64_t lo, std::int64_t hi) {
      T* dst = col + (c * taps + tap) * out_size + gr * width;
      if (base < 0) {
        std::fill(dst, dst + width, pad_value);
        return;
      }
      const std::int64_t k_last = tap % g.kernel.back();
      const T* src = xc + base + k_last * g.dilations.back() - g.pad_begin.back();
      std::fill(dst, dst + lo, pad_value);
      if (s == 1)
        std::copy(src + lo, src + hi, dst + lo);
      else
        for (std::int64_t j = lo; j < hi; ++j) dst[j] = src[j * s];
      std::fill(dst + hi, dst + width, pad_value);
    });
  }
}

}  // namespace edgert::engine::spatial
