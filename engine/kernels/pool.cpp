// Pooling reference kernels: MaxPool (with the optional Indices output), AveragePool, LpPool
// and their Global* forms, over any number of spatial axes.
// The kernels keep no state between calls; any thread may run them.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "engine/kernel.hpp"
#include "engine/kernels/dispatch.hpp"
#include "engine/kernels/register.hpp"
#include "engine/kernels/spatial.hpp"

namespace edgert::engine {

namespace {

using spatial::geometry;

enum class pool_kind { max, average, lp };

// For each spatial axis and output index: the input indices the window covers, and the
// number of window taps inside the padded extent (the count_include_pad divisor).
struct window_table {
  std::vector<std::vector<std::vector<std::int64_t>>> taps;  // [axis][out index] -> input indices
  std::vector<std::vector<std::int64_t>> padded_count;       // [axis][out index]
};

window_table make_table(const geometry& g) {
  window_table t;
  const std::size_t r = g.rank();
  t.taps.resize(r);
  t.padded_count.resize(r);
  for (std::size_t a = 0; a < r; ++a) {
    t.taps[a].resize(static_cast<std::size_t>(g.out[a]));
    t.padded_count[a].resize(static_cast<std::size_t>(g.out[a]));
    for (std::int64_t o = 0; o < g.out[a]; ++o) {
      std::int64_t padded = 0;
      for (std::int64_t k = 0; k < g.kernel[a]; ++k) {
        const std::int64_t pos = o * g.strides[a] + k * g.dilations[a] - g.pad_begin[a];
        if (pos >= 0 && pos < g.in[a]) t.taps[a][o].push_back(pos);
        if (pos >= -g.pad_begin[a] && pos < g.in[a] + g.pad_end[a]) ++padded;
      }
      t.padded_count[a][o] = padded;
    }
  }
  return t;
}

// Calls f(offset_row_major, offset_column_major) for every input position of the window
// whose per-axis index lists are `lists` (all non-empty). `at` is scratch of rank entries.
template <class F>
inline void for_each_tap(const std::vector<const std::vector<std::int64_t>*>& lists, const geometry& g,
                         std::vector<std::size_t>& at, F&& f) {
  const std::size_t r = lists.size();
  if (r == 2) {
    const std::int64_t h = g.in[0], w = g.in[1];
    for (std::int64_t i : *lists[0])
      for (std::int64_t j : *lists[1]) f(i * w + j, j * h + i);
    return;
  }
  std::fill(at.begin(), at.end(), 0);
  for (;;) {
    std::int64_t row = 0, col = 0, col_stride = 1;
    for (std::size_t a = 0; a < r; ++a) {
      const std::int64_t p = (*lists[a])[at[a]];
      row = row * g.in[a] + p;
      col += p * col_stride;
      col_stride *= g.in[a];
    }
    f(row, col);
    std::size_t a = r;
    for (; a-- > 0;) {
      if (++at[a] < lists[a]->size()) break;
      at[a] = 0;
    }
    if (a == static_cast<std::size_t>(-1)) return;
  }
}

template <class T>
void pool_typed(kernel_context& ctx, const geometry& g, pool_kind kind, bool count_include_pad, double p,
                tensor& y, tensor* indices) {
  const tensor& x = ctx.input(0);
  const std::int64_t planes = x.shape()[0] * x.shape()[1];
  const std::int64_t in_size = g.in_size(), out_size = g.out_size();
  const std::size_t r = g.rank();
  const window_table table = make_table(g);
  const bool column_major = ctx.n.get_int("storage_order", 0) == 1;
  const T* xd = x.data<T>();
  T* yd = y.data<T>();
  std::int64_t* id = indices ? indices->data<std::int64_t>() : nullptr;
  std::vector<std::int64_t> o(r, 0);
  std::vector<std::size_t> at(r, 0);
  std::vector<const std::vector<std::int64_t>*> lists(r);
  for (std::int64_t plane = 0; plane < planes; ++plane) {
    const T* xp = xd + plane * in_size;
    std::fill(o.begin(), o.end(), 0);
    for (std::int64_t pos = 0; pos < out_size; ++pos) {
      bool empty = false;
      std::int64_t padded = 1;
      for (std::size_t a = 0; a < r; ++a) {
        lists[a] = &table.taps[a][o[a]];
        empty = empty || lists[a]->empty();
        padded *= table.padded_count[a][o[a]];
      }
      T& out = yd[plane * out_size + pos];
      if (kind == pool_kind::max) {
        T best = std::numeric_limits<T>::lowest();
        std::int64_t best_index = 0;
        bool first = true;
        if (!empty)
          for_each_tap(lists, g, at, [&](std::int64_t row, std::int64_t col) {
            if (first || xp[row] > best) {
              best = xp[row];
              best_index = column_major ? col : row;
              first = false;
            }
          });
        out = best;
        if (id) id[plane * out_size + pos] = plane * in_size + best_index;
      } else if (kind == pool_kind::average) {
        double sum = 0;
        std::int64_t count = 0;
        if (!empty)
          for_each_tap(lists, g, at, [&](std::int64_t row, std::int64_t) {
            sum += static_cast<double>(xp[row]);
            ++count;
          });
        const std::int64_t divisor = count_include_pad ? padded : count;
        out = static_cast<T>(divisor > 0 ? sum / static_cast<double>(divisor) : 0.0);
      } else {
        double sum = 0;
        if (!empty)
          for_each_tap(lists, g, at, [&](std::int64_t row, std::int64_t) {
            sum += std::pow(std::fabs(static_cast<double>(xp[row])), p);
          });
        out = static_cast<T>(std::pow(sum, 1.0 / p));
      }
      for (std::size_t a = r; a-- > 0;) {
        if (++o[a] < g.out[a]) break;
        o[a] = 0;
      }
    }
  }
}

// LpPool-1 has a float attribute p; later versions an integer one.
double lp_order(const kernel_context& ctx) {
  const attribute* a = ctx.n.find("p");
  if (!a) return 2.0;
  return a->type == attribute::kind::f ? static_cast<double>(a->f) : static_cast<double>(a->i);
}

result<void> check_input(const kernel_context& ctx) {
  if (!ctx.has_input(0)) return ctx.invalid("the input X is missing");
  const tensor& x = ctx.input(0);
  if (x.rank() < 3)
    return ctx.invalid("input X must have rank >= 3 ([N, C, spatial...]), got " + to_string(x.shape()));
  return {};
}

result<void> pool(kernel_context& ctx, pool_kind kind) {
  if (auto ok = check_input(ctx); !ok) return ok;
  const tensor& x = ctx.input(0);
  std::vector<std::int64_t> in(x.shape().begin() + 2, x.shape().end());
  auto kernel = ctx.n.get_ints("kernel_shape");
  if (kernel.empty()) return ctx.invalid("the kernel_shape attribute is required");
  spatial::window_options opt;
  opt.ceil_mode = ctx.n.get_int("ceil_mode", 0) != 0;
  auto g = spatial::resolve(ctx, in, kernel, opt);
  if (!g) return g.error();
  if (kind == pool_kind::max && ctx.n.get_int("storage_order", 0) > 1)
    return ctx.invalid("storage_order must be 0 or 1");
  const bool count_include_pad = ctx.n.get_int("count_include_pad", 0) != 0;
  const double p = kind == pool_kind::lp ? lp_order(ctx) : 0.0;
  if (kind == pool_kind::lp && p <= 0) return ctx.invalid("p must be positive");

  shape_t out_shape{x.shape()[0], x.shape()[1]};
  out_shape.insert(out_shape.end(), g->out.begin(), g->out.end());
  tensor y(x.type(), out_shape);
  const bool want_indices = kind == pool_kind::max && ctx.outputs.size() > 1 && !ctx.n.outputs[1].empty();
  tensor indices = want_indices ? tensor(dtype::i64, out_shape) : tensor();
  bool done = false;
  auto run = [&](auto v) {
    pool_typed<decltype(v)>(ctx, *g, kind, count_include_pad, p, y, want_indices ? &indices : nullptr);
    done = true;
  };
  if (kind == pool_kind::max)
    dispatch_numeric(x.type(), run);
  else
    dispatch_float(x.type(), run);
  if (!done) return ctx.unsupported("pooling of " + std::string(to_string(x.type())) + " tensors");
  ctx.outputs[0] = y;
  if (want_indices) ctx.outputs[1] = indices;
  return {};
}

template <class T>
void global_typed(const tensor& x, tensor& y, pool_kind kind, double p) {
  const std::int64_t planes = x.shape()[0] * x.shape()[1];
  const std::int64_t size = planes == 0 ? 0 : x.elements() / planes;
  const T* xd = x.data<T>();
  T* yd = y.data<T>();
  for (std::int64_t plane = 0; plane < planes; ++plane) {
    const T* xp = xd + plane * size;
    if (kind == pool_kind::max) {
      T best = size > 0 ? xp[0] : T{};
      for (std::int64_t i = 1; i < size; ++i)
        if (xp[i] > best) best = xp[i];
      yd[plane] = best;
    } else if (kind == pool_kind::average) {
      double sum = 0;
      for (std::int64_t i = 0; i < size; ++i) sum += static_cast<double>(xp[i]);
      yd[plane] = static_cast<T>(size > 0 ? sum / static_cast<double>(size) : 0.0);
    } else {
      double sum = 0;
      for (std::int64_t i = 0; i < size; ++i)
        sum += std::pow(std::fabs(static_cast<double>(xp[i])), p);
      yd[plane] = static_cast<T>(std::pow(sum, 1.0 / p));
    }
  }
}

result<void> global_pool(kernel_context& ctx, pool_kind kind) {
  if (auto ok = check_input(ctx); !ok) return ok;
  const tensor& x = ctx.input(0);
  shape_t out_shape = x.shape();
  for (std::size_t i = 2; i < out_shape.size(); ++i) out_shape[i] = 1;
  const double p = kind == pool_kind::lp ? lp_order(ctx) : 0.0;
  if (kind == pool_kind::lp && p <= 0) return ctx.invalid("p must be positive");
  tensor y(x.type(), out_shape);
  bool done = false;
  auto run = [&](auto v) {
    global_typed<decltype(v)>(x, y, kind, p);
    done = true;
  };
  if (kind == pool_kind::max)
    dispatch_numeric(x.type(), run);
  else
    dispatch_float(x.type(), run);
  if (!done) return ctx.unsupported("pooling of " + std::string(to_string(x.type())) + " tensors");
  ctx.outputs[0] = y;
  return {};
}

// MaxUnpool: scatters X into a zero tensor at the flat indices I (as produced by MaxPool's
// Indices output). The indices address the tensor of the inferred shape (the inverse of the
// pooling geometry); an explicit output_shape input places each element at the same
// batch, channel and spatial coordinates of the larger output.
template <class T>
void unpool_typed(const tensor& x, const tensor& indices, const shape_t& inferred, tensor& y) {
  const T* xd = x.data<T>();
  const std::int64_t* id = indices.data<std::int64_t>();
  T* yd = y.data<T>();
  const shape_t& out = y.shape();
  const std::int64_t limit = element_count(inferred);
  const bool same = inferred == out;
  for (std::int64_t i = 0, n = x.elements(); i < n; ++i) {
    std::int64_t idx = id[i];
    if (idx < 0 || idx >= limit) continue;
    if (!same) {
      // Unflatten in the inferred shape, flatten in the output shape.
      std::int64_t flat = 0, rest = idx, scale = 1;
      bool inside = true;
      for (std::size_t a = inferred.size(); a-- > 0;) {
        const std::int64_t c = rest % inferred[a];
        rest /= inferred[a];
        if (c >= out[a]) inside = false;
        flat += c * scale;
        scale *= out[a];
      }
      if (!inside) continue;
      idx = flat;
    }
    yd[idx] = xd[i];
  }
}

result<void> max_unpool(kernel_context& ctx) {
  if (auto ok = check_input(ctx); !ok) return ok;
  if (!ctx.has_input(1)) return ctx.invalid("the indices input I is missing");
  const tensor& x = ctx.input(0);
  const tensor& indices = ctx.input(1);
  if (indices.type() != dtype::i64 || indices.shape() != x.shape())
    return ctx.invalid("indices I " + to_string(indices.shape()) + " must be int64 with the shape of X " +
                       to_string(x.shape()));
  const std::size_t r = x.rank() - 2;
  auto kernel = ctx.n.get_ints("kernel_shape");
  if (kernel.size() != r) return ctx.invalid("kernel_shape must have " + std::to_string(r) + " values");
  auto strides = ctx.n.get_ints("strides");
  auto pads = ctx.n.get_ints("pads");
  if (strides.empty()) strides.assign(r, 1);
  if (pads.empty()) pads.assign(2 * r, 0);
  if (strides.size() != r || pads.size() != 2 * r)
    return ctx.invalid("strides and pads must have " + std::to_string(r) + " and " + std::to_string(2 * r) +
                       " values");
  shape_t inferred{x.shape()[0], x.shape()[1]};
  for (std::size_t i = 0; i < r; ++i) {
    const std::int64_t d = (x.shape()[i + 2] - 1) * strides[i] + kernel[i] - pads[i] - pads[i + r];
    if (d < 0) return ctx.invalid("the computed output extent is negative");
    inferred.push_back(d);
  }
  shape_t out_shape = inferred;
  if (ctx.has_input(2)) {
    const tensor& s = ctx.input(2);
    if (s.type() != dtype::i64 || s.rank() != 1 || s.elements() != static_cast<std::int64_t>(x.rank()))
      return ctx.invalid("output_shape must be a 1-D int64 tensor of " + std::to_string(x.rank()) + " values");
    out_shape.assign(s.data<std::int64_t>(), s.data<std::int64_t>() + s.elements());
    for (auto d : out_shape)
      if (d < 0) return ctx.invalid("output_shape " + to_string(out_shape) + " has a negative extent");
  }
  tensor y(x.type(), out_shape);
  bool done = dispatch_any(x.type(), [&](auto v) { unpool_typed<decltype(v)>(x, indices, inferred, y); });
  if (!done) return ctx.unsupported("MaxUnpool of " + std::string(to_string(x.type())) + " tensors");
  ctx.outputs[0] = y;
  return {};
}

result<void> max_pool(kernel_context& ctx) { return pool(ctx, pool_kind::max); }
result<void> average_pool(kernel_context& ctx) { return pool(ctx, pool_kind::average); }
result<void> lp_pool(kernel_context& ctx) { return pool(ctx, pool_kind::lp); }
result<void> global_max_pool(kernel_context& ctx) { return global_pool(ctx, pool_kind::max); }
result<void> global_average_pool(kernel_context& ctx) { return global_pool(ctx, pool_kind::average); }
result<void> global_lp_pool(kernel_context& ctx) { return global_pool(ctx, pool_kind::lp); }

}  // namespace

void register_pool_kernels(kernel_registry& r) {
  r.add("", "MaxPool", [](kernel_context& ctx) { return spatial::with_half_promoted(ctx, max_pool); }, 1);
  r.add("", "AveragePool", [](kernel_context& ctx) { return spatial::with_half_promoted(ctx, average_pool); }, 1);
  r.add("", "MaxUnpool", [](kernel_context& ctx) { return spatial::guarded(ctx, max_unpool); }, 9);
  r.add("", "LpPool", [](kernel_context& ctx) { return spatial::with_half_promoted(ctx, lp_pool); }, 1);
  r.add("", "GlobalMaxPool", [](kernel_context& ctx) { return spatial::with_half_promoted(ctx, global_max_pool); }, 1);
  r.add("", "GlobalAveragePool",
        [](kernel_context& ctx) { return spatial::with_half_promoted(ctx, global_average_pool); }, 1);
  r.add("", "GlobalLpPool", [](kernel_context& ctx) { return spatial::with_half_promoted(ctx, global_lp_pool); }, 1);
}

}  // namespace edgert::engine
