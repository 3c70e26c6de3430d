// Resize (opsets 10-19) and Upsample (7-9) reference kernels.
//
// Each axis is resolved to a list of taps per output index (input index and weight) from
// the coordinate transformation and the interpolation mode. Nearest mode then gathers
// (any element type, no arithmetic); linear and cubic apply the taps one axis at a time
// (separable interpolation) in float (double for double tensors).
// The kernels keep no state between calls; any thread may run them.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "engine/kernel.hpp"
#include "engine/kernels/broadcast.hpp"
#include "engine/kernels/dispatch.hpp"
#include "engine/kernels/register.hpp"
#include "engine/kernels/spatial.hpp"

namespace edgert::engine {

namespace {

enum class interp { nearest, linear, cubic };

struct resize_spec {
  interp mode = interp::nearest;
  std::string transform = "half_pixel";
  std::string nearest_mode = "round_prefer_floor";
  double cubic_a = -0.75;
  bool exclude_outside = false;
  double extrapolation = 0.0;
  bool antialias = false;
  std::vector<double> scales;           // per axis
  std::vector<double> length;           // per axis: the resized length the formulas use
  std::vector<double> roi_start, roi_end;  // per axis, tf_crop_and_resize only
  shape_t out;                          // per axis
};

struct tap {
  std::int64_t index;
  double weight;
};

// The taps of one axis: for each output index, the contributing input indices; `outside`
// marks output indices mapped outside the input by tf_crop_and_resize.
struct axis_taps {
  std::vector<std::vector<tap>> taps;
  std::vector<bool> outside;
  bool identity = true;
};

// The input coordinate of output index x. Like ONNX's reference, the resized length in the
// formulas is in * scale (times the roi extent for tf_crop_and_resize) when scales were
// given, which can differ from the integer output extent (e.g. align_corners downsampling
// by 0.6); with sizes it is the output extent.
double source_coordinate(const resize_spec& s, std::size_t axis, std::int64_t x, std::int64_t in, std::int64_t out) {
  const double scale = s.scales[axis];
  const double xd = static_cast<double>(x);
  const double length = s.length[axis];
  const std::string& t = s.transform;
  if (t == "half_pixel") return (xd + 0.5) / scale - 0.5;
  if (t == "half_pixel_symmetric") {
    const double adjustment = static_cast<double>(out) / length;
    const double center = static_cast<double>(in) / 2.0;
    return center * (1.0 - adjustment) + (xd + 0.5) / scale - 0.5;
  }
  if (t == "pytorch_half_pixel") return length > 1 ? (xd + 0.5) / scale - 0.5 : 0.0;
  if (t == "align_corners") return length == 1 ? 0.0 : xd * static_cast<double>(in - 1) / (length - 1);
  if (t == "asymmetric") return xd / scale;
  if (t == "tf_half_pixel_for_nn") return (xd + 0.5) / scale;
  // tf_crop_and_resize
  const double start = s.roi_start[axis], end = s.roi_end[axis];
  if (length > 1) return start * static_cast<double>(in - 1) + xd * (end - start) * static_cast<double>(in - 1) / (length - 1);
  return 0.5 * (start + end) * static_cast<double>(in - 1);
}

std::int64_t nearest_index(const std::string& mode, double x) {
  const double f = std::floor(x);
  if (mode == "floor") return static_cast<std::int64_t>(f);
  if (mode == "ceil") return static_cast<std::int64_t>(std::ceil(x));
  const bool half = x - f == 0.5;
  if (mode == "round_prefer_ceil") return static_cast<std::int64_t>(half ? f + 1 : std::floor(x + 0.5));
  return static_cast<std::int64_t>(half ? f : std::floor(x + 0.5));  // round_prefer_floor
}

double cubic_weight(double d, double a) {
  d = std::fabs(d);
  if (d <= 1) return ((a + 2) * d - (a + 3)) * d * d + 1;
  if (d < 2) return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
  return 0;
}

axis_taps make_taps(const resize_spec& s, std::size_t axis, std::int64_t in) {
  const std::int64_t out = s.out[axis];
  axis_taps a;
  a.taps.resize(static_cast<std::size_t>(out));
  a.outside.assign(static_cast<std::size_t>(out), false);
  const bool crop = s.transform == "tf_crop_and_resize";
  const double scale = s.scales[axis];
  const bool widen = s.antialias && s.mode != interp::nearest && scale < 1.0;
  auto clamp = [in](std::int64_t i) { return std::min(std::max<std::int64_t>(i, 0), in - 1); };
  for (std::int64_t x = 0; x < out; ++x) {
    double c = source_coordinate(s, axis, x, in, out);
    auto& taps = a.taps[x];
    if (crop && (c < 0 || c > static_cast<double>(in - 1))) a.outside[x] = true;
    if (s.mode == interp::nearest) {
      taps.push_back({clamp(nearest_index(s.nearest_mode, c)), 1.0});
    } else if (!widen && s.mode == interp::linear) {
      c = std::min(std::max(c, 0.0), static_cast<double>(in - 1));
      const auto i0 = static_cast<std::int64_t>(std::floor(c));
      const double w1 = c - static_cast<double>(i0);
      taps.push_back({i0, 1.0 - w1});
      if (w1 != 0) taps.push_back({clamp(i0 + 1), w1});
    } else {
      // Cubic, or an antialiased (widened) linear or cubic filter.
      const double support_scale = widen ? scale : 1.0;
      const double radius = (s.mode == interp::linear ? 1.0 : 2.0) / support_scale;
      const auto first = static_cast<std::int64_t>(std::floor(c - radius)) + (widen ? 0 : 1);
      const auto last = static_cast<std::int64_t>(std::ceil(c + radius)) - (widen ? 0 : 1);
      double total = 0;
      for (std::int64_t i = first; i <= last; ++i) {
        const double d = (static_cast<double>(i) - c) * support_scale;
        double w = s.mode == interp::linear ? std::max(0.0, 1.0 - std::fabs(d)) : cubic_weight(d, s.cubic_a);
        if (w == 0) continue;
        if ((i < 0 || i >= in) && s.exclude_outside) continue;
        taps.push_back({clamp(i), w});
        total += w;
      }
      if ((s.exclude_outside || widen) && total != 0)
        for (auto& t : taps) t.weight /= total;
    }
    double own = 0, other = 0;
    for (auto& t : taps) (t.index == x ? own : other) += std::fabs(t.weight);
    if (a.outside[x] || own != 1.0 || other != 0.0 || in != out) a.identity = false;
  }
  return a;
}

template <class T>
void gather_nearest(const tensor& x, const std::vector<axis_taps>& axes, double extrapolation, tensor& y) {
  const shape_t& in = x.shape();
  const shape_t& out = y.shape();
  const std::size_t r = in.size();
  const auto strides = contiguous_strides(in);
  const T* xd = x.data<T>();
  T* yd = y.data<T>();
  T fill{};
  if constexpr (!std::is_same_v<T, bool>) fill = static_cast<T>(extrapolation);
  std::vector<std::int64_t> o(r, 0);
  for (std::int64_t i = 0, n = y.elements(); i < n; ++i) {
    std::int64_t offset = 0;
    bool outside = false;
    for (std::size_t a = 0; a < r; ++a) {
      offset += axes[a].taps[o[a]][0].index * strides[a];
      outside = outside || axes[a].outside[o[a]];
    }
    yd[i] = outside ? fill : xd[offset];
    for (std::size_t a = r; a-- > 0;) {
      if (++o[a] < out[a]) break;
      o[a] = 0;
    }
  }
}

// One separable pass over axis `a`: dst[outer][j][inner] = sum taps w * src[outer][idx][inner].
template <class C>
std::vector<C> interpolate_axis(const std::vector<C>& src, const shape_t& shape, std::size_t a, const axis_taps& t,
                                std::int64_t out) {
  std::int64_t outer = 1, inner = 1;
  for (std::size_t d = 0; d < a; ++d) outer *= shape[d];
  for (std::size_t d = a + 1; d < shape.size(); ++d) inner *= shape[d];
  const std::int64_t in = shape[a];
  std::vector<C> dst(static_cast<std::size_t>(outer * out * inner), C{});
  for (std::int64_t o = 0; o < outer; ++o)
    for (std::int64_t j = 0; j < out; ++j) {
      C* d = dst.data() + (o * out + j) * inner;
      for (const tap& tp : t.taps[j]) {
        const C w = static_cast<C>(tp.weight);
        const C* s = src.data() + (o * in + tp.index) * inner;
        for (std::int64_t k = 0; k < inner; ++k) d[k] += w * s[k];
      }
    }
  return dst;
}

template <class T>
void interpolate(const tensor& x, const std::vector<axis_taps>& axes, double extrapolation, tensor& y) {
  using C = std::conditional_t<std::is_same_v<T, double>, double, float>;
  const T* xd = x.data<T>();
  std::vector<C> buf(xd, xd + x.elements());
  shape_t shape = x.shape();
  for (std::size_t a = 0; a < axes.size(); ++a) {
    if (axes[a].identity) continue;
    buf = interpolate_axis(buf, shape, a, axes[a], y.shape()[a]);
    shape[a] = y.shape()[a];
  }
  // Positions mapped outside the input by tf_crop_and_resize take the extrapolation value.
  const shape_t& out = y.shape();
  const std::size_t r = out.size();
  bool any_outside = false;
  for (const auto& a : axes) any_outside = any_outside || std::find(a.outside.begin(), a.outside.end(), true) != a.outside.end();
  std::vector<std::int64_t> o(r, 0);
  T* yd = y.data<T>();
  for (std::int64_t i = 0, n = y.elements(); i < n; ++i) {
    bool outside = false;
    if (any_outside)
      for (std::size_t a = 0; a < r; ++a) outside = outside || axes[a].outside[o[a]];
    const double v = outside ? extrapolation : static_cast<double>(buf[i]);
    if (!any_outside) {
      if constexpr (std::is_floating_point_v<T>) {
        yd[i] = static_cast<T>(v);
        continue;
      }
    }
    if constexpr (std::is_floating_point_v<T>) {
      yd[i] = static_cast<T>(v);
    } else {
      const double lo = static_cast<double>(std::numeric_limits<T>::lowest());
      const double hi = static_cast<double>(std::numeric_limits<T>::max());
      yd[i] = static_cast<T>(std::min(std::max(std::nearbyint(v), lo), hi));
    }
    for (std::size_t a = r; a-- > 0;) {
      if (++o[a] < out[a]) break;
      o[a] = 0;
    }
  }
}

result<void> run_resize(kernel_context& ctx, resize_spec& s) {
  const tensor& x = ctx.input(0);
  std::vector<axis_taps> axes;
  for (std::size_t a = 0; a < x.rank(); ++a) axes.push_back(make_taps(s, a, x.shape()[a]));
  tensor y(x.type(), s.out);
  bool done = false;
  if (s.mode == interp::nearest) {
    done = dispatch_any(x.type(), [&](auto v) { gather_nearest<decltype(v)>(x, axes, s.extrapolation, y); });
  } else {
    done = dispatch_numeric(x.type(), [&](auto v) { interpolate<decltype(v)>(x, axes, s.extrapolation, y); });
  }
  if (!done) return ctx.unsupported("Resize of " + std::string(to_string(x.type())) + " tensors");
  ctx.outputs[0] = y;
  return {};
}

// Reads a float/double/float16 tensor as doubles.
bool read_doubles(const tensor& t, std::vector<double>& out) {
  out.resize(static_cast<std::size_t>(t.elements()));
  for (std::int64_t i = 0; i < t.elements(); ++i) {
    switch (t.type()) {
      case dtype::f32: out[i] = t.data<float>()[i]; break;
      case dtype::f64: out[i] = t.data<double>()[i]; break;
      case dtype::f16: out[i] = half_to_float(t.data<std::uint16_t>()[i]); break;
      case dtype::bf16: out[i] = bfloat16_to_float(t.data<std::uint16_t>()[i]); break;
      default: return false;
    }
  }
  return true;
}

result<interp> parse_mode(const kernel_context& ctx) {
  const std::string mode = ctx.n.get_string("mode", "nearest");
  if (mode == "nearest") return interp::nearest;
  if (mode == "linear" || mode == "bilinear") return interp::linear;
  if (mode == "cubic" && ctx.n.op_type == "Resize") return interp::cubic;
  return ctx.invalid("unknown mode '" + mode + "'");
}

// Fills s.out from scales (per axis) and checks them.
result<void> sizes_from_scales(const kernel_context& ctx, const tensor& x, resize_spec& s) {
  if (s.scales.size() != x.rank())
    return ctx.invalid(std::to_string(s.scales.size()) + " scales for an input of rank " + std::to_string(x.rank()));
  s.out.resize(x.rank());
  s.length.resize(x.rank());
  const bool crop = s.transform == "tf_crop_and_resize";
  for (std::size_t a = 0; a < x.rank(); ++a) {
    if (!(s.scales[a] > 0)) return ctx.invalid("scales must be positive");
    s.length[a] = static_cast<double>(x.shape()[a]) * s.scales[a] * (crop ? s.roi_end[a] - s.roi_start[a] : 1.0);
    s.out[a] = static_cast<std::int64_t>(std::floor(s.length[a]));
  }
  return {};
}

result<void> upsample(kernel_context& ctx) {
  if (!ctx.has_input(0)) return ctx.invalid("the input X is missing");
  const tensor& x = ctx.input(0);
  resize_spec s;
  auto mode = parse_mode(ctx);
  if (!mode) return mode.error();
  s.mode = *mode;
  s.transform = "asymmetric";
  s.nearest_mode = "floor";
  if (ctx.opset >= 9 || ctx.has_input(1)) {
    if (!ctx.has_input(1) || !read_doubles(ctx.input(1), s.scales)) return ctx.invalid("the scales input must be float");
  } else {
    for (float f : ctx.n.get_floats("scales")) s.scales.push_back(f);
  }
  if (auto ok = sizes_from_scales(ctx, x, s); !ok) return ok;
  return run_resize(ctx, s);
}

result<void> resize(kernel_context& ctx) {
  if (!ctx.has_input(0)) return ctx.invalid("the input X is missing");
  const tensor& x = ctx.input(0);
  const std::size_t rank = x.rank();
  resize_spec s;
  auto mode = parse_mode(ctx);
  if (!mode) return mode.error();
  s.mode = *mode;
  if (ctx.opset < 11) {
    s.transform = "asymmetric";
    s.nearest_mode = "floor";
    if (!ctx.has_input(1) || !read_doubles(ctx.input(1), s.scales)) return ctx.invalid("the scales input must be float");
    if (auto ok = sizes_from_scales(ctx, x, s); !ok) return ok;
    return run_resize(ctx, s);
  }
  s.transform = ctx.n.get_string("coordinate_transformation_mode", "half_pixel");
  static const char* transforms[] = {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
                                     "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"};
  if (std::find(std::begin(transforms), std::end(transforms), s.transform) == std::end(transforms))
    return ctx.invalid("unknown coordinate_transformation_mode '" + s.transform + "'");
  s.nearest_mode = ctx.n.get_string("nearest_mode", "round_prefer_floor");
  if (s.nearest_mode != "round_prefer_floor" && s.nearest_mode != "round_prefer_ceil" && s.nearest_mode != "floor" &&
      s.nearest_mode != "ceil")
    return ctx.invalid("unknown nearest_mode '" + s.nearest_mode + "'");
  s.cubic_a = ctx.n.get_float("cubic_coeff_a", -0.75f);
  s.exclude_outside = ctx.n.get_int("exclude_outside", 0) != 0;
  s.extrapolation = ctx.n.get_float("extrapolation_value", 0.f);
  s.antialias = ctx.n.get_int("antialias", 0) != 0;

  // The axes the roi/scales/sizes inputs describe (opset 18), all by default.
  std::vector<std::int64_t> axes = ctx.n.get_ints("axes");
  if (axes.empty())
    for (std::size_t a = 0; a < rank; ++a) axes.push_back(static_cast<std::int64_t>(a));
  for (auto& a : axes) {
    if (a < -static_cast<std::int64_t>(rank) || a >= static_cast<std::int64_t>(rank))
      return ctx.invalid("axis " + std::to_string(a) + " is out of range for rank " + std::to_string(rank));
    if (a < 0) a += static_cast<std::int64_t>(rank);
  }
  auto given = [&](std::size_t i) { return ctx.has_input(i) && ctx.input(i).elements() > 0; };

  s.roi_start.assign(rank, 0.0);
  s.roi_end.assign(rank, 1.0);
  if (given(1) && s.transform == "tf_crop_and_resize") {
    std::vector<double> roi;
    if (!read_doubles(ctx.input(1), roi) || roi.size() != 2 * axes.size())
      return ctx.invalid("roi " + to_string(ctx.input(1).shape()) + " must hold " + std::to_string(2 * axes.size()) +
                         " floating-point values");
    for (std::size_t k = 0; k < axes.size(); ++k) {
      s.roi_start[axes[k]] = roi[k];
      s.roi_end[axes[k]] = roi[k + axes.size()];
    }
  }
  if (given(2) == given(3)) return ctx.invalid("exactly one of scales and sizes must be given");
  s.scales.assign(rank, 1.0);
  if (given(2)) {
    std::vector<double> scales;
    if (!read_doubles(ctx.input(2), scales) || scales.size() != axes.size())
      return ctx.invalid("scales " + to_string(ctx.input(2).shape()) + " must hold " + std::to_string(axes.size()) +
                         " floating-point values");
    for (std::size_t k = 0; k < axes.size(); ++k) s.scales[axes[k]] = scales[k];
    if (auto ok = sizes_from_scales(ctx, x, s); !ok) return ok;
  } else {
    const tensor& sz = ctx.input(3);
    if (sz.type() != dtype::i64 || sz.elements() != static_cast<std::int64_t>(axes.size()))
      return ctx.invalid("sizes " + to_string(sz.shape()) + " must hold " + std::to_string(axes.size()) + " int64 values");
    s.out = x.shape();
    for (std::size_t k = 0; k < axes.size(); ++k) {
      if (sz.data<std::int64_t>()[k] < 0) return ctx.invalid("sizes must not be negative");
      s.out[axes[k]] = sz.data<std::int64_t>()[k];
    }
    const std::string policy = ctx.n.get_string("keep_aspect_ratio_policy", "stretch");
    if (policy == "not_larger" || policy == "not_smaller") {
      double scale = policy == "not_larger" ? std::numeric_limits<double>::max() : 0.0;
      for (auto a : axes) {
        const double r = static_cast<double>(s.out[a]) / static_cast<double>(x.shape()[a]);
        scale = policy == "not_larger" ? std::min(scale, r) : std::max(scale, r);
      }
      for (auto a : axes) {
        s.out[a] = static_cast<std::int64_t>(std::round(scale * static_cast<double>(x.shape()[a])));
        s.scales[a] = scale;
      }
    } else if (policy != "stretch") {
      return ctx.invalid("unknown keep_aspect_ratio_policy '" + policy + "'");
    } else {
      for (std::size_t a = 0; a < rank; ++a)
        s.scales[a] = x.shape()[a] == 0 ? 1.0 : static_cast<double>(s.out[a]) / static_cast<double>(x.shape()[a]);
    }
  }
  if (s.length.empty())
    for (std::size_t a = 0; a < rank; ++a) s.length.push_back(static_cast<double>(s.out[a]));
  for (std::size_t a = 0; a < rank; ++a)
    if (x.shape()[a] == 0 && s.out[a] > 0) return ctx.invalid("cannot resize an empty axis to a non-empty one");
  return run_resize(ctx, s);
}

}  // namespace

void register_resize_kernels(kernel_registry& r) {
  r.add("", "Resize", [](kernel_context& ctx) { return spatial::with_half_promoted(ctx, resize); }, 10);
  r.add("", "Upsample", [](kernel_context& ctx) { return spatial::with_half_promoted(ctx, upsample); }, 7);
}

}  // namespace edgert::engine
