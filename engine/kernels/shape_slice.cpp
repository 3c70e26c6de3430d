// Kernels that cut, join or repeat tensors: Concat, Split, Slice, Pad, Tile, Expand.
#include <algorithm>
#include <cstdint>

#include "engine/kernels/broadcast.hpp"
#include "engine/kernels/shape_common.hpp"

namespace edgert::engine::shape_detail {

namespace {

std::string list_string(const std::vector<std::int64_t>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + std::to_string(v[i]);
  return out + "]";
}

result<void> concat(kernel_context& ctx) {
  if (ctx.input_count() == 0) return ctx.invalid("Concat needs at least one input");
  for (std::size_t i = 0; i < ctx.input_count(); ++i)
    if (auto ok = require_input(ctx, i, "inputs"); !ok) return ok;
  const tensor& first = ctx.input(0);
  if (auto ok = require_storable(ctx, first, "inputs"); !ok) return ok;
  const auto rank = static_cast<std::int64_t>(first.rank());
  if (rank == 0) return ctx.invalid("cannot concatenate scalars");
  if (!ctx.n.find("axis") && ctx.opset >= 4) return ctx.invalid("attribute 'axis' is missing");
  auto axis = normalize_axis(ctx, ctx.n.get_int("axis", 1), rank, "axis");
  if (!axis) return axis.error();
  shape_t out = first.shape();
  out[*axis] = 0;
  for (std::size_t i = 0; i < ctx.input_count(); ++i) {
    const tensor& t = ctx.input(i);
    bool fits = t.type() == first.type() && t.rank() == first.rank();
    for (std::int64_t d = 0; fits && d < rank; ++d)
      fits = d == *axis || t.shape()[d] == first.shape()[d];
    if (!fits)
      return ctx.invalid("input " + std::to_string(i) + " (" + std::string(to_string(t.type())) +
                         " " + to_string(t.shape()) + ") does not match input 0 (" +
                         std::string(to_string(first.type())) + " " + to_string(first.shape()) +
                         ") outside axis " + std::to_string(*axis));
    out[*axis] += t.shape()[*axis];
  }
  if (auto ok = allocate(ctx, 0, first.type(), out); !ok) return ok;
  const std::size_t es = size_of(first.type());
  std::int64_t outer = 1, inner = 1;
  for (std::int64_t d = 0; d < rank; ++d) {
    if (d < *axis) outer *= out[d];
    if (d > *axis) inner *= out[d];
  }
  const std::int64_t out_row = out[*axis] * inner;
  std::int64_t offset = 0;
  for (std::size_t i = 0; i < ctx.input_count(); ++i) {
    const tensor& t = ctx.input(i);
    const std::int64_t row = t.shape()[*axis] * inner;
    for (std::int64_t o = 0; o < outer && row > 0; ++o)
      std::memcpy(at(ctx.outputs[0].raw(), o * out_row + offset, es), at(t.raw(), o * row, es),
                  static_cast<std::size_t>(row) * es);
    offset += row;
  }
  return {};
}

result<void> split(kernel_context& ctx) {
  if (auto ok = require_input(ctx, 0, "input"); !ok) return ok;
  const tensor& in = ctx.input(0);
  if (auto ok = require_storable(ctx, in, "input"); !ok) return ok;
  const auto rank = static_cast<std::int64_t>(in.rank());
  auto axis = normalize_axis(ctx, ctx.n.get_int("axis", 0), rank, "axis");
  if (!axis) return axis.error();
  const std::int64_t dim = in.shape()[*axis];
  const auto outputs = static_cast<std::int64_t>(ctx.n.outputs.size());
  if (outputs == 0) return ctx.invalid("Split has no outputs");
  std::vector<std::int64_t> sizes;
  // An empty 'split' input counts as absent (some exporters write one).
  if (ctx.has_input(1) && ctx.input(1).elements() > 0) {
    auto values = read_ints(ctx, ctx.input(1), "split");
    if (!values) return values.error();
    sizes = std::move(*values);
  } else if (ctx.n.find("split")) {
    sizes = ctx.n.get_ints("split");
  } else {
    std::int64_t parts = ctx.n.get_int("num_outputs", outputs);
    if (parts != outputs)
      return ctx.invalid("num_outputs " + std::to_string(parts) + " differs from the " +
                         std::to_string(outputs) + " outputs");
    if (dim % parts == 0) {
      sizes.assign(static_cast<std::size_t>(parts), dim / parts);
    } else if (ctx.n.find("num_outputs")) {
      // Opset 18: chunks of ceil(dim / parts), the last one smaller.
      const std::int64_t chunk = (dim + parts - 1) / parts;
      for (std::int64_t k = 0; k < parts; ++k)
        sizes.push_back(std::clamp<std::int64_t>(dim - k * chunk, 0, chunk));
    } else {
      return ctx.invalid("axis " + std::to_string(*axis) + " of shape " + to_string(in.shape()) +
                         " cannot be split into " + std::to_string(parts) + " equal parts");
    }
  }
  std::int64_t total = 0;
  for (auto s : sizes) {
    if (s < 0 || __builtin_add_overflow(total, s, &total))
      return ctx.invalid("split " + list_string(sizes) + " has a negative or too large size");
  }
  if (static_cast<std::int64_t>(sizes.size()) != outputs || total != dim)
    return ctx.invalid("split " + list_string(sizes) + " does not divide axis " +
                       std::to_string(*axis) + " of shape " + to_string(in.shape()) + " into " +
                       std::to_string(outputs) + " outputs");
  const std::size_t es = size_of(in.type());
  std::int64_t outer = 1, inner = 1;
  for (std::int64_t d = 0; d < rank; ++d) {
    if (d < *axis) outer *= in.shape()[d];
    if (d > *axis) inner *= in.shape()[d];
  }
  std::int64_t offset = 0;
  for (std::size_t k = 0; k < sizes.size(); ++k) {
    const std::int64_t row = sizes[k] * inner;
    if (wants_output(ctx, k)) {
      shape_t shape = in.shape();
      shape[*axis] = sizes[k];
      if (auto ok = allocate(ctx, k, in.type(), shape); !ok) return ok;
      for (std::int64_t o = 0; o < outer && row > 0; ++o)
        std::memcpy(at(ctx.outputs[k].raw(), o * row, es),
                    at(in.raw(), o * dim * inner + offset, es), static_cast<std::size_t>(row) * es);
    }
    offset += row;
  }
  return {};
}

result<void> slice(kernel_context& ctx) {
  if (auto ok = require_input(ctx, 0, "data"); !ok) return ok;
  const tensor& in = ctx.input(0);
  if (auto ok = require_storable(ctx, in, "data"); !ok) return ok;
  const auto rank = static_cast<std::int64_t>(in.rank());
  std::vector<std::int64_t> starts, ends, axes, steps;
  bool have_axes = false, have_steps = false;
  if (ctx.opset >= 10) {
    if (auto ok = require_input(ctx, 1, "starts"); !ok) return ok;
    if (auto ok = require_input(ctx, 2, "ends"); !ok) return ok;
    auto s = read_ints(ctx, ctx.input(1), "starts");
    if (!s) return s.error();
    auto e = read_ints(ctx, ctx.input(2), "ends");
    if (!e) return e.error();
    starts = std::move(*s);
    ends = std::move(*e);
    if (ctx.has_input(3)) {
      auto a = read_ints(ctx, ctx.input(3), "axes");
      if (!a) return a.error();
      axes = std::move(*a);
      have_axes = true;
    }
    if (ctx.has_input(4)) {
      auto st = read_ints(ctx, ctx.input(4), "steps");
      if (!st) return st.error();
      steps = std::move(*st);
      have_steps = true;
    }
  } else {
    if (!ctx.n.find("starts") || !ctx.n.find("ends"))
      return ctx.invalid("attributes 'starts' and 'ends' are required");
    starts = ctx.n.get_ints("starts");
    ends = ctx.n.get_ints("ends");
    have_axes = ctx.n.find("axes") != nullptr;
    axes = ctx.n.get_ints("axes");
  }
  if (!have_axes) {
    axes.resize(starts.size());
    for (std::size_t i = 0; i < axes.size(); ++i) axes[i] = static_cast<std::int64_t>(i);
  }
  if (!have_steps) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    return ctx.invalid("starts " + list_string(starts) + ", ends " + list_string(ends) +
                       ", axes " + list_string(axes) + " and steps " + list_string(steps) +
                       " differ in length");
  auto normal = normalize_axes(ctx, axes, rank, "axis");
  if (!normal) return normal.error();

  const auto in_strides = contiguous_strides(in.shape());
  shape_t out = in.shape();
  std::vector<std::int64_t> strides = in_strides;
  std::int64_t offset = 0;
  for (std::size_t i = 0; i < normal->size(); ++i) {
    const std::int64_t a = (*normal)[i];
    const std::int64_t dim = in.shape()[a];
    const std::int64_t step = steps[i];
    if (step == 0) return ctx.invalid("step for axis " + std::to_string(a) + " is 0");
    std::int64_t start = starts[i], end = ends[i];
    if (start < 0) start += dim;
    if (end < 0) end += dim;
    std::int64_t count;
    if (step > 0) {
      start = std::clamp<std::int64_t>(start, 0, dim);
      end = std::clamp<std::int64_t>(end, 0, dim);
      count = end > start ? (end - start - 1) / step + 1 : 0;
    } else {
      const std::int64_t back = step == INT64_MIN ? INT64_MAX : -step;
      start = std::clamp<std::int64_t>(start, 0, dim - 1);
      end = std::clamp<std::int64_t>(end, -1, dim - 1);
      count = start > end ? (start - end - 1) / back + 1 : 0;
    }
    out[a] = count;
    if (count > 0) offset += start * in_strides[a];
    // A stride is only followed when the axis keeps more than one element, where it is
    // bounded by the axis extent.
    strides[a] = count > 1 ? in_strides[a] * step : 0;
  }
  if (auto ok = allocate(ctx, 0, in.type(), out); !ok) return ok;
  strided_copy(ctx.outputs[0].raw(), in.raw(), size_of(in.type()), out, strides, offset);
  return {};
}

/// Maps each output coordinate along one axis to an input coordinate, or -1 for the pad value.
result<std::vector<std::int64_t>> pad_map(kernel_context& ctx, const std::string& mode,
                                          std::int64_t dim, std::int64_t begin, std::int64_t out) {
  std::vector<std::int64_t> map(static_cast<std::size_t>(out));
  for (std::int64_t i = 0; i < out; ++i) {
    std::int64_t c = i - begin;
    if (c < 0 || c >= dim) {
      if (mode == "constant") {
        c = -1;
      } else if (dim == 0) {
        return ctx.invalid("mode '" + mode + "' cannot pad an axis of size 0");
      } else if (mode == "edge") {
        c = std::clamp<std::int64_t>(c, 0, dim - 1);
      } else if (mode == "wrap") {
        c = ((c % dim) + dim) % dim;
      } else {
        // reflect: the coordinates repeat with period 2 * (dim - 1), mirrored at the edges.
        const std::int64_t period = 2 * (dim - 1);
        if (period == 0) {
          c = 0;
        } else {
          c = ((c % period) + period) % period;
          if (c >= dim) c = period - c;
        }
      }
    }
    map[i] = c;
  }
  return map;
}

result<void> pad(kernel_context& ctx) {
  if (auto ok = require_input(ctx, 0, "data"); !ok) return ok;
  const tensor& in = ctx.input(0);
  if (auto ok = require_storable(ctx, in, "data"); !ok) return ok;
  const auto rank = static_cast<std::int64_t>(in.rank());
  const std::size_t es = size_of(in.type());
  const std::string mode = ctx.n.get_string("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge" && mode != "wrap")
    return ctx.invalid("mode '" + mode + "' is not constant, reflect, edge or wrap");

  std::vector<std::int64_t> pads, axes;
  std::vector<std::byte> value(es, std::byte{0});
  if (ctx.opset >= 11) {
    if (auto ok = require_input(ctx, 1, "pads"); !ok) return ok;
    auto p = read_ints(ctx, ctx.input(1), "pads");
    if (!p) return p.error();
    pads = std::move(*p);
    if (ctx.has_input(2) && ctx.input(2).elements() > 0) {
      const tensor& v = ctx.input(2);
      if (v.type() != in.type())
        return ctx.invalid("constant_value has type " + std::string(to_string(v.type())) +
                           ", data has " + std::string(to_string(in.type())));
      std::memcpy(value.data(), v.raw(), es);
    }
    if (ctx.has_input(3)) {
      auto a = read_ints(ctx, ctx.input(3), "axes");
      if (!a) return a.error();
      auto normal = normalize_axes(ctx, *a, rank, "axis");
      if (!normal) return normal.error();
      axes = std::move(*normal);
    }
  } else {
    pads = ctx.n.find("pads") ? ctx.n.get_ints("pads") : ctx.n.get_ints("paddings");
    store_scalar(in.type(), value.data(), 0, ctx.n.get_float("value", 0.0f));
  }
  if (axes.empty() && !(ctx.opset >= 11 && ctx.has_input(3)))
    for (std::int64_t d = 0; d < rank; ++d) axes.push_back(d);
  if (pads.size() != 2 * axes.size())
    return ctx.invalid("pads " + list_string(pads) + " must hold 2 values per padded axis (" +
                       std::to_string(axes.size()) + " axes of shape " + to_string(in.shape()) +
                       ")");
  std::vector<std::int64_t> begin(static_cast<std::size_t>(rank), 0);
  std::vector<std::int64_t> end(static_cast<std::size_t>(rank), 0);
  for (std::size_t i = 0; i < axes.size(); ++i) {
    begin[axes[i]] = pads[i];
    end[axes[i]] = pads[i + axes.size()];
  }
  // No real tensor comes near 2^48 elements on an axis; the bound keeps the sums exact.
  constexpr std::int64_t pad_limit = std::int64_t{1} << 48;
  for (auto p : pads)
    if (p < -pad_limit || p > pad_limit)
      return ctx.invalid("pads " + list_string(pads) + " are out of range");
  shape_t out(static_cast<std::size_t>(rank));
  for (std::int64_t d = 0; d < rank; ++d) {
    out[d] = in.shape()[d] + begin[d] + end[d];
    if (out[d] < 0)
      return ctx.invalid("pads " + list_string(pads) + " crop axis " + std::to_string(d) +
                         " of shape " + to_string(in.shape()) + " below size 0");
  }
  if (auto ok = allocate(ctx, 0, in.type(), out); !ok) return ok;
  tensor& result_tensor = ctx.outputs[0];
  const std::int64_t total = result_tensor.elements();
  if (total == 0) return {};
  // Built after the allocation succeeded, so no map is longer than the output.
  std::vector<std::vector<std::int64_t>> maps;
  for (std::int64_t d = 0; d < rank; ++d) {
    auto m = pad_map(ctx, mode, in.shape()[d], begin[d], out[d]);
    if (!m) return m.error();
    maps.push_back(std::move(*m));
  }
  if (rank == 0) {
    std::memcpy(result_tensor.raw(), in.raw(), es);
    return {};
  }
  // Walk the output row by row (the last axis), tracking the input offset of the row start.
  const auto in_strides = contiguous_strides(in.shape());
  const std::int64_t inner = out[rank - 1];
  const auto& inner_map = maps[rank - 1];
  std::vector<std::int64_t> index(static_cast<std::size_t>(rank - 1), 0);
  std::byte* dst = static_cast<std::byte*>(result_tensor.raw());
  for (std::int64_t written = 0; written < total; written += inner) {
    bool outside = false;
    std::int64_t base = 0;
    for (std::int64_t d = 0; d + 1 < rank; ++d) {
      const std::int64_t c = maps[d][index[d]];
      if (c < 0) outside = true;
      base += c * in_strides[d];
    }
    if (outside) {
      fill_elements(dst, value.data(), es, inner);
    } else {
      for (std::int64_t j = 0; j < inner; ++j) {
        const std::int64_t c = inner_map[j];
        std::memcpy(dst + j * es, c < 0 ? value.data() : at(in.raw(), base + c, es), es);
      }
    }
    dst += inner * es;
    for (std::int64_t d = rank - 1; d-- > 0;) {
      if (++index[d] < out[d]) break;
      index[d] = 0;
    }
  }
  return {};
}

result<void> tile(kernel_context& ctx) {
  if (auto ok = require_input(ctx, 0, "input"); !ok) return ok;
  if (auto ok = require_input(ctx, 1, "repeats"); !ok) return ok;
  const tensor& in = ctx.input(0);
  if (auto ok = require_storable(ctx, in, "input"); !ok) return ok;
  auto repeats = read_ints(ctx, ctx.input(1), "repeats");
  if (!repeats) return repeats.error();
  const std::size_t rank = in.rank();
  if (repeats->size() != rank || ctx.input(1).rank() != 1)
    return ctx.invalid("repeats " + list_string(*repeats) + " must be 1-D with one value per axis of shape " +
                       to_string(in.shape()));
  // Tiling is a broadcast copy: the output viewed as [r0, s0, r1, s1, ...] reads the input
  // with stride 0 along each repeat axis.
  const auto in_strides = contiguous_strides(in.shape());
  shape_t view, out;
  std::vector<std::int64_t> strides;
  for (std::size_t d = 0; d < rank; ++d) {
    const std::int64_t r = (*repeats)[d];
    if (r < 0) return ctx.invalid("repeats " + list_string(*repeats) + " has a negative value");
    view.insert(view.end(), {r, in.shape()[d]});
    strides.insert(strides.end(), {0, in_strides[d]});
    std::int64_t dim = 0;
    if (__builtin_mul_overflow(r, in.shape()[d], &dim))
      return ctx.invalid("repeats " + list_string(*repeats) + " overflow shape " +
                         to_string(in.shape()));
    out.push_back(dim);
  }
  if (auto ok = allocate(ctx, 0, in.type(), out); !ok) return ok;
  // An empty output may pair a huge repeat with an empty axis; the view is then not walked.
  if (ctx.outputs[0].elements() == 0) return {};
  strided_copy(ctx.outputs[0].raw(), in.raw(), size_of(in.type()), view, strides, 0);
  return {};
}

result<void> expand(kernel_context& ctx) {
  if (auto ok = require_input(ctx, 0, "input"); !ok) return ok;
  if (auto ok = require_input(ctx, 1, "shape"); !ok) return ok;
  const tensor& in = ctx.input(0);
  if (auto ok = require_storable(ctx, in, "input"); !ok) return ok;
  auto shape = read_ints(ctx, ctx.input(1), "shape");
  if (!shape) return shape.error();
  if (ctx.input(1).rank() != 1)
    return ctx.invalid("input 'shape' must be 1-D, its shape is " + to_string(ctx.input(1).shape()));
  for (auto d : *shape)
    if (d < 0) return ctx.invalid("shape " + to_string(*shape) + " has a negative dimension");
  auto out = broadcast_shapes(in.shape(), *shape);
  if (!out)
    return ctx.invalid("cannot expand shape " + to_string(in.shape()) + " to " + to_string(*shape));
  if (auto ok = allocate(ctx, 0, in.type(), *out); !ok) return ok;
  strided_copy(ctx.outputs[0].raw(), in.raw(), size_of(in.type()), *out,
               broadcast_strides(in.shape(), *out), 0);
  return {};
}

}  // namespace

void register_slice_kernels(kernel_registry& r) {
  r.add("", "Concat", guarded(concat), 1);
  r.add("", "Split", guarded(split), 1);
  r.add("", "Slice", guarded(slice), 1);
  r.add("", "Pad", guarded(pad), 1);
  r.add("", "Tile", guarded(tile), 6);
  r.add("", "Expand", guarded(expand), 8);
}

}  // namespace edgert::engine::shape_detail
