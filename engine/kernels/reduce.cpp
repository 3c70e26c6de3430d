// Reductions: ReduceSum, ReduceMean, ReduceProd, ReduceMax, ReduceMin, ReduceL1, ReduceL2,
// ReduceLogSum, ReduceLogSumExp, ReduceSumSquare, and the index reductions ArgMax, ArgMin and
// TopK.
//
// Float inputs accumulate sums and products in double; integer inputs accumulate in 64 bits
// (wrapping like the element type would) and halves are computed in float.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <type_traits>

#include "engine/kernels/elementwise.hpp"
#include "engine/kernels/register.hpp"

namespace edgert::engine {
namespace kernels {
namespace {

std::string type_name(const tensor& t) { return std::string(to_string(t.type())); }

enum class reduce_kind { sum, mean, prod, max, min, l1, l2, log_sum, log_sum_exp, sum_square };

// Which dimensions a Reduce* node reduces, and the shapes on either side.
struct reduce_plan {
  bool identity = false;  // noop_with_empty_axes with no axes: the output is the input
  shape_t kept_shape;     // the input shape with every reduced dimension set to 1
  shape_t out_shape;      // kept_shape, or without the reduced dimensions when keepdims=0
  std::int64_t count = 1; // elements folded into each output element
};

result<reduce_plan> plan_reduce(kernel_context& ctx, const tensor& x, bool axes_from_input) {
  std::vector<std::int64_t> axes;
  if (axes_from_input) {
    if (ctx.has_input(1)) {
      auto a = to_int64s(ctx.input(1));
      if (!a) return ctx.invalid("axes must be int64, got " + type_name(ctx.input(1)));
      axes = *a;
    }
  } else {
    axes = ctx.n.get_ints("axes");
  }
  reduce_plan plan;
  const auto rank = static_cast<std::int64_t>(x.rank());
  std::vector<bool> reduced(x.rank(), false);
  if (axes.empty()) {
    if (ctx.n.get_int("noop_with_empty_axes", 0) != 0) {
      plan.identity = true;
      return plan;
    }
    reduced.assign(x.rank(), true);
  }
  for (auto axis : axes) {
    auto a = normalize_axis(axis, rank);
    if (!a) return ctx.invalid("axis " + std::to_string(axis) + " is out of range for shape " +
                               to_string(x.shape()));
    if (reduced[*a]) return ctx.invalid("axis " + std::to_string(axis) + " is repeated");
    reduced[*a] = true;
  }
  const bool keepdims = ctx.n.get_int("keepdims", 1) != 0;
  for (std::size_t d = 0; d < x.rank(); ++d) {
    if (reduced[d]) {
      plan.count *= x.shape()[d];
      plan.kept_shape.push_back(1);
      if (keepdims) plan.out_shape.push_back(1);
    } else {
      plan.kept_shape.push_back(x.shape()[d]);
      plan.out_shape.push_back(x.shape()[d]);
    }
  }
  return plan;
}

// acc[j] = combine(acc[j], map(x[i])) for every input element i folded into output j.
template <class T, class Acc, class Map, class Combine>
void fold(const tensor& x, const shape_t& kept_shape, std::vector<Acc>& acc, Map map,
          Combine combine) {
  auto plan = plan_broadcast<1>(x.shape(), {kept_shape});
  const T* in = x.data<T>();
  for_each_run(plan, [&](const std::array<std::int64_t, 1>& off,
                         const std::array<std::int64_t, 1>& step, std::int64_t n, std::int64_t o) {
    const T* p = in + o;
    Acc* a = acc.data() + off[0];
    if (step[0] == 0) {
      Acc v = *a;
      for (std::int64_t i = 0; i < n; ++i) v = combine(v, map(p[i]));
      *a = v;
    } else {
      for (std::int64_t i = 0; i < n; ++i) a[i * step[0]] = combine(a[i * step[0]], map(p[i]));
    }
  });
}

// The accumulator type for sums and products of T.
template <class T>
using acc_t = std::conditional_t<std::is_floating_point_v<T>, double,
                                 std::conditional_t<std::is_signed_v<T>, std::int64_t, std::uint64_t>>;

template <class A>
A wrapping_add(A a, A b) {
  if constexpr (std::is_integral_v<A>)
    return static_cast<A>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
  else
    return a + b;
}

template <class A>
A wrapping_mul(A a, A b) {
  if constexpr (std::is_integral_v<A>)
    return static_cast<A>(static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b));
  else
    return a * b;
}

// |v|, wrapping the most negative integer to itself instead of overflowing.
template <class T>
T abs_value(T v) {
  if constexpr (std::is_unsigned_v<T>) {
    return v;
  } else if constexpr (std::is_integral_v<T>) {
    using U = std::make_unsigned_t<T>;
    return v < T{0} ? static_cast<T>(U{0} - static_cast<U>(v)) : v;
  } else {
    return std::fabs(v);
  }
}

// Max/Min keep the first NaN they meet, like NumPy's maximum.reduce.
template <class T>
T pick_max(T acc, T v) {
  if constexpr (std::is_floating_point_v<T>)
    if (std::isnan(acc)) return acc;
  if constexpr (std::is_floating_point_v<T>)
    if (std::isnan(v)) return v;
  return v > acc ? v : acc;
}

template <class T>
T pick_min(T acc, T v) {
  if constexpr (std::is_floating_point_v<T>)
    if (std::isnan(acc)) return acc;
  if constexpr (std::is_floating_point_v<T>)
    if (std::isnan(v)) return v;
  return v < acc ? v : acc;
}

template <class T>
T lowest_value() {
  if constexpr (std::is_floating_point_v<T>) return -std::numeric_limits<T>::infinity();
  else return std::numeric_limits<T>::lowest();
}

template <class T>
T highest_value() {
  if constexpr (std::is_floating_point_v<T>) return std::numeric_limits<T>::infinity();
  else return std::numeric_limits<T>::max();
}

template <class T>
tensor reduce_typed(const tensor& x, const reduce_plan& plan, reduce_kind kind) {
  using A = acc_t<T>;
  const auto n = static_cast<std::size_t>(element_count(plan.kept_shape));
  tensor y(x.type(), plan.out_shape);
  T* out = y.data<T>();
  if (kind == reduce_kind::max || kind == reduce_kind::min || kind == reduce_kind::log_sum_exp) {
    const bool is_min = kind == reduce_kind::min;
    std::vector<T> best(n, is_min ? highest_value<T>() : lowest_value<T>());
    auto same = [](T v) { return v; };
    if (is_min) fold<T>(x, plan.kept_shape, best, same, pick_min<T>);
    else fold<T>(x, plan.kept_shape, best, same, pick_max<T>);
    if (kind != reduce_kind::log_sum_exp) {
      std::copy(best.begin(), best.end(), out);
      return y;
    }
    // log(sum(exp(x - m))) + m with m the maximum, so no exp overflows; a second walk over
    // the input pairs each element with its output's maximum.
    std::vector<double> sum(n, 0.0);
    auto plan_b = plan_broadcast<1>(x.shape(), {plan.kept_shape});
    const T* in = x.data<T>();
    for_each_run(plan_b, [&](const std::array<std::int64_t, 1>& off,
                             const std::array<std::int64_t, 1>& step, std::int64_t cnt,
                             std::int64_t o) {
      for (std::int64_t i = 0; i < cnt; ++i) {
        const std::int64_t j = off[0] + i * step[0];
        const double m = static_cast<double>(best[j]);
        if (std::isfinite(m)) sum[j] += std::exp(static_cast<double>(in[o + i]) - m);
      }
    });
    for (std::size_t j = 0; j < n; ++j) {
      const double m = static_cast<double>(best[j]);
      out[j] = convert_value<T>(std::isfinite(m) ? m + std::log(sum[j]) : m);
    }
    return y;
  }
  std::vector<A> acc(n, kind == reduce_kind::prod ? A{1} : A{0});
  auto add = [](A a, A b) { return wrapping_add(a, b); };
  switch (kind) {
    case reduce_kind::prod:
      fold<T>(x, plan.kept_shape, acc, [](T v) { return static_cast<A>(v); },
              [](A a, A b) { return wrapping_mul(a, b); });
      break;
    case reduce_kind::l1:
      fold<T>(x, plan.kept_shape, acc, [](T v) { return static_cast<A>(abs_value(v)); }, add);
      break;
    case reduce_kind::l2:
    case reduce_kind::sum_square:
      fold<T>(x, plan.kept_shape, acc,
              [](T v) { return wrapping_mul(static_cast<A>(v), static_cast<A>(v)); }, add);
      break;
    default:
      fold<T>(x, plan.kept_shape, acc, [](T v) { return static_cast<A>(v); }, add);
      break;
  }
  for (std::size_t j = 0; j < n; ++j) {
    A v = acc[j];
    switch (kind) {
      case reduce_kind::mean:
        if constexpr (std::is_floating_point_v<A>)
          v = v / static_cast<A>(plan.count);
        else
          v = plan.count == 0 ? A{0} : static_cast<A>(v / static_cast<A>(plan.count));
        out[j] = static_cast<T>(v);
        break;
      case reduce_kind::l2:
        out[j] = convert_value<T>(std::sqrt(static_cast<double>(v)));
        break;
      case reduce_kind::log_sum:
        out[j] = convert_value<T>(std::log(static_cast<double>(v)));
        break;
      default:
        out[j] = static_cast<T>(v);
        break;
    }
  }
  return y;
}

// Registers a Reduce* op; axes come from input 1 from opset `axes_input_since` on.
void add_reduce(kernel_registry& r, const char* op, reduce_kind kind, std::int64_t axes_input_since) {
  r.add("", op, guarded([kind, axes_input_since](kernel_context& ctx) -> result<void> {
          if (!ctx.has_input(0)) return ctx.invalid("input 0 is missing");
          const tensor& x = ctx.input(0);
          auto plan = plan_reduce(ctx, x, ctx.opset >= axes_input_since);
          if (!plan) return plan.error();
          if (plan->identity) {
            ctx.outputs[0] = x.clone();
            return {};
          }
          if (is_half(x.type())) {
            ctx.outputs[0] = narrow_half(reduce_typed<float>(widen_half(x), *plan, kind), x.type());
            return {};
          }
          bool ok = dispatch_numeric(x.type(), [&](auto tag) {
            ctx.outputs[0] = reduce_typed<decltype(tag)>(x, *plan, kind);
          });
          if (!ok) return ctx.unsupported("input type " + type_name(x) + " is not supported");
          return {};
        }),
        1);
}

// The shape around one axis: outer * len * inner elements.
struct axis_split {
  std::int64_t outer = 1, len = 1, inner = 1;
};

axis_split split_at(const shape_t& shape, std::size_t axis) {
  axis_split s;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (d < axis) s.outer *= shape[d];
    else if (d == axis) s.len = shape[d];
    else s.inner *= shape[d];
  }
  return s;
}

result<void> arg_reduce(kernel_context& ctx, bool is_max) {
  if (!ctx.has_input(0)) return ctx.invalid("input 0 is missing");
  const tensor x = widen_half(ctx.input(0));
  const auto rank = static_cast<std::int64_t>(x.rank());
  const std::int64_t raw_axis = ctx.n.get_int("axis", 0);
  auto axis = normalize_axis(raw_axis, rank);
  if (!axis) return ctx.invalid("axis " + std::to_string(raw_axis) + " is out of range for shape " +
                                to_string(x.shape()));
  const auto s = split_at(x.shape(), static_cast<std::size_t>(*axis));
  if (s.len == 0) return ctx.invalid("cannot take the arg-extreme of an empty axis in shape " +
                                     to_string(x.shape()));
  const bool last = ctx.n.get_int("select_last_index", 0) != 0;
  shape_t out_shape = x.shape();
  if (ctx.n.get_int("keepdims", 1) != 0) out_shape[*axis] = 1;
  else out_shape.erase(out_shape.begin() + *axis);
  tensor y(dtype::i64, out_shape);
  std::int64_t* out = y.data<std::int64_t>();
  bool ok = dispatch_numeric(x.type(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = x.data<T>();
    for (std::int64_t o = 0; o < s.outer; ++o)
      for (std::int64_t i = 0; i < s.inner; ++i) {
        const T* p = in + o * s.len * s.inner + i;
        std::int64_t best = 0;
        for (std::int64_t k = 1; k < s.len; ++k) {
          const T v = p[k * s.inner];
          const T b = p[best * s.inner];
          const bool better = is_max ? (v > b) : (v < b);
          if (better || (last && v == b)) best = k;
        }
        out[o * s.inner + i] = best;
      }
  });
  if (!ok) return ctx.unsupported("input type " + type_name(x) + " is not supported");
  ctx.outputs[0] = std::move(y);
  return {};
}

result<void> topk_kernel(kernel_context& ctx) {
  if (!ctx.has_input(0)) return ctx.invalid("input 0 is missing");
  const dtype type = ctx.input(0).type();
  const tensor x = widen_half(ctx.input(0));
  std::int64_t k = 0;
  if (ctx.opset < 10) {
    if (!ctx.n.find("k")) return ctx.invalid("attribute 'k' is missing");
    k = ctx.n.get_int("k", 0);
  } else {
    if (!ctx.has_input(1)) return ctx.invalid("input K is missing");
    auto kv = to_int64s(ctx.input(1));
    if (!kv || kv->size() != 1) return ctx.invalid("K must be a single int64 value");
    k = (*kv)[0];
  }
  const auto rank = static_cast<std::int64_t>(x.rank());
  const std::int64_t raw_axis = ctx.n.get_int("axis", -1);
  auto axis = normalize_axis(raw_axis, rank);
  if (!axis) return ctx.invalid("axis " + std::to_string(raw_axis) + " is out of range for shape " +
                                to_string(x.shape()));
  const auto s = split_at(x.shape(), static_cast<std::size_t>(*axis));
  if (k < 0 || k > s.len)
    return ctx.invalid("k = " + std::to_string(k) + " is outside [0, " + std::to_string(s.len) +
                       "] for axis " + std::to_string(*axis) + " of shape " + to_string(x.shape()));
  const bool largest = ctx.n.get_int("largest", 1) != 0;
  shape_t out_shape = x.shape();
  out_shape[*axis] = k;
  tensor values(x.type(), out_shape);
  tensor indices(dtype::i64, out_shape);
  std::int64_t* out_i = indices.data<std::int64_t>();
  bool ok = dispatch_numeric(x.type(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = x.data<T>();
    T* out_v = values.data<T>();
    // NaN ranks above every number; equal values keep the smaller index first. The result is
    // always sorted, which also satisfies sorted=0.
    auto above = [](T a, T b) {
      if constexpr (std::is_floating_point_v<T>)
        if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && !std::isnan(b);
      return a > b;
    };
    std::vector<std::int64_t> order(static_cast<std::size_t>(s.len));
    for (std::int64_t o = 0; o < s.outer; ++o)
      for (std::int64_t i = 0; i < s.inner; ++i) {
        const T* p = in + o * s.len * s.inner + i;
        std::iota(order.begin(), order.end(), 0);
        std::partial_sort(order.begin(), order.begin() + k, order.end(),
                          [&](std::int64_t a, std::int64_t b) {
                            const T va = p[a * s.inner];
                            const T vb = p[b * s.inner];
                            if (largest ? above(va, vb) : above(vb, va)) return true;
                            if (largest ? above(vb, va) : above(va, vb)) return false;
                            return a < b;
                          });
        for (std::int64_t j = 0; j < k; ++j) {
          const std::int64_t dst = (o * k + j) * s.inner + i;
          out_v[dst] = p[order[j] * s.inner];
          out_i[dst] = order[j];
        }
      }
  });
  if (!ok) return ctx.unsupported("input type " + type_name(x) + " is not supported");
  ctx.outputs[0] = is_half(type) ? narrow_half(values, type) : std::move(values);
  if (ctx.outputs.size() > 1 && !ctx.n.outputs[1].empty()) ctx.outputs[1] = std::move(indices);
  return {};
}

}  // namespace

}  // namespace kernels

