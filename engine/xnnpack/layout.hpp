// NCHW <-> NHWC conversions for the XNNPACK operators, which work on NHWC (channels-last)
// buffers while ONNX tensors are NCHW.
//
// Both directions are one matrix transpose per image ([C][H*W] <-> [H*W][C]), done in square
// tiles so reads and writes both stay in L1. They allocate nothing; with a thread pool the
// tiles are split between its threads, otherwise everything runs on the calling thread.
// Source and destination must not overlap.
#pragma once

#include <cstddef>

#include "common/result.hpp"
#include "engine/xnnpack/runtime.hpp"

namespace edgert::engine::xnn {

/// The dimensions of a batch of images: pixels = H * W (or any flattened spatial extent).
struct image_dims {
  std::size_t batch = 1;
  std::size_t channels = 1;
  std::size_t pixels = 1;
};

/// NCHW -> NHWC. element_size is 1 (int8/uint8) or 4 (float/int32); anything else is
/// invalid_argument. `pool` may be null (single-threaded).
result<void> nchw_to_nhwc(const void* src, void* dst, const image_dims& dims, std::size_t element_size,
                          const thread_pool* pool = nullptr);

/// NHWC -> NCHW, the inverse of nchw_to_nhwc.
result<void> nhwc_to_nchw(const void* src, void* dst, const image_dims& dims, std::size_t element_size,
                          const thread_pool* pool = nullptr);

}  // namespace edgert::engine::xnn
