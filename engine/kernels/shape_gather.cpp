// Index-driven kernels: Gather, GatherElements, GatherND, ScatterND, ScatterElements,
// NonZero, OneHot.
#include <algorithm>

#include "engine/kernels/broadcast.hpp"
#include "engine/kernels/dispatch.hpp"
#include "engine/kernels/shape_common.hpp"

namespace edgert::engine::shape_detail {

namespace {

/// Maps index v on an axis of size dim to [0, dim), accepting negative indices from the end.
result<std::int64_t> resolve_index(const kernel_context& ctx, std::int64_t v, std::int64_t dim,
                                   std::int64_t axis) {
  if (v < -dim || v >= dim)
    return ctx.invalid("index " + std::to_string(v) + " is out of range for axis " +
                       std::to_string(axis) + " of size " + std::to_string(dim));
  return v < 0 ? v + dim : v;
}

result<void> gather(kernel_context& ctx) {
  if (auto ok = require_input(ctx, 0, "data"); !ok) return ok;
  if (auto ok = require_input(ctx, 1, "indices"); !ok) return ok;
  const tensor& data = ctx.input(0);
  const tensor& indices = ctx.input(1);
  if (auto ok = require_storable(ctx, data, "data"); !ok) return ok;
  const auto rank = static_cast<std::int64_t>(data.rank());
  if (rank == 0) return ctx.invalid("data must have rank 1 or more, it is a scalar");
  auto axis = normalize_axis(ctx, ctx.n.get_int("axis", 0), rank, "axis");
  if (!axis) return axis.error();
  auto idx = read_ints(ctx, indices, "indices");
  if (!idx) return idx.error();
  const std::int64_t dim = data.shape()[*axis];
  for (auto& v : *idx) {
    auto r = resolve_index(ctx, v, dim, *axis);
    if (!r) return r.error();
    v = *r;
  }
  shape_t out(data.shape().begin(), data.shape().begin() + *axis);
  out.insert(out.end(), indices.shape().begin(), indices.shape().end());
  out.insert(out.end(), data.shape().begin() + *axis + 1, data.shape().end());
  if (auto ok = allocate(ctx, 0, data.type(), out); !ok) return ok;
  const std::size_t es = size_of(data.type());
  std::int64_t outer = 1, inner = 1;
  for (std::int64_t d = 0; d < rank; ++d) {
    if (d < *axis) outer *= data.shape()[d];
    if (d > *axis) inner *= data.shape()[d];
  }
  const auto count = static_cast<std::int64_t>(idx->size());
  std::byte* dst = static_cast<std::byte*>(ctx.outputs[0].raw());
  const std::size_t row_bytes = static_cast<std::size_t>(inner) * es;
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::int64_t k = 0; k < count; ++k, dst += row_bytes)
      std::memcpy(dst, at(data.raw(), (o * dim + (*idx)[k]) * inner, es), row_bytes);
  return {};
}

/// The shared checks of GatherElements and ScatterElements; returns the normalised axis and
/// the indices, resolved to non-negative values.
result<std::int64_t> elements_setup(kernel_context& ctx, const tensor& data, const tensor& indices,
                                    std::vector<std::int64_t>& idx) {
  if (auto ok = require_storable(ctx, data, "data"); !ok) return ok.error();
  const auto rank = static_cast<std::int64_t>(data.rank());
  if (rank == 0 || indices.rank() != data.rank())
    return ctx.invalid("indices " + to_string(indices.shape()) + " and data " +
                       to_string(data.shape()) + " must have the same rank of 1 or more");
  auto axis = normalize_axis(ctx, ctx.n.get_int("axis", 0), rank, "axis");
  if (!axis) return axis.error();
  for (std::int64_t d = 0; d < rank; ++d)
    if (d != *axis && indices.shape()[d] > data.shape()[d])
      return ctx.invalid("indices " + to_string(indices.shape()) + " exceed data " +
                         to_string(data.shape()) + " on axis " + std::to_string(d));
  auto values = read_ints(ctx, indices, "indices");
  if (!values) return values.error();
  idx = std::move(*values);
  for (auto& v : idx) {
    auto r = resolve_index(ctx, v, data.shape()[*axis], *axis);
    if (!r) return r.error();
    v = *r;
  }
  return *axis;
}

/// Data strides with the indexed axis zeroed: the offset of an index position's row.
std::vector<std::int64_t> strides_without(const shape_t& shape, std::int64_t axis) {
  auto s = contiguous_strides(shape);
  s[axis] = 0;
  return s;
}

result<void> gather_elements(kernel_context& ctx) {
  if (auto ok = require_input(ctx, 0, "data"); !ok) return ok;
  if (auto ok = require_input(ctx, 1, "indices"); !ok) return ok;
  const tensor& data = ctx.input(0);
  const tensor& indices = ctx.input(1);
  std::vector<std::int64_t> idx;
  auto axis = elements_setup(ctx, data, indices, idx);
  if (!axis) return axis.error();
  if (auto ok = allocate(ctx, 0, data.type(), indices.shape()); !ok) return ok;
  const std::size_t es = size_of(data.type());
  const std::int64_t axis_stride = contiguous_strides(data.shape())[*axis];
  std::byte* dst = static_cast<std::byte*>(ctx.outputs[0].raw());
  std::size_t i = 0;
  for (broadcast_walker w(indices.shape(), {strides_without(data.shape(), *axis)}); !w.done();
       w.next(), ++i)
    std::memcpy(dst + i * es, at(data.raw(), w.offset(0) + idx[i] * axis_stride, es), es);
  return {};
}

enum class reduction { none, add, mul, max, min };

result<reduction> read_reduction(const kernel_context& ctx) {
  const std::string r = ctx.n.get_string("reduction", "none");
  if (r == "none") return reduction::none;
  if (r == "add") return reduction::add;
  if (r == "mul") return reduction::mul;
  if (r == "max") return reduction::max;
  if (r == "min") return reduction::min;
  return ctx.invalid("reduction '" + r + "' is not none, add, mul, max or min");
}

template <class T>
T combine(T a, T b, reduction r) {
  switch (r) {
    case reduction::add: return static_cast<T>(a + b);
    case reduction::mul: return static_cast<T>(a * b);
    case reduction::max: return std::max(a, b);
    case reduction::min: return std::min(a, b);
    case reduction::none: break;
  }
  return b;
}

/// dst[i] = combine(dst[i], src[i]) for `count` elements of type t.
result<void> reduce_into(const kernel_context& ctx, dtype t, void* dst, const void* src,
                         std::int64_t count, reduction r) {
  if (r == reduction::none) {
    std::memcpy(dst, src, static_cast<std::size_t>(count) * size_of(t));
    return {};
  }
  if (t == dtype::boolean || t == dtype::f16 || t == dtype::bf16) {
    for (std::int64_t i = 0; i < count; ++i)
      store_scalar(t, dst, i, combine(load_scalar(t, dst, i), load_scalar(t, src, i), r));
    return {};
  }
  bool known = dispatch_numeric(t, [&](auto zero) {
    using T = decltype(zero);
    auto* d = static_cast<T*>(dst);
    auto* s = static_cast<const T*>(src);
    for (std::int64_t i = 0; i < count; ++i) d[i] = combine(d[i], s[i], r);
  });
  if (!known) return ctx.unsupported("reduction on type " + std::string(to_string(t)));
  return {};
}

result<void> scatter_elements(kernel_context& ctx) {
  for (std::size_t i = 0; i < 3; ++i)
    if (auto ok = require_input(ctx, i, i == 0 ? "data" : i == 1 ? "indices" : "updates"); !ok)
      return ok;
  const tensor& data = ctx.input(0);
  const tensor& indices = ctx.input(1);
  const tensor& updates = ctx.input(2);
  std::vector<std::int64_t> idx;
  auto axis = elements_setup(ctx, data, indices, idx);
  if (!axis) return axis.error();
  if (updates.shape() != indices.shape() || updates.type() != data.type())
    return ctx.invalid("updates " + to_string(updates.shape()) + " must match indices " +
                       to_string(indices.shape()) + " and have the type of data");
  auto red = read_reduction(ctx);
  if (!red) return red.error();
  if (auto ok = allocate(ctx, 0, data.type(), data.shape()); !ok) return ok;
  tensor& out = ctx.outputs[0];
  if (data.bytes()) std::memcpy(out.raw(), data.raw(), data.bytes());
  const std::size_t es = size_of(data.type());
  const std::int64_t axis_stride = contiguous_strides(data.shape())[*axis];
  std::size_t i = 0;
  for (broadcast_walker w(indices.shape(), {strides_without(data.shape(), *axis)}); !w.done();
       w.next(), ++i) {
    auto ok = reduce_into(ctx, data.type(), at(out.raw(), w.offset(0) + idx[i] * axis_stride, es),
                          at(updates.raw(), static_cast<std::int64_t>(i), es), 1, *red);
    if (!ok) return ok;
  }
  return {};
}

/// The layout shared by GatherND and ScatterND: for each of `tuples` index tuples (grouped
/// in `batches` batches), the element offset of the addressed slice of `slice` elements.
struct nd_plan {
  std::int64_t batches = 1, tuples = 0, slice = 1;
  std::vector<std::int64_t> offsets;  // one per tuple, batch offset included
};

result<nd_plan> plan_nd(kernel_context& ctx, const tensor& data, const tensor& indices,
                        std::int64_t batch_dims) {
  const auto r = static_cast<std::int64_t>(data.rank());
  const auto q = static_cast<std::int64_t>(indices.rank());
  if (r < 1 || q < 1)
    return ctx.invalid("data " + to_string(data.shape()) + " and indices " +
                       to_string(indices.shape()) + " must have rank 1 or more");
  const std::int64_t b = batch_dims;
  if (b < 0 || b >= std::min(r, q))
    return ctx.invalid("batch_dims " + std::to_string(b) + " is out of range for data " +
                       to_string(data.shape()) + " and indices " + to_string(indices.shape()));
  const std::int64_t k = indices.shape()[q - 1];
  if (k < 1 || k > r - b)
    return ctx.invalid("the last dimension of indices " + to_string(indices.shape()) +
                       " must be between 1 and " + std::to_string(r - b) + " for data " +
                       to_string(data.shape()));
  nd_plan plan;
  for (std::int64_t d = 0; d < b; ++d) {
    if (indices.shape()[d] != data.shape()[d])
      return ctx.invalid("the batch dimensions of indices " + to_string(indices.shape()) +
                         " and data " + to_string(data.shape()) + " differ");
    plan.batches *= data.shape()[d];
  }
  auto idx = read_ints(ctx, indices, "indices");
  if (!idx) return idx.error();
  for (std::int64_t d = b + k; d < r; ++d) plan.slice *= data.shape()[d];
  std::int64_t batch_size = plan.slice;
  for (std::int64_t d = b; d < b + k; ++d) batch_size *= data.shape()[d];
  const auto strides = contiguous_strides(data.shape());
  plan.tuples = static_cast<std::int64_t>(idx->size()) / k;
  const std::int64_t per_batch = plan.batches ? plan.tuples / plan.batches : 0;
  plan.offsets.resize(static_cast<std::size_t>(plan.tuples));
  for (std::int64_t t = 0; t < plan.tuples; ++t) {
    std::int64_t offset = per_batch ? (t / per_batch) * batch_size : 0;
    for (std::int64_t j = 0; j < k; ++j) {
      auto v = resolve_index(ctx, (*idx)[t * k + j], data.shape()[b + j], b + j);
      if (!v) return v.error();
      offset += *v * strides[b + j];
    }
    plan.offsets[t] = offset;
  }
  return plan;
}

result<void> gather_nd(kernel_context& ctx) {
  if (auto ok = require_input(ctx, 0, "data"); !ok) return ok;
  if (auto ok = require_input(ctx, 1, "indices"); !ok) return ok;
  const tensor& data = ctx.input(0);
  const tensor& indices = ctx.input(1);
  if (auto ok = require_storable(ctx, data, "data"); !ok) return ok;
  const std::int64_t b = ctx.n.get_int("batch_dims", 0);
  auto plan = plan_nd(ctx, data, indices, b);
  if (!plan) return plan.error();
  const auto q = indices.rank();
  const std::size_t k = static_cast<std::size_t>(indices.shape()[q - 1]);
  shape_t out(indices.shape().begin(), indices.shape().end() - 1);
  out.insert(out.end(), data.shape().begin() + b + k, data.shape().end());
  if (auto ok = allocate(ctx, 0, data.type(), out); !ok) return ok;
  const std::size_t es = size_of(data.type());
  const std::size_t slice_bytes = static_cast<std::size_t>(plan->slice) * es;
  std::byte* dst = static_cast<std::byte*>(ctx.outputs[0].raw());
  for (std::int64_t t = 0; t < plan->tuples; ++t, dst += slice_bytes)
    std::memcpy(dst, at(data.raw(), plan->offsets[t], es), slice_bytes);
  return {};
}

result<void> scatter_nd(kernel_context& ctx) {
  for (std::size_t i = 0; i < 3; ++i)
    if (auto ok = require_input(ctx, i, i == 0 ? "data" : i == 1 ? "indices" : "updates"); !ok)
      return ok;
  const tensor& data = ctx.input(0);
  const tensor& indices = ctx.input(1);
  const tensor& updates = ctx.input(2);
  if (auto ok = require_storable(ctx, data, "data"); !ok) return ok;
  auto plan = plan_nd(ctx, data, indices, 0);
  if (!plan) return plan.error();
  const auto q = indices.rank();
  const std::size_t k = static_cast<std::size_t>(indices.shape()[q - 1]);
  shape_t expected(indices.shape().begin(), indices.shape().end() - 1);
  expected.insert(expected.end(), data.shape().begin() + k, data.shape().end());
  if (updates.shape() != expected || updates.type() != data.type())
    return ctx.invalid("updates " + to_string(updates.shape()) + " must have shape " +
                       to_string(expected) + " and the type of data");
  auto red = read_reduction(ctx);
  if (!red) return red.error();
  if (auto ok = allocate(ctx, 0, data.type(), data.shape()); !ok) return ok;
  tensor& out = ctx.outputs[0];
  if (data.bytes()) std::memcpy(out.raw(), data.raw(), data.bytes());
  const std::size_t es = size_of(data.type());
  for (std::int64_t t = 0; t < plan->tuples; ++t) {
    auto ok = reduce_into(ctx, data.type(), at(out.raw(), plan->offsets[t], es),
                          at(updates.raw(), t * plan->slice, es), plan->slice, *red);
    if (!ok) return ok;
  }
  return {};
}

result<void> non_zero(kernel_context& ctx) {
  if (auto ok = require_input(ctx, 0, "X"); !ok) return ok;
  const tensor& in = ctx.input(0);
  if (auto ok = require_storable(ctx, in, "X"); !ok) return ok;
  const std::int64_t total = in.elements();
  std::int64_t found = 0;
  for (std::int64_t i = 0; i < total; ++i) found += load_scalar(in.type(), in.raw(), i) != 0;
  // A scalar reports as a 1-D tensor of one element (as NumPy's nonzero does).
  const shape_t shape = in.rank() == 0 ? shape_t{1} : in.shape();
  const auto rank = static_cast<std::int64_t>(shape.size());
  if (auto ok = allocate(ctx, 0, dtype::i64, {rank, found}); !ok) return ok;
  auto* out = ctx.outputs[0].data<std::int64_t>();
  std::vector<std::int64_t> index(shape.size(), 0);
  std::int64_t column = 0;
  for (std::int64_t i = 0; i < total; ++i) {
    if (load_scalar(in.type(), in.raw(), i) != 0) {
      for (std::int64_t d = 0; d < rank; ++d) out[d * found + column] = index[d];
      ++column;
    }
    for (std::int64_t d = rank; d-- > 0;) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return {};
}

result<void> one_hot(kernel_context& ctx) {
  for (std::size_t i = 0; i < 3; ++i)
    if (auto ok = require_input(ctx, i, i == 0 ? "indices" : i == 1 ? "depth" : "values"); !ok)
      return ok;
  const tensor& indices = ctx.input(0);
  const tensor& values = ctx.input(2);
  if (auto ok = require_storable(ctx, indices, "indices"); !ok) return ok;
  if (auto ok = require_storable(ctx, values, "values"); !ok) return ok;
  if (values.elements() != 2)
    return ctx.invalid("values must hold [off_value, on_value], its shape is " +
                       to_string(values.shape()));
  auto depth_value = read_scalar(ctx, ctx.input(1), "depth");
  if (!depth_value) return depth_value.error();
  const auto depth = static_cast<std::int64_t>(*depth_value);
  if (!(*depth_value >= 1) || *depth_value > 1e15)
    return ctx.invalid("depth " + std::to_string(*depth_value) + " must be 1 or more");
  const auto rank = static_cast<std::int64_t>(indices.rank());
  auto axis = normalize_axis(ctx, ctx.n.get_int("axis", -1), rank + 1, "axis");
  if (!axis) return axis.error();
  shape_t out = indices.shape();
  out.insert(out.begin() + *axis, depth);
  if (auto ok = allocate(ctx, 0, values.type(), out); !ok) return ok;
  const std::size_t es = size_of(values.type());
  void* dst = ctx.outputs[0].raw();
  fill_elements(dst, values.raw(), es, ctx.outputs[0].elements());
  std::int64_t inner = 1;
  for (std::int64_t d = *axis; d < rank; ++d) inner *= indices.shape()[d];
  const std::int64_t total = indices.elements();
  for (std::int64_t i = 0; i < total; ++i) {
    const double raw = load_scalar(indices.type(), indices.raw(), i);
    if (!(raw > -1e18 && raw < 1e18)) continue;
    auto v = static_cast<std::int64_t>(raw);
    if (v < 0) v += depth;
    if (v < 0 || v >= depth) continue;
    const std::int64_t o = i / inner, j = i % inner;
    std::memcpy(at(dst, (o * depth + v) * inner + j, es), at(values.raw(), 1, es), es);
  }
  return {};
}

}  // namespace

void register_gather_kernels(kernel_registry& r) {
  r.add("", "Gather", guarded(gather), 1);
  r.add("", "GatherElements", guarded(gather_elements), 11);
  r.add("", "GatherND", guarded(gather_nd), 11);
  r.add("", "ScatterND", guarded(scatter_nd), 11);
  r.add("", "ScatterElements", guarded(scatter_elements), 11);
  // Scatter (opsets 9-10) is ScatterElements under its deprecated name.
  r.add("", "Scatter", guarded(scatter_elements), 9);
  r.add("", "NonZero", guarded(non_zero), 9);
  r.add("", "OneHot", guarded(one_hot), 9);
}

}  // namespace edgert::engine::shape_detail
