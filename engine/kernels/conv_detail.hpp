// Private: the convolution core shared by Conv (conv.cpp) and the integer convolutions
// (quantized_conv.cpp). Stateless; allocates only its column buffer.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "engine/kernels/gemm.hpp"
#include "engine/kernels/spatial.hpp"

namespace edgert::engine {

/// y[N][M][out...] = conv(x[N][C][in...], w[M][C/group][kernel...]) without bias, by im2col
/// and GEMM per image and group. T is a gemm() type; y must hold N*M*out_size elements.
template <class T>
void conv_forward(const T* x, const T* w, T* y, std::int64_t N, std::int64_t C, std::int64_t M,
                  std::int64_t group, const spatial::geometry& g) {
  const std::int64_t Cg = C / group, Mg = M / group;
  const std::int64_t in_size = g.in_size(), out_size = g.out_size(), depth = Cg * g.kernel_size();
  auto all_equal = [](const std::vector<std::int64_t>& v, std::int64_t value) {
    return std::all_of(v.begin(), v.end(), [value](std::int64_t e) { return e == value; });
  };
  // A 1x1 window with unit strides and no padding reads the image itself as the columns.
  const bool pointwise = all_equal(g.kernel, 1) && all_equal(g.strides, 1) && all_equal(g.pad_begin, 0) &&
                         all_equal(g.pad_end, 0);
  if (Cg == 1 && !pointwise) {
    // Depthwise: each output channel reads one input channel. Accumulate tap by tap straight
    // into the output rows (no column matrix; the inner loop runs along the output width).
    const std::int64_t taps = g.kernel_size(), width = g.out.back(), s = g.strides.back();
    std::fill(y, y + N * M * out_size, T{});
    for (std::int64_t n = 0; n < N; ++n)
      for (std::int64_t m = 0; m < M; ++m) {
        const T* xc = x + (n * C + m / Mg) * in_size;
        const T* wm = w + m * taps;
        T* ym = y + (n * M + m) * out_size;
        spatial::for_each_window_row(g.out, g.in, g, [&](std::int64_t tap, std::int64_t gr, std::int64_t base,
                                                         std::int64_t lo, std::int64_t hi) {
          if (base < 0) return;
          const T wv = wm[tap];
          const T* src = xc + base + (tap % g.kernel.back()) * g.dilations.back() - g.pad_begin.back();
          T* dst = ym + gr * width;
          if (s == 1)
            for (std::int64_t j = lo; j < hi; ++j) dst[j] += wv * src[j];
          else
            for (std::int64_t j = lo; j < hi; ++j) dst[j] += wv * src[j * s];
        });
      }
    return;
  }
  std::vector<T> col(pointwise ? 0 : static_cast<std::size_t>(depth * out_size));
  for (std::int64_t n = 0; n < N; ++n) {
    for (std::int64_t gi = 0; gi < group; ++gi) {
      const T* xg = x + (n * C + gi * Cg) * in_size;
      const T* cols = xg;
      if (!pointwise) {
        spatial::im2col(xg, Cg, g, col.data());
        cols = col.data();
      }
      gemm<T>(Mg, out_size, depth, w + gi * Mg * depth, depth, cols, out_size, y + (n * M + gi * Mg) * out_size,
              out_size, false);
    }
  }
}

}  // namespace edgert::engine
