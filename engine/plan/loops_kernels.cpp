#include "engine/plan/loops_kernels.hpp"

#include <algorithm>
#include <limits>

// The hot loops are compiled for AVX-512 and AVX2 as well as the baseline, and the loader
// picks the best the CPU has (GCC function multi-versioning).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define EDGERT_MULTIVERSION __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define EDGERT_MULTIVERSION
#endif
#define EDGERT_INLINE inline __attribute__((always_inline))

// The vector helpers below are always inlined into the multi-versioned kernels, so the
// baseline ABI note GCC gives for 32-byte vectors does not apply.
#pragma GCC diagnostic ignored "-Wpsabi"

namespace edgert::engine::planning::loops {

namespace {

using v8 = float __attribute__((vector_size(32)));

EDGERT_INLINE v8 load8(const float* p) {
  v8 v;
  __builtin_memcpy(&v, p, sizeof v);
  return v;
}
EDGERT_INLINE void store8(float* p, v8 v) { __builtin_memcpy(p, &v, sizeof v); }
EDGERT_INLINE v8 splat8(float x) { return v8{x, x, x, x, x, x, x, x}; }

// The window taps of output pixel (h0, w0) that fall inside the image.
struct tap_range {
  std::int64_t kh_lo, kh_hi, kw_lo, kw_hi;
};

EDGERT_INLINE tap_range taps_inside(const pool_geometry& g, std::int64_t h0, std::int64_t w0) {
  tap_range r{0, g.kernel_h, 0, g.kernel_w};
  while (r.kh_lo < r.kh_hi && h0 + r.kh_lo * g.dilation_h < 0) ++r.kh_lo;
  while (r.kh_hi > r.kh_lo && h0 + (r.kh_hi - 1) * g.dilation_h >= g.in_h) --r.kh_hi;
  while (r.kw_lo < r.kw_hi && w0 + r.kw_lo * g.dilation_w < 0) ++r.kw_lo;
  while (r.kw_hi > r.kw_lo && w0 + (r.kw_hi - 1) * g.dilation_w >= g.in_w) --r.kw_hi;
  return r;
}

// The average pooling divisor: taps inside the image, or inside the padded image.
EDGERT_INLINE float average_scale(const pool_geometry& g, const tap_range& r, std::int64_t h0, std::int64_t w0) {
  std::int64_t count = (r.kh_hi - r.kh_lo) * (r.kw_hi - r.kw_lo);
  if (g.count_include_pad) {
    std::int64_t ph = 0, pw = 0;
    for (std::int64_t kh = 0; kh < g.kernel_h; ++kh) {
      const std::int64_t h = h0 + kh * g.dilation_h;
      ph += h >= -g.pad_top && h < g.in_h + g.pad_bottom;
    }
    for (std::int64_t kw = 0; kw < g.kernel_w; ++kw) {
      const std::int64_t w = w0 + kw * g.dilation_w;
      pw += w >= -g.pad_left && w < g.in_w + g.pad_right;
    }
    count = ph * pw;
  }
  return count > 0 ? 1.0f / static_cast<float>(count) : 0.0f;
}

// One output pixel over V * 8 contiguous channels, accumulated in vector registers.
template <int V, bool Max>
EDGERT_INLINE void pool_pixel_vec(const float* s, float* out, const channel_view& in, const pool_geometry& g,
                                  std::int64_t h0, std::int64_t w0) {
  const tap_range r = taps_inside(g, h0, w0);
  v8 acc[V];
  for (int v = 0; v < V; ++v) acc[v] = splat8(Max ? -std::numeric_limits<float>::infinity() : 0.0f);
  for (std::int64_t kh = r.kh_lo; kh < r.kh_hi; ++kh) {
    const float* row = s + (h0 + kh * g.dilation_h) * g.in_w * in.pixel_stride;
    for (std::int64_t kw = r.kw_lo; kw < r.kw_hi; ++kw) {
      const float* p = row + (w0 + kw * g.dilation_w) * in.pixel_stride;
      for (int v = 0; v < V; ++v) {
        const v8 x = load8(p + 8 * v);
        if (Max) acc[v] = acc[v] > x ? acc[v] : x;
        else acc[v] += x;
      }
    }
  }
  if (!Max) {
    const v8 scale = splat8(average_scale(g, r, h0, w0));
    for (int v = 0; v < V; ++v) acc[v] *= scale;
  }
  for (int v = 0; v < V; ++v) store8(out + 8 * v, acc[v]);
}

// One output pixel over any number of contiguous channels, accumulated in the output.
EDGERT_INLINE void pool_pixel_any(const float* __restrict s, float* __restrict out, const channel_view& in,
                                  const pool_geometry& g, std::int64_t h0, std::int64_t w0) {
  const tap_range r = taps_inside(g, h0, w0);
  const std::int64_t lanes = in.lanes;
  const float start = g.max ? -std::numeric_limits<float>::infinity() : 0.0f;
  for (std::int64_t l = 0; l < lanes; ++l) out[l] = start;
  for (std::int64_t kh = r.kh_lo; kh < r.kh_hi; ++kh) {
    const float* row = s + (h0 + kh * g.dilation_h) * g.in_w * in.pixel_stride;
    for (std::int64_t kw = r.kw_lo; kw < r.kw_hi; ++kw) {
      const float* p = row + (w0 + kw * g.dilation_w) * in.pixel_stride;
      if (g.max)
        for (std::int64_t l = 0; l < lanes; ++l) out[l] = out[l] > p[l] ? out[l] : p[l];
      else
        for (std::int64_t l = 0; l < lanes; ++l) out[l] += p[l];
    }
  }
  if (!g.max) {
    const float scale = average_scale(g, r, h0, w0);
    for (std::int64_t l = 0; l < lanes; ++l) out[l] *= scale;
  }
}

// Calls pixel(s, out, h0, w0) for every output pixel of every image and channel block.
template <class Pixel>
EDGERT_INLINE void for_each_pixel(const float* src, const channel_view& in, float* dst, const channel_view& out,
                                  std::int64_t batch, const pool_geometry& g, Pixel&& pixel) {
  for (std::int64_t n = 0; n < batch; ++n)
    for (std::int64_t j = 0; j < in.blocks; ++j) {
      const float* s = src + n * in.batch_stride + j * in.block_stride;
      float* d = dst + n * out.batch_stride + j * out.block_stride;
      for (std::int64_t oh = 0; oh < g.out_h; ++oh)
        for (std::int64_t ow = 0; ow < g.out_w; ++ow)
          pixel(s, d + (oh * g.out_w + ow) * out.pixel_stride, oh * g.stride_h - g.pad_top, ow * g.stride_w - g.pad_left);
    }
}

// Sum or max over the pixels of one block of V * 8 channels, of which `valid` are real.
template <int V>
EDGERT_INLINE void global_block_vec(const float* s, float* dst, const channel_view& in, bool max, std::int64_t valid) {
  v8 acc[V];
  for (int v = 0; v < V; ++v) acc[v] = splat8(max ? -std::numeric_limits<float>::infinity() : 0.0f);
  for (std::int64_t p = 0; p < in.pixels; ++p)
    for (int v = 0; v < V; ++v) {
      const v8 x = load8(s + p * in.pixel_stride + 8 * v);
      acc[v] = max ? (acc[v] > x ? acc[v] : x) : acc[v] + x;
    }
  float lanes[V * 8];
  for (int v = 0; v < V; ++v) store8(lanes + 8 * v, acc[v]);
  const float scale = max ? 1.0f : 1.0f / static_cast<float>(in.pixels);
  for (std::int64_t l = 0; l < valid; ++l) dst[l] = lanes[l] * scale;
}

// The same over any number of channels, accumulated in the output.
EDGERT_INLINE void global_block_any(const float* __restrict s, float* __restrict dst, const channel_view& in, bool max,
                                    std::int64_t valid) {
  for (std::int64_t l = 0; l < valid; ++l) dst[l] = max ? -std::numeric_limits<float>::infinity() : 0.0f;
  for (std::int64_t p = 0; p < in.pixels; ++p) {
    const float* px = s + p * in.pixel_stride;
    if (max)
      for (std::int64_t l = 0; l < valid; ++l) dst[l] = dst[l] > px[l] ? dst[l] : px[l];
    else
      for (std::int64_t l = 0; l < valid; ++l) dst[l] += px[l];
  }
  if (!max)
    for (std::int64_t l = 0; l < valid; ++l) dst[l] *= 1.0f / static_cast<float>(in.pixels);
}

EDGERT_INLINE float act_one(float x, const activation& a) { return a.apply(x); }

EDGERT_INLINE void activate_inline(float* dst, std::size_t count, const std::vector<activation>& acts) {
  for (const activation& a : acts) {
    if (a.k == activation::kind::relu) {
      for (std::size_t i = 0; i < count; ++i) dst[i] = std::max(dst[i], 0.0f);
    } else if (a.k == activation::kind::clip) {
      const float lo = a.alpha, hi = a.beta;
      for (std::size_t i = 0; i < count; ++i) dst[i] = std::min(std::max(dst[i], lo), hi);
    } else {
      for (std::size_t i = 0; i < count; ++i) dst[i] = act_one(dst[i], a);
    }
  }
}

}  // namespace

bool view_of(const layout& l, const shape_t& shape, channel_view& v) {
  if (shape.size() < 3) return false;
  std::int64_t pixels = 1;
  for (std::size_t d = 2; d < shape.size(); ++d) pixels *= shape[d];
  const std::int64_t C = shape[1];
  v.channels = C;
  v.pixels = pixels;
  switch (l.k) {
    case layout::kind::plain:
      v.lanes = 1;
      v.blocks = C;
      v.block_stride = pixels;
      v.pixel_stride = 1;
      v.batch_stride = C * pixels;
      return true;
    case layout::kind::channel_blocked:
      v.lanes = l.block;
      v.blocks = (C + l.block - 1) / l.block;
      v.block_stride = pixels * l.block;
      v.pixel_stride = l.block;
      v.batch_stride = v.blocks * v.block_stride;
      return true;
    case layout::kind::channels_last:
      v.lanes = C;
      v.blocks = 1;
      v.block_stride = 0;
      v.pixel_stride = C;
      v.batch_stride = C * pixels;
      return true;
    case layout::kind::opaque: return false;
  }
  return false;
}

EDGERT_MULTIVERSION
void pool2d(const float* src, const channel_view& in, float* dst, const channel_view& out, std::int64_t batch,
            const pool_geometry& g) {
  auto run = [&](auto pixel) { for_each_pixel(src, in, dst, out, batch, g, pixel); };
  const auto& i = in;
  if (in.lanes == 16 && g.max)
    run([&](const float* s, float* o, std::int64_t h, std::int64_t w) { pool_pixel_vec<2, true>(s, o, i, g, h, w); });
  else if (in.lanes == 16)
    run([&](const float* s, float* o, std::int64_t h, std::int64_t w) { pool_pixel_vec<2, false>(s, o, i, g, h, w); });
  else if (in.lanes == 8 && g.max)
    run([&](const float* s, float* o, std::int64_t h, std::int64_t w) { pool_pixel_vec<1, true>(s, o, i, g, h, w); });
  else if (in.lanes == 8)
    run([&](const float* s, float* o, std::int64_t h, std::int64_t w) { pool_pixel_vec<1, false>(s, o, i, g, h, w); });
  else
    run([&](const float* s, float* o, std::int64_t h, std::int64_t w) { pool_pixel_any(s, o, i, g, h, w); });
}

EDGERT_MULTIVERSION
void global_pool(const float* src, const channel_view& in, float* dst, std::int64_t batch, bool max) {
  for (std::int64_t n = 0; n < batch; ++n)
    for (std::int64_t j = 0; j < in.blocks; ++j) {
      const std::int64_t first = j * in.lanes;
      const std::int64_t valid = std::min(in.lanes, in.channels - first);
      const float* s = src + n * in.batch_stride + j * in.block_stride;
      float* d = dst + n * in.channels + first;
      if (in.lanes == 16) global_block_vec<2>(s, d, in, max, valid);
      else if (in.lanes == 8) global_block_vec<1>(s, d, in, max, valid);
      else global_block_any(s, d, in, max, valid);
    }
}

EDGERT_MULTIVERSION
void add(const float* a, const float* b, float* dst, std::size_t count, const std::vector<activation>& acts) {
  if (acts.size() == 1 && acts[0].k == activation::kind::relu) {
    for (std::size_t i = 0; i < count; ++i) dst[i] = std::max(a[i] + b[i], 0.0f);
    return;
  }
  for (std::size_t i = 0; i < count; ++i) dst[i] = a[i] + b[i];
  activate_inline(dst, count, acts);
}

EDGERT_MULTIVERSION
void activate(const float* src, float* dst, std::size_t count, const std::vector<activation>& acts) {
  if (src != dst) std::copy(src, src + count, dst);
  activate_inline(dst, count, acts);
}

}  // namespace edgert::engine::planning::loops