void register_reduce_kernels(kernel_registry& r) {
  using kernels::reduce_kind;
  kernels::add_reduce(r, "ReduceSum", reduce_kind::sum, 13);
  kernels::add_reduce(r, "ReduceMean", reduce_kind::mean, 18);
  kernels::add_reduce(r, "ReduceProd", reduce_kind::prod, 18);
  kernels::add_reduce(r, "ReduceMax", reduce_kind::max, 18);
  kernels::add_reduce(r, "ReduceMin", reduce_kind::min, 18);
  kernels::add_reduce(r, "ReduceL1", reduce_kind::l1, 18);
  kernels::add_reduce(r, "ReduceL2", reduce_kind::l2, 18);
  kernels::add_reduce(r, "ReduceLogSum", reduce_kind::log_sum, 18);
  kernels::add_reduce(r, "ReduceLogSumExp", reduce_kind::log_sum_exp, 18);
  kernels::add_reduce(r, "ReduceSumSquare", reduce_kind::sum_square, 18);
  r.add("", "ArgMax", kernels::guarded([](kernel_context& ctx) { return kernels::arg_reduce(ctx, true); }), 1);
  r.add("", "ArgMin", kernels::guarded([](kernel_context& ctx) { return kernels::arg_reduce(ctx, false); }), 1);
  r.add("", "TopK", kernels::guarded(kernels::topk_kernel), 1);
}

}  // namespace edgert::engine
