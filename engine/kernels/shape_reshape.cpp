// Kernels that change a tensor's shape or the order of its elements: Reshape, Flatten,
// Squeeze, Unsqueeze, Shape, Size, Transpose, DepthToSpace, SpaceToDepth.
#include <algorithm>

#include "engine/kernels/shape_common.hpp"

namespace edgert::engine::shape_detail {

namespace {

/// Copies `in` into output 0 under a new shape with the same element count.
result<void> copy_as(kernel_context& ctx, const tensor& in, const shape_t& shape) {
  if (auto ok = allocate(ctx, 0, in.type(), shape); !ok) return ok;
  if (in.bytes()) std::memcpy(ctx.outputs[0].raw(), in.raw(), in.bytes());
  return {};
}

result<void> reshape(kernel_context& ctx) {
  if (auto ok = require_input(ctx, 0, "data"); !ok) return ok;
  const tensor& in = ctx.input(0);
  if (auto ok = require_storable(ctx, in, "data"); !ok) return ok;
  std::vector<std::int64_t> requested;
  if (ctx.opset >= 5) {
    if (auto ok = require_input(ctx, 1, "shape"); !ok) return ok;
    if (ctx.input(1).rank() != 1)
      return ctx.invalid("input 'shape' must be 1-D, its shape is " +
                         to_string(ctx.input(1).shape()));
    auto values = read_ints(ctx, ctx.input(1), "shape");
    if (!values) return values.error();
    requested = std::move(*values);
  } else {
    if (!ctx.n.find("shape")) return ctx.invalid("attribute 'shape' is missing");
    requested = ctx.n.get_ints("shape");
  }
  const bool allow_zero = ctx.n.get_int("allowzero", 0) != 0;
  const shape_t& from = in.shape();
  auto fail_shape = [&](const std::string& why) {
    return ctx.invalid("cannot reshape " + to_string(from) + " to " + to_string(requested) +
                       ": " + why);
  };
  shape_t out(requested.size());
  std::int64_t inferred = -1;
  std::int64_t known = 1;
  for (std::size_t i = 0; i < requested.size(); ++i) {
    std::int64_t d = requested[i];
    if (d == -1) {
      if (inferred >= 0) return fail_shape("more than one dimension is -1");
      inferred = static_cast<std::int64_t>(i);
      continue;
    }
    if (d < -1) return fail_shape("dimension " + std::to_string(d) + " is negative");
    if (d == 0 && !allow_zero) {
      if (i >= from.size())
        return fail_shape("dimension " + std::to_string(i) +
                          " is 0 (copy the input dimension) but the input has rank " +
                          std::to_string(from.size()));
      d = from[i];
    }
    out[i] = d;
    if (__builtin_mul_overflow(known, d, &known)) return fail_shape("the size overflows");
  }
  if (inferred >= 0) {
    if (known == 0) {
      if (in.elements() != 0) return fail_shape("the other dimensions have no elements");
      return fail_shape("-1 is ambiguous when the other dimensions hold no elements");
    }
    if (in.elements() % known != 0)
      return fail_shape("the element count " + std::to_string(in.elements()) +
                        " is not divisible by " + std::to_string(known));
    out[static_cast<std::size_t>(inferred)] = in.elements() / known;
  } else if (known != in.elements()) {
    return fail_shape("the element counts differ (" + std::to_string(in.elements()) + " vs " +
                      std::to_string(known) + ")");
  }
  return copy_as(ctx, in, out);
}

result<void> flatten(kernel_context& ctx) {
  if (auto ok = require_input(ctx, 0, "input"); !ok) return ok;
  const tensor& in = ctx.input(0);
  if (auto ok = require_storable(ctx, in, "input"); !ok) return ok;
  const auto rank = static_cast<std::int64_t>(in.rank());
  std::int64_t axis = ctx.n.get_int("axis", 1);
  if (axis < -rank || axis > rank)
    return ctx.invalid("axis " + std::to_string(axis) + " is out of range for input shape " +
                       to_string(in.shape()));
  if (axis < 0) axis += rank;
  std::int64_t outer = 1, inner = 1;
  for (std::int64_t i = 0; i < rank; ++i) (i < axis ? outer : inner) *= in.shape()[i];
  return copy_as(ctx, in, {outer, inner});
}

/// Reads the 'axes' of Squeeze/Unsqueeze: an attribute before opset 13, an input from it.
/// `present` tells whether axes were given at all.
result<std::vector<std::int64_t>> squeeze_axes(kernel_context& ctx, bool& present) {
  if (ctx.opset >= 13) {
    present = ctx.has_input(1);
    if (!present) return std::vector<std::int64_t>{};
    return read_ints(ctx, ctx.input(1), "axes");
  }
  present = ctx.n.find("axes") != nullptr;
  return ctx.n.get_ints("axes");
}

result<void> squeeze(kernel_context& ctx) {
  if (auto ok = require_input(ctx, 0, "data"); !ok) return ok;
  const tensor& in = ctx.input(0);
  if (auto ok = require_storable(ctx, in, "data"); !ok) return ok;
  bool present = false;
  auto axes = squeeze_axes(ctx, present);
  if (!axes) return axes.error();
  const auto rank = static_cast<std::int64_t>(in.rank());
  std::vector<bool> drop(in.rank(), false);
  if (present && !axes->empty()) {
    auto normal = normalize_axes(ctx, *axes, rank, "axis");
    if (!normal) return normal.error();
    for (auto a : *normal) {
      if (in.shape()[a] != 1)
        return ctx.invalid("cannot squeeze axis " + std::to_string(a) + " of shape " +
                           to_string(in.shape()) + ": its size is not 1");
      drop[a] = true;
    }
  } else {
    for (std::size_t i = 0; i < in.rank(); ++i) drop[i] = in.shape()[i] == 1;
  }
  shape_t out;
  for (std::size_t i = 0; i < in.rank(); ++i)
    if (!drop[i]) out.push_back(in.shape()[i]);
  return copy_as(ctx, in, out);
}

result<void> unsqueeze(kernel_context& ctx) {
  if (auto ok = require_input(ctx, 0, "data"); !ok) return ok;
  const tensor& in = ctx.input(0);
  if (auto ok = require_storable(ctx, in, "data"); !ok) return ok;
  bool present = false;
  auto axes = squeeze_axes(ctx, present);
  if (!axes) return axes.error();
  if (!present) return ctx.invalid("axes are missing");
  const auto out_rank = static_cast<std::int64_t>(in.rank() + axes->size());
  auto normal = normalize_axes(ctx, *axes, out_rank, "axis");
  if (!normal) return normal.error();
  shape_t out(static_cast<std::size_t>(out_rank), 1);
  std::vector<bool> inserted(out.size(), false);
  for (auto a : *normal) inserted[a] = true;
  std::size_t next = 0;
  for (std::size_t i = 0; i < out.size(); ++i)
    if (!inserted[i]) out[i] = in.shape()[next++];
  return copy_as(ctx, in, out);
}

result<void> shape_op(kernel_context& ctx) {
  if (auto ok = require_input(ctx, 0, "data"); !ok) return ok;
  const shape_t& s = ctx.input(0).shape();
  const auto rank = static_cast<std::int64_t>(s.size());
  auto clamp_bound = [&](std::int64_t v) {
    if (v < 0) v += rank;
    return std::clamp<std::int64_t>(v, 0, rank);
  };
  std::int64_t start = clamp_bound(ctx.n.get_int("start", 0));
  std::int64_t end = clamp_bound(ctx.n.get_int("end", rank));
  std::int64_t count = std::max<std::int64_t>(end - start, 0);
  if (auto ok = allocate(ctx, 0, dtype::i64, {count}); !ok) return ok;
  std::copy_n(s.begin() + start, count, ctx.outputs[0].data<std::int64_t>());
  return {};
}

result<void> size_op(kernel_context& ctx) {
  if (auto ok = require_input(ctx, 0, "data"); !ok) return ok;
  if (auto ok = allocate(ctx, 0, dtype::i64, {}); !ok) return ok;
  *ctx.outputs[0].data<std::int64_t>() = ctx.input(0).elements();
  return {};
}

result<void> transpose(kernel_context& ctx) {
  if (auto ok = require_input(ctx, 0, "data"); !ok) return ok;
  const tensor& in = ctx.input(0);
  if (auto ok = require_storable(ctx, in, "data"); !ok) return ok;
  const std::size_t rank = in.rank();
  std::vector<std::int64_t> perm;
  if (ctx.n.find("perm")) {
    perm = ctx.n.get_ints("perm");
  } else {
    perm.resize(rank);
    for (std::size_t i = 0; i < rank; ++i) perm[i] = static_cast<std::int64_t>(rank - 1 - i);
  }
  auto bad_perm = [&] {
    std::string list;
    for (auto p : perm) list += (list.empty() ? "" : ", ") + std::to_string(p);
    return ctx.invalid("perm [" + list + "] is not a permutation of the axes of shape " +
                       to_string(in.shape()));
  };
  if (perm.size() != rank) return bad_perm();
  std::vector<bool> seen(rank, false);
  shape_t out(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    auto p = perm[i];
    if (p < 0 || p >= static_cast<std::int64_t>(rank) || seen[p]) return bad_perm();
    seen[p] = true;
    out[i] = in.shape()[p];
  }
  if (auto ok = allocate(ctx, 0, in.type(), out); !ok) return ok;
  permuted_copy(ctx.outputs[0].raw(), in, in.shape(), perm);
  return {};
}

/// Checks the common preconditions of DepthToSpace/SpaceToDepth and returns the block size.
result<std::int64_t> block_size(kernel_context& ctx) {
  if (auto ok = require_input(ctx, 0, "input"); !ok) return ok.error();
  const tensor& in = ctx.input(0);
  if (auto ok = require_storable(ctx, in, "input"); !ok) return ok.error();
  if (in.rank() != 4)
    return ctx.invalid("input must be 4-D [N, C, H, W], its shape is " + to_string(in.shape()));
  if (!ctx.n.find("blocksize")) return ctx.invalid("attribute 'blocksize' is missing");
  std::int64_t bs = ctx.n.get_int("blocksize", 0);
  // Any block larger than the input is invalid; the bound also keeps bs * bs from overflowing.
  if (bs <= 0 || bs > (1 << 20))
    return ctx.invalid("blocksize " + std::to_string(bs) + " is out of range for input shape " +
                       to_string(in.shape()));
  return bs;
}

result<void> depth_to_space(kernel_context& ctx) {
  auto bs = block_size(ctx);
  if (!bs) return bs.error();
  const tensor& in = ctx.input(0);
  const auto& s = in.shape();
  const std::int64_t b = *bs, n = s[0], c = s[1], h = s[2], w = s[3];
  if (c % (b * b) != 0)
    return ctx.invalid("channels of shape " + to_string(s) + " are not divisible by blocksize^2 = " +
                       std::to_string(b * b));
  const std::int64_t oc = c / (b * b);
  const std::string mode = ctx.n.get_string("mode", "DCR");
  shape_t view;
  std::vector<std::int64_t> perm;
  if (mode == "DCR") {
    view = {n, b, b, oc, h, w};
    perm = {0, 3, 4, 1, 5, 2};
  } else if (mode == "CRD") {
    view = {n, oc, b, b, h, w};
    perm = {0, 1, 4, 2, 5, 3};
  } else {
    return ctx.invalid("mode '" + mode + "' is neither DCR nor CRD");
  }
  shape_t out = {n, oc, h * b, w * b};
  if (auto ok = allocate(ctx, 0, in.type(), out); !ok) return ok;
  permuted_copy(ctx.outputs[0].raw(), in, view, perm);
  return {};
}

result<void> space_to_depth(kernel_context& ctx) {
  auto bs = block_size(ctx);
  if (!bs) return bs.error();
  const tensor& in = ctx.input(0);
  const auto& s = in.shape();
  const std::int64_t b = *bs, n = s[0], c = s[1], h = s[2], w = s[3];
  if (h % b != 0 || w % b != 0)
    return ctx.invalid("height and width of shape " + to_string(s) +
                       " are not divisible by blocksize " + std::to_string(b));
  shape_t view = {n, c, h / b, b, w / b, b};
  shape_t out = {n, c * b * b, h / b, w / b};
  if (auto ok = allocate(ctx, 0, in.type(), out); !ok) return ok;
  permuted_copy(ctx.outputs[0].raw(), in, view, {0, 3, 5, 1, 2, 4});
  return {};
}

}  // namespace

void register_reshape_kernels(kernel_registry& r) {
  r.add("", "Reshape", guarded(reshape), 1);
  r.add("", "Flatten", guarded(flatten), 1);
  r.add("", "Squeeze", guarded(squeeze), 1);
  r.add("", "Unsqueeze", guarded(unsqueeze), 1);
  r.add("", "Shape", guarded(shape_op), 1);
  r.add("", "Size", guarded(size_op), 1);
  r.add("", "Transpose", guarded(transpose), 1);
  r.add("", "DepthToSpace", guarded(depth_to_space), 1);
  r.add("", "SpaceToDepth", guarded(space_to_depth), 1);
}

}  // namespace edgert::engine::shape_detail
