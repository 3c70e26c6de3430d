// Private helpers of the shape family of reference kernels (shape*.cpp): reading integer
// lists from tensors, normalising axes, allocating outputs with checked shapes, and moving
// elements of any type by their bytes, so one implementation serves every dtype.
//
// Everything here is a stateless free function; any thread may call it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "engine/kernel.hpp"

namespace edgert::engine::shape_detail {

// One registration function per source file; register_shape_kernels() calls them all.
void register_reshape_kernels(kernel_registry& r);  // shape_reshape.cpp: Reshape, Transpose, ...
void register_slice_kernels(kernel_registry& r);    // shape_slice.cpp: Concat, Split, Slice, Pad, ...
void register_gather_kernels(kernel_registry& r);   // shape_gather.cpp: Gather*, ScatterND, NonZero, OneHot
void register_create_kernels(kernel_registry& r);   // shape_create.cpp: Constant*, Range, EyeLike, ...

using kernel_body = result<void> (*)(kernel_context&);

/// Wraps a kernel so that an exception (allocation failure, a library precondition) becomes a
/// failure naming the node, and so that ctx.outputs has one slot per node output.
kernel_fn guarded(kernel_body body);

/// True when the node names output i (an unused optional output is named "").
bool wants_output(const kernel_context& ctx, std::size_t i);

/// Allocates ctx.outputs[i] = tensor(type, shape) after checking that every dimension is
/// non-negative and that the element count does not overflow.
result<void> allocate(kernel_context& ctx, std::size_t i, dtype type, const shape_t& shape);

/// The element count of `shape`, or -1 if a dimension is negative or the count overflows.
std::int64_t checked_count(const shape_t& shape) noexcept;

/// Fails unless required input i is present.
result<void> require_input(const kernel_context& ctx, std::size_t i, const char* name);

/// Fails unless the tensor's type has a fixed element size (every type but string).
result<void> require_storable(const kernel_context& ctx, const tensor& t, const char* name);

/// The values of an int32/int64 tensor (of any shape) as int64.
result<std::vector<std::int64_t>> read_ints(const kernel_context& ctx, const tensor& t,
                                            const char* name);

/// The one value of a single-element tensor of any numeric, bool or half type, as double.
result<double> read_scalar(const kernel_context& ctx, const tensor& t, const char* name);

/// Maps axis from [-rank, rank - 1] to [0, rank - 1]; fails naming `what` otherwise.
result<std::int64_t> normalize_axis(const kernel_context& ctx, std::int64_t axis,
                                    std::int64_t rank, const char* what);

/// Normalises a list of axes and rejects duplicates.
result<std::vector<std::int64_t>> normalize_axes(const kernel_context& ctx,
                                                 const std::vector<std::int64_t>& axes,
                                                 std::int64_t rank, const char* what);

/// Element i of a tensor of any type as double (bool, half types and integers included).
double load_scalar(dtype type, const void* data, std::int64_t i) noexcept;
/// Stores `value` converted to `type` (saturating for integers, NaN -> 0) at element i.
void store_scalar(dtype type, void* data, std::int64_t i, double value) noexcept;

/// Fills `count` elements of `elem_size` bytes at dst with copies of the element at `value`.
void fill_elements(void* dst, const void* value, std::size_t elem_size, std::int64_t count);

/// Writes, in row-major order over `shape`, the elements src[offset + sum_d index_d *
/// strides_d] to dst. Strides are in elements and may be zero (broadcast) or negative.
void strided_copy(void* dst, const void* src, std::size_t elem_size, const shape_t& shape,
                  const std::vector<std::int64_t>& strides, std::int64_t offset);

/// Writes to dst (row-major) the elements of `in` viewed under `view` (same element count,
/// row-major) with its axes permuted by `perm`.
void permuted_copy(void* dst, const tensor& in, const shape_t& view,
                   const std::vector<std::int64_t>& perm);

/// Element pointer arithmetic on untyped buffers.
inline std::byte* at(void* base, std::int64_t element, std::size_t elem_size) {
  return static_cast<std::byte*>(base) + element * static_cast<std::int64_t>(elem_size);
}
inline const std::byte* at(const void* base, std::int64_t element, std::size_t elem_size) {
  return static_cast<const std::byte*>(base) + element * static_cast<std::int64_t>(elem_size);
}

}  // namespace edgert::engine::shape_detail
