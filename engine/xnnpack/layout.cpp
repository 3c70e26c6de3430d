// Tiled per-image transposes behind nchw_to_nhwc / nhwc_to_nchw (see layout.hpp). Tiles of
// the destination are independent, so a thread pool splits them between its threads. Full
// tiles are transposed in SSE2 registers on x86-64 (16x16 bytes or 4x4 words at a time);
// edge tiles, and every tile on other architectures, use plain loops.
#include "engine/xnnpack/layout.hpp"

#include <pthreadpool.h>

#include <algorithm>
#include <cstdint>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace edgert::engine::xnn {

namespace {

// One transpose job: `batch` matrices src[rows][cols] -> dst[cols][rows].
struct transpose_job {
  const void* src;
  void* dst;
  std::size_t batch, rows, cols;
  std::size_t row_tiles, col_tiles;
};

#if defined(__SSE2__)
// Block transposes with SSE2 unpacks. Interleaving row i with row i + B/2 (low and high
// halves into rows 2i and 2i + 1) rotates the bits of (row, lane) left by one; log2(B)
// rounds of it swap row and lane bits, i.e. transpose the block.
inline void block16x16(const std::uint8_t* src, std::size_t src_stride, std::uint8_t* dst, std::size_t dst_stride) {
  __m128i r[16], t[16];
  for (int i = 0; i < 16; ++i) r[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i * src_stride));
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 8; ++i) {
      t[2 * i] = _mm_unpacklo_epi8(r[i], r[i + 8]);
      t[2 * i + 1] = _mm_unpackhi_epi8(r[i], r[i + 8]);
    }
    std::copy(t, t + 16, r);
  }
  for (int i = 0; i < 16; ++i) _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i * dst_stride), r[i]);
}

inline void block4x4(const std::uint32_t* src, std::size_t src_stride, std::uint32_t* dst, std::size_t dst_stride) {
  __m128i r[4], t[4];
  for (int i = 0; i < 4; ++i) r[i] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i * src_stride));
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < 2; ++i) {
      t[2 * i] = _mm_unpacklo_epi32(r[i], r[i + 2]);
      t[2 * i + 1] = _mm_unpackhi_epi32(r[i], r[i + 2]);
    }
    std::copy(t, t + 4, r);
  }
  for (int i = 0; i < 4; ++i) _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i * dst_stride), r[i]);
}
#endif

template <class T, std::size_t Tile>
void transpose_tile(const transpose_job& job, std::size_t index) {
  const std::size_t per_image = job.row_tiles * job.col_tiles;
  const std::size_t image = index / per_image;
  const std::size_t rest = index % per_image;
  const std::size_t r0 = (rest / job.col_tiles) * Tile, c0 = (rest % job.col_tiles) * Tile;
  const std::size_t r1 = std::min(r0 + Tile, job.rows), c1 = std::min(c0 + Tile, job.cols);
  const std::size_t plane = job.rows * job.cols;
  const T* src = static_cast<const T*>(job.src) + image * plane;
  T* dst = static_cast<T*>(job.dst) + image * plane;
  if (r1 - r0 == Tile && c1 - c0 == Tile) {
#if defined(__SSE2__)
    constexpr std::size_t block = sizeof(T) == 1 ? 16 : 4;
    static_assert(Tile % block == 0, "tiles are whole SIMD blocks");
    for (std::size_t br = 0; br < Tile; br += block)
      for (std::size_t bc = 0; bc < Tile; bc += block) {
        const T* s = src + (r0 + br) * job.cols + c0 + bc;
        T* d = dst + (c0 + bc) * job.rows + r0 + br;
        if constexpr (sizeof(T) == 1)
          block16x16(s, job.cols, d, job.rows);
        else
          block4x4(s, job.cols, d, job.rows);
      }
    return;
#endif
    // Full tile: fixed trip counts let the compiler unroll and vectorise the gathers.
    for (std::size_t c = 0; c < Tile; ++c) {
      T* d = dst + (c0 + c) * job.rows + r0;
      const T* s = src + r0 * job.cols + c0 + c;
      for (std::size_t r = 0; r < Tile; ++r) d[r] = s[r * job.cols];
    }
    return;
  }
  for (std::size_t c = c0; c < c1; ++c) {
    T* d = dst + c * job.rows;
    for (std::size_t r = r0; r < r1; ++r) d[r] = src[r * job.cols + c];
  }
}

template <class T, std::size_t Tile>
void transpose_task(void* context, std::size_t index) {
  transpose_tile<T, Tile>(*static_cast<const transpose_job*>(context), index);
}

template <class T, std::size_t Tile>
void transpose(const void* src, void* dst, std::size_t batch, std::size_t rows, std::size_t cols,
               const thread_pool* pool) {
  transpose_job job{src, dst, batch, rows, cols, (rows + Tile - 1) / Tile, (cols + Tile - 1) / Tile};
  const std::size_t tiles = batch * job.row_tiles * job.col_tiles;
  if (pool != nullptr && pool->native() != nullptr) {
    pthreadpool_parallelize_1d(pool->native(), &transpose_task<T, Tile>, &job, tiles, 0);
    return;
  }
  for (std::size_t i = 0; i < tiles; ++i) transpose_tile<T, Tile>(job, i);
}

result<void> run(const void* src, void* dst, std::size_t batch, std::size_t rows, std::size_t cols,
                 std::size_t element_size, const thread_pool* pool) {
  if (src == nullptr || dst == nullptr) return fail(errc::invalid_argument, "layout conversion of a null buffer");
  if (batch == 0 || rows == 0 || cols == 0) return {};
  switch (element_size) {
    case 1:
      transpose<std::uint8_t, 32>(src, dst, batch, rows, cols, pool);
      return {};
    case 4:
      transpose<std::uint32_t, 32>(src, dst, batch, rows, cols, pool);
      return {};
    default:
      return fail(errc::invalid_argument,
                  "layout conversion supports 1- and 4-byte elements, not " + std::to_string(element_size));
  }
}

}  // namespace

result<void> nchw_to_nhwc(const void* src, void* dst, const image_dims& dims, std::size_t element_size,
                          const thread_pool* pool) {
  return run(src, dst, dims.batch, dims.channels, dims.pixels, element_size, pool);
}

result<void> nhwc_to_nchw(const void* src, void* dst, const image_dims& dims, std::size_t element_size,
                          const thread_pool* pool) {
  return run(src, dst, dims.batch, dims.pixels, dims.channels, element_size, pool);
}

}  // namespace edgert::engine::xnn
