// Private: the loops backend's kernels, on float32 buffers in any of the planner's dense
// channel layouts (plain NCHW, channel-blocked nChw8c/16c, channels-last NHWC). They
// allocate nothing and run on the calling thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/plan/groups.hpp"
#include "engine/plan/ir.hpp"

namespace edgert::engine::planning::loops {

/// Where element (n, c, pixel) of an [N, C, spatial...] tensor lives: channels are split
/// into blocks of `lanes` contiguous values; offset = n * batch_stride + (c / lanes) *
/// block_stride + pixel * pixel_stride + c % lanes.
struct channel_view {
  std::int64_t channels = 0, lanes = 1, blocks = 0, pixels = 0;
  std::int64_t batch_stride = 0, block_stride = 0, pixel_stride = 0;
};

/// The view of a buffer in a plain, channel_blocked or channels_last layout; false for any
/// other layout or a shape of rank below 3.
bool view_of(const layout& l, const shape_t& shape, channel_view& v);

struct pool_geometry {
  bool max = true;
  std::int64_t in_h = 0, in_w = 0, out_h = 0, out_w = 0;
  std::int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  std::int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool count_include_pad = false;
};

/// 2-D max or average pooling of N images; src and dst views share lanes.
void pool2d(const float* src, const channel_view& in, float* dst, const channel_view& out, std::int64_t batch,
            const pool_geometry& g);

/// Global average (or max) over the pixels of each channel; dst is plain [N, C].
void global_pool(const float* src, const channel_view& in, float* dst, std::int64_t batch, bool max);

/// dst[i] = activations(a[i] + b[i]) for i < count (dst may be a or b).
void add(const float* a, const float* b, float* dst, std::size_t count, const std::vector<activation>& acts);

/// dst[i] = activations(src[i]) (dst may be src).
void activate(const float* src, float* dst, std::size_t count, const std::vector<activation>& acts);

}  // namespace edgert::engine::planning::loops
