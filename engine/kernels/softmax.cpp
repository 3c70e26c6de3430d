// Softmax, LogSoftmax and Hardmax.
//
// Before opset 13 these ops view the input as a 2-D matrix split at 'axis' (default 1) and
// normalize each row; from opset 13 on they normalize along 'axis' (default -1) alone.
#include <cmath>
#include <limits>

#include "engine/kernels/elementwise.hpp"
#include "engine/kernels/normalization.hpp"

namespace edgert::engine::kernels {
namespace {

enum class softmax_kind { softmax, log_softmax, hardmax };

// Normalizes `len` values spaced `stride` apart, from `in` into `out`.
template <class T>
void normalize_line(const T* in, T* out, std::int64_t len, std::int64_t stride, softmax_kind kind) {
  if (len == 0) return;
  std::int64_t arg = 0;
  T top = in[0];
  for (std::int64_t k = 1; k < len; ++k)
    if (in[k * stride] > top) {
      top = in[k * stride];
      arg = k;
    }
  if (kind == softmax_kind::hardmax) {
    for (std::int64_t k = 0; k < len; ++k) out[k * stride] = k == arg ? T{1} : T{0};
    return;
  }
  const double m = static_cast<double>(top);
  double sum = 0;
  for (std::int64_t k = 0; k < len; ++k) sum += std::exp(static_cast<double>(in[k * stride]) - m);
  if (kind == softmax_kind::softmax) {
    for (std::int64_t k = 0; k < len; ++k)
      out[k * stride] = static_cast<T>(std::exp(static_cast<double>(in[k * stride]) - m) / sum);
  } else {
    const double log_sum = std::log(sum);
    for (std::int64_t k = 0; k < len; ++k)
      out[k * stride] = static_cast<T>(static_cast<double>(in[k * stride]) - m - log_sum);
  }
}

result<void> softmax_family(kernel_context& ctx, softmax_kind kind) {
  if (!ctx.has_input(0)) return ctx.invalid("input 0 is missing");
  const dtype type = ctx.input(0).type();
  const tensor x = widen_half(ctx.input(0));
  const bool legacy = ctx.opset < 13;
  const auto rank = static_cast<std::int64_t>(x.rank());
  const std::int64_t raw_axis = ctx.n.get_int("axis", legacy ? 1 : -1);
  // A scalar has one element along its (implicit) only axis.
  std::int64_t axis = 0;
  if (rank > 0) {
    auto a = normalize_axis(raw_axis, rank);
    if (!a) return ctx.invalid("axis " + std::to_string(raw_axis) + " is out of range for shape " +
                               to_string(x.shape()));
    axis = *a;
  }
  std::int64_t outer = 1, len = 1, inner = 1;
  for (std::int64_t d = 0; d < rank; ++d) {
    const std::int64_t dim = x.shape()[d];
    if (d < axis) outer *= dim;
    else if (d == axis || legacy) len *= dim;
    else inner *= dim;
  }
  tensor y(x.type(), x.shape());
  bool ok = dispatch_float(x.type(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = x.data<T>();
    T* out = y.data<T>();
    for (std::int64_t o = 0; o < outer; ++o)
      for (std::int64_t i = 0; i < inner; ++i) {
        const std::int64_t base = o * len * inner + i;
        normalize_line(in + base, out + base, len, inner, kind);
      }
  });
  if (!ok) return ctx.unsupported("input type " + std::string(to_string(type)) + " is not supported");
  ctx.outputs[0] = is_half(type) ? narrow_half(y, type) : std::move(y);
  return {};
}

}  // namespace

void register_softmax_kernels(kernel_registry& r) {
  r.add("", "Softmax",
        guarded([](kernel_context& ctx) { return softmax_family(ctx, softmax_kind::softmax); }), 1);
  r.add("", "LogSoftmax",
        guarded([](kernel_context& ctx) { return softmax_family(ctx, softmax_kind::log_softmax); }), 1);
  r.add("", "Hardmax",
        guarded([](kernel_context& ctx) { return softmax_family(ctx, softmax_kind::hardmax); }), 1);
}

}  // namespace edgert::engine::kernels
