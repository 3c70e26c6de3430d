// BatchNormalization (inference), InstanceNormalization, LayerNormalization, LRN and
// MeanVarianceNormalization, and the normalization family's registration.
//
// Statistics accumulate in double; halves are computed in float and rounded back.
#include <algorithm>
#include <cmath>

#include "engine/kernels/elementwise.hpp"
#include "engine/kernels/normalization.hpp"
#include "engine/kernels/register.hpp"

namespace edgert::engine {
namespace kernels {
namespace {

std::string type_name(const tensor& t) { return std::string(to_string(t.type())); }

// Calls f(float{}) or f(double{}) for the (widened) compute type of x; false for other types.
template <class F>
bool dispatch_compute(const tensor& x, F&& f) {
  return dispatch_float(x.type(), std::forward<F>(f));
}

// Stores y, rounding back to `type` when the input was a half type.
tensor restore(tensor y, dtype type) { return is_half(type) ? narrow_half(y, type) : y; }

result<void> batch_norm(kernel_context& ctx) {
  for (std::size_t i = 0; i < 5; ++i)
    if (!ctx.has_input(i)) return ctx.invalid("input " + std::to_string(i) + " is missing");
  if (ctx.opset >= 14 && ctx.n.get_int("training_mode", 0) != 0)
    return ctx.unsupported("training_mode=1 is not supported (inference only)");
  for (std::size_t i = 1; i < ctx.n.outputs.size(); ++i)
    if (!ctx.n.outputs[i].empty())
      return ctx.unsupported("the training outputs (running and saved statistics) are not supported");
  const dtype type = ctx.input(0).type();
  const tensor x = widen_half(ctx.input(0));
  if (x.rank() < 2) return ctx.invalid("input must have at least 2 dimensions, got " + to_string(x.shape()));
  const std::int64_t channels = x.shape()[1];
  const std::int64_t spatial = x.elements() / std::max<std::int64_t>(1, x.shape()[0] * channels);
  // Parameters hold one value per channel or, with spatial=0 before opset 9, one value per
  // element of a sample (shape C x D1 x ...).
  const std::int64_t per_sample = channels * spatial;
  std::vector<std::vector<double>> p;
  for (std::size_t i = 1; i < 5; ++i) {
    p.push_back(to_doubles(ctx.input(i)));
    const auto count = static_cast<std::int64_t>(p.back().size());
    if ((count != channels && count != per_sample) || count != static_cast<std::int64_t>(p[0].size()))
      return ctx.invalid("parameter input " + std::to_string(i) + " has shape " +
                         to_string(ctx.input(i).shape()) + ", expected [" +
                         std::to_string(channels) + "] like scale for input " + to_string(x.shape()));
  }
  const double epsilon = ctx.n.get_float("epsilon", 1e-5f);
  const bool per_element = static_cast<std::int64_t>(p[0].size()) == per_sample && spatial != 1;
  const std::int64_t groups = per_element ? per_sample : channels;
  const std::int64_t run = per_element ? 1 : spatial;
  std::vector<double> a(groups), b(groups);
  for (std::int64_t g = 0; g < groups; ++g) {
    a[g] = p[0][g] / std::sqrt(p[3][g] + epsilon);
    b[g] = p[1][g] - p[2][g] * a[g];
  }
  tensor y(x.type(), x.shape());
  bool ok = dispatch_compute(x, [&](auto tag) {
    using T = decltype(tag);
    const T* in = x.data<T>();
    T* out = y.data<T>();
    const std::int64_t batches = x.shape()[0];
    for (std::int64_t n = 0; n < batches; ++n)
      for (std::int64_t g = 0; g < groups; ++g) {
        const std::int64_t base = (n * groups + g) * run;
        for (std::int64_t i = 0; i < run; ++i)
          out[base + i] = static_cast<T>(static_cast<double>(in[base + i]) * a[g] + b[g]);
      }
  });
  if (!ok) return ctx.unsupported("input type " + type_name(ctx.input(0)) + " is not supported");
  ctx.outputs[0] = restore(std::move(y), type);
  return {};
}

result<void> instance_norm(kernel_context& ctx) {
  for (std::size_t i = 0; i < 3; ++i)
    if (!ctx.has_input(i)) return ctx.invalid("input " + std::to_string(i) + " is missing");
  const dtype type = ctx.input(0).type();
  const tensor x = widen_half(ctx.input(0));
  if (x.rank() < 2) return ctx.invalid("input must have at least 2 dimensions, got " + to_string(x.shape()));
  const std::int64_t channels = x.shape()[1];
  const auto scale = to_doubles(ctx.input(1));
  const auto bias = to_doubles(ctx.input(2));
  if (static_cast<std::int64_t>(scale.size()) != channels || static_cast<std::int64_t>(bias.size()) != channels)
    return ctx.invalid("scale " + to_string(ctx.input(1).shape()) + " and B " +
                       to_string(ctx.input(2).shape()) + " must have " + std::to_string(channels) +
                       " elements for input " + to_string(x.shape()));
  const double epsilon = ctx.n.get_float("epsilon", 1e-5f);
  const std::int64_t spatial = x.elements() / std::max<std::int64_t>(1, x.shape()[0] * channels);
  tensor y(x.type(), x.shape());
  bool ok = dispatch_compute(x, [&](auto tag) {
    using T = decltype(tag);
    const T* in = x.data<T>();
    T* out = y.data<T>();
    for (std::int64_t nc = 0; nc < x.shape()[0] * channels; ++nc) {
      const T* p = in + nc * spatial;
      double sum = 0, sq = 0;
      for (std::int64_t i = 0; i < spatial; ++i) sum += p[i];
      const double mean = spatial ? sum / spatial : 0.0;
      for (std::int64_t i = 0; i < spatial; ++i) sq += (p[i] - mean) * (p[i] - mean);
      const double var = spatial ? sq / spatial : 0.0;
      const double a = scale[nc % channels] / std::sqrt(var + epsilon);
      const double b = bias[nc % channels] - mean * a;
      for (std::int64_t i = 0; i < spatial; ++i)
        out[nc * spatial + i] = static_cast<T>(p[i] * a + b);
    }
  });
  if (!ok) return ctx.unsupported("input type " + type_name(ctx.input(0)) + " is not supported");
  ctx.outputs[0] = restore(std::move(y), type);
  return {};
}

// Broadcasts a parameter (LayerNormalization's Scale or B) to `shape` as doubles.
result<std::vector<double>> expand_param(kernel_context& ctx, const tensor& param, const shape_t& shape,
                                         const char* name) {
  auto b = broadcast_shapes(shape, param.shape());
  if (!b || *b != shape)
    return ctx.invalid(std::string(name) + " shape " + to_string(param.shape()) +
                       " does not broadcast to the normalized shape " + to_string(shape));
  tensor wide(dtype::f64, param.shape());
  auto values = to_doubles(param);
  std::copy(values.begin(), values.end(), wide.data<double>());
  tensor out(dtype::f64, shape);
  broadcast_binary<double, double, double>(out, wide, out, [](double, double v) { return v; });
  return std::vector<double>(out.data<double>(), out.data<double>() + out.elements());
}

result<void> layer_norm(kernel_context& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.invalid("inputs X and Scale are required");
  const dtype type = ctx.input(0).type();
  const tensor x = widen_half(ctx.input(0));
  const auto rank = static_cast<std::int64_t>(x.rank());
  const std::int64_t raw_axis = ctx.n.get_int("axis", -1);
  auto axis = normalize_axis(raw_axis, rank);
  if (!axis) return ctx.invalid("axis " + std::to_string(raw_axis) + " is out of range for shape " +
                                to_string(x.shape()));
  const shape_t norm_shape(x.shape().begin() + *axis, x.shape().end());
  const std::int64_t inner = element_count(norm_shape);
  const std::int64_t outer = inner ? x.elements() / inner : 0;
  auto scale = expand_param(ctx, ctx.input(1), norm_shape, "Scale");
  if (!scale) return scale.error();
  std::vector<double> bias(static_cast<std::size_t>(inner), 0.0);
  if (ctx.has_input(2)) {
    auto b = expand_param(ctx, ctx.input(2), norm_shape, "B");
    if (!b) return b.error();
    bias = std::move(*b);
  }
  const double epsilon = ctx.n.get_float("epsilon", 1e-5f);
  shape_t stat_shape(x.shape().begin(), x.shape().begin() + *axis);
  stat_shape.resize(x.rank(), 1);
  // Mean and InvStdDev are float (ONNX's stash type); double inputs keep double.
  const dtype stat_type = x.type() == dtype::f64 ? dtype::f64 : dtype::f32;
  tensor y(x.type(), x.shape());
  tensor mean_out(stat_type, stat_shape);
  tensor inv_out(stat_type, stat_shape);
  bool ok = dispatch_compute(x, [&](auto tag) {
    using T = decltype(tag);
    const T* in = x.data<T>();
    T* out = y.data<T>();
    for (std::int64_t o = 0; o < outer; ++o) {
      const T* p = in + o * inner;
      double sum = 0, sq = 0;
      for (std::int64_t i = 0; i < inner; ++i) sum += p[i];
      const double mean = sum / inner;
      for (std::int64_t i = 0; i < inner; ++i) sq += (p[i] - mean) * (p[i] - mean);
      const double inv = 1.0 / std::sqrt(sq / inner + epsilon);
      for (std::int64_t i = 0; i < inner; ++i)
        out[o * inner + i] = static_cast<T>((p[i] - mean) * inv * (*scale)[i] + bias[i]);
      dispatch_float(stat_type, [&](auto stat_tag) {
        using S = decltype(stat_tag);
        mean_out.data<S>()[o] = static_cast<S>(mean);
        inv_out.data<S>()[o] = static_cast<S>(inv);
      });
    }
  });
  if (!ok) return ctx.unsupported("input type " + type_name(ctx.input(0)) + " is not supported");
  ctx.outputs[0] = restore(std::move(y), type);
  if (ctx.outputs.size() > 1 && !ctx.n.outputs[1].empty()) ctx.outputs[1] = std::move(mean_out);
  if (ctx.outputs.size() > 2 && !ctx.n.outputs[2].empty()) ctx.outputs[2] = std::move(inv_out);
  return {};
}

result<void> lrn(kernel_context& ctx) {
  if (!ctx.has_input(0)) return ctx.invalid("input 0 is missing");
  const dtype type = ctx.input(0).type();
  const tensor x = widen_half(ctx.input(0));
  if (x.rank() < 2) return ctx.invalid("input must have at least 2 dimensions, got " + to_string(x.shape()));
  const std::int64_t size = ctx.n.get_int("size", 0);
  if (size <= 0) return ctx.invalid("attribute 'size' must be positive, got " + std::to_string(size));
  const double alpha = ctx.n.get_float("alpha", 1e-4f);
  const double beta = ctx.n.get_float("beta", 0.75f);
  const double bias = ctx.n.get_float("bias", 1.0f);
  const std::int64_t channels = x.shape()[1];
  const std::int64_t batches = x.shape()[0];
  const std::int64_t spatial = x.elements() / std::max<std::int64_t>(1, batches * channels);
  const std::int64_t before = (size - 1) / 2;  // channels below c in the window
  const std::int64_t after = size / 2;         // channels above c (the ceiling half)
  tensor y(x.type(), x.shape());
  bool ok = dispatch_compute(x, [&](auto tag) {
    using T = decltype(tag);
    const T* in = x.data<T>();
    T* out = y.data<T>();
    for (std::int64_t n = 0; n < batches; ++n)
      for (std::int64_t c = 0; c < channels; ++c)
        for (std::int64_t s = 0; s < spatial; ++s) {
          double sq = 0;
          for (std::int64_t k = std::max<std::int64_t>(0, c - before);
               k <= std::min(channels - 1, c + after); ++k) {
            const double v = in[(n * channels + k) * spatial + s];
            sq += v * v;
          }
          const std::int64_t at = (n * channels + c) * spatial + s;
          out[at] = static_cast<T>(in[at] / std::pow(bias + alpha / size * sq, beta));
        }
  });
  if (!ok) return ctx.unsupported("input type " + type_name(ctx.input(0)) + " is not supported");
  ctx.outputs[0] = restore(std::move(y), type);
  return {};
}

result<void> mean_variance_norm(kernel_context& ctx) {
  if (!ctx.has_input(0)) return ctx.invalid("input 0 is missing");
  const dtype type = ctx.input(0).type();
  const tensor x = widen_half(ctx.input(0));
  std::vector<std::int64_t> axes = ctx.n.find("axes") ? ctx.n.get_ints("axes")
                                                      : std::vector<std::int64_t>{0, 2, 3};
  shape_t kept = x.shape();
  std::int64_t count = 1;
  for (auto axis : axes) {
    auto a = normalize_axis(axis, static_cast<std::int64_t>(x.rank()));
    if (!a) return ctx.invalid("axis " + std::to_string(axis) + " is out of range for shape " +
                               to_string(x.shape()));
    if (kept[*a] == 1 && x.shape()[*a] != 1) return ctx.invalid("axis " + std::to_string(axis) + " is repeated");
    count *= kept[*a];
    kept[*a] = 1;
  }
  const auto groups = static_cast<std::size_t>(element_count(kept));
  std::vector<double> sum(groups, 0.0), sq(groups, 0.0);
  auto plan = plan_broadcast<1>(x.shape(), {kept});
  tensor y(x.type(), x.shape());
  bool ok = dispatch_compute(x, [&](auto tag) {
    using T = decltype(tag);
    const T* in = x.data<T>();
    T* out = y.data<T>();
    using offsets = std::array<std::int64_t, 1>;
    for_each_run(plan, [&](const offsets& off, const offsets& step, std::int64_t n, std::int64_t o) {
      for (std::int64_t i = 0; i < n; ++i) {
        const double v = in[o + i];
        sum[off[0] + i * step[0]] += v;
        sq[off[0] + i * step[0]] += v * v;
      }
    });
    for (std::size_t g = 0; g < groups; ++g) {
      const double mean = sum[g] / count;
      sum[g] = mean;
      sq[g] = std::sqrt(std::max(0.0, sq[g] / count - mean * mean)) + 1e-9;
    }
    for_each_run(plan, [&](const offsets& off, const offsets& step, std::int64_t n, std::int64_t o) {
      for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t g = off[0] + i * step[0];
        out[o + i] = static_cast<T>((in[o + i] - sum[g]) / sq[g]);
      }
    });
  });
  if (!ok) return ctx.unsupported("input type " + type_name(ctx.input(0)) + " is not supported");
  ctx.outputs[0] = restore(std::move(y), type);
  return {};
}

}  // namespace
}  // namespace kernels

void register_normalization_kernels(kernel_registry& r) {
  r.add("", "BatchNormalization", kernels::guarded(kernels::batch_norm), 1);
  r.add("", "InstanceNormalization", kernels::guarded(kernels::instance_norm), 1);
  r.add("", "LayerNormalization", kernels::guarded(kernels::layer_norm), 17);
  r.add("", "LRN", kernels::guarded(kernels::lrn), 1);
  r.add("", "MeanVarianceNormalization", kernels::guarded(kernels::mean_variance_norm), 1);
  kernels::register_softmax_kernels(r);
}

}  // namespace edgert::engine
