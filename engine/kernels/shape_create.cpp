// Kernels that create tensors or pass them through: Constant, ConstantOfShape, Range,
// EyeLike, Trilu, Dropout (inference form).
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "engine/kernels/dispatch.hpp"
#include "engine/kernels/shape_common.hpp"

namespace edgert::engine::shape_detail {

namespace {

result<void> constant(kernel_context& ctx) {
  const node& n = ctx.n;
  if (auto* a = n.find("value")) {
    if (a->t.empty()) return ctx.invalid("attribute 'value' holds no tensor");
    if (size_of(a->t.type()) == 0)
      return ctx.unsupported("a constant of type " + std::string(to_string(a->t.type())));
    ctx.outputs[0] = a->t.clone();
    return {};
  }
  if (auto* a = n.find("value_float")) {
    if (auto ok = allocate(ctx, 0, dtype::f32, {}); !ok) return ok;
    *ctx.outputs[0].data<float>() = a->f;
    return {};
  }
  if (auto* a = n.find("value_floats")) {
    const auto count = static_cast<std::int64_t>(a->floats.size());
    if (auto ok = allocate(ctx, 0, dtype::f32, {count}); !ok) return ok;
    std::copy(a->floats.begin(), a->floats.end(), ctx.outputs[0].data<float>());
    return {};
  }
  if (auto* a = n.find("value_int")) {
    if (auto ok = allocate(ctx, 0, dtype::i64, {}); !ok) return ok;
    *ctx.outputs[0].data<std::int64_t>() = a->i;
    return {};
  }
  if (auto* a = n.find("value_ints")) {
    const auto count = static_cast<std::int64_t>(a->ints.size());
    if (auto ok = allocate(ctx, 0, dtype::i64, {count}); !ok) return ok;
    std::copy(a->ints.begin(), a->ints.end(), ctx.outputs[0].data<std::int64_t>());
    return {};
  }
  for (const char* key : {"sparse_value", "value_string", "value_strings"})
    if (n.find(key)) return ctx.unsupported(std::string("a constant given by '") + key + "'");
  return ctx.invalid("no value attribute (value, value_float(s), value_int(s)) is set");
}

result<void> constant_of_shape(kernel_context& ctx) {
  if (auto ok = require_input(ctx, 0, "input"); !ok) return ok;
  const tensor& shape_in = ctx.input(0);
  if (shape_in.rank() != 1)
    return ctx.invalid("input must be a 1-D shape, its shape is " + to_string(shape_in.shape()));
  auto shape = read_ints(ctx, shape_in, "input");
  if (!shape) return shape.error();
  for (auto d : *shape)
    if (d < 0) return ctx.invalid("shape " + to_string(*shape) + " has a negative dimension");
  dtype type = dtype::f32;
  const void* value = nullptr;
  static const std::byte zeros[8] = {};
  if (auto* a = ctx.n.find("value"); a && !a->t.empty()) {
    if (a->t.elements() != 1)
      return ctx.invalid("attribute 'value' must hold one element, its shape is " +
                         to_string(a->t.shape()));
    if (size_of(a->t.type()) == 0)
      return ctx.unsupported("a value of type " + std::string(to_string(a->t.type())));
    type = a->t.type();
    value = a->t.raw();
  } else {
    value = zeros;
  }
  if (auto ok = allocate(ctx, 0, type, *shape); !ok) return ok;
  fill_elements(ctx.outputs[0].raw(), value, size_of(type), ctx.outputs[0].elements());
  return {};
}

result<void> range(kernel_context& ctx) {
  const char* names[] = {"start", "limit", "delta"};
  for (std::size_t i = 0; i < 3; ++i) {
    if (auto ok = require_input(ctx, i, names[i]); !ok) return ok;
    const tensor& t = ctx.input(i);
    if (t.elements() != 1 || t.rank() > 1)
      return ctx.invalid(std::string("input '") + names[i] + "' must be a scalar, its shape is " +
                         to_string(t.shape()));
    if (t.type() != ctx.input(0).type())
      return ctx.invalid("start, limit and delta must have the same type");
  }
  const dtype type = ctx.input(0).type();
  result<void> status;
  bool known = dispatch_numeric(type, [&](auto zero) {
    using T = decltype(zero);
    const T start = *ctx.input(0).data<T>();
    const T limit = *ctx.input(1).data<T>();
    const T delta = *ctx.input(2).data<T>();
    if (delta == T{0}) {
      status = ctx.invalid("delta is 0");
      return;
    }
    std::int64_t count = 0;
    if constexpr (std::is_floating_point_v<T>) {
      const double steps =
          std::ceil((static_cast<double>(limit) - static_cast<double>(start)) / delta);
      if (!(steps < 1e15) && steps > 0) {
        status = ctx.invalid("the range holds too many elements");
        return;
      }
      count = steps > 0 ? static_cast<std::int64_t>(steps) : 0;
    } else {
      // Exact integer ceil((limit - start) / delta), computed in 128 bits.
      const __int128 diff = static_cast<__int128>(limit) - static_cast<__int128>(start);
      const __int128 d = delta;
      __int128 q = diff / d;
      if (diff % d != 0 && ((diff < 0) == (d < 0))) ++q;
      count = q > 0 ? static_cast<std::int64_t>(q) : 0;
    }
    if (auto ok = allocate(ctx, 0, type, {count}); !ok) {
      status = ok;
      return;
    }
    T* out = ctx.outputs[0].data<T>();
    for (std::int64_t i = 0; i < count; ++i) {
      if constexpr (std::is_floating_point_v<T>)
        out[i] = static_cast<T>(static_cast<double>(start) + static_cast<double>(i) * delta);
      else
        out[i] = static_cast<T>(start + static_cast<T>(i) * delta);
    }
  });
  if (!known) return ctx.unsupported("Range on type " + std::string(to_string(type)));
  return status;
}

result<void> eye_like(kernel_context& ctx) {
  if (auto ok = require_input(ctx, 0, "input"); !ok) return ok;
  const tensor& in = ctx.input(0);
  if (in.rank() != 2)
    return ctx.invalid("input must be 2-D, its shape is " + to_string(in.shape()));
  dtype type = in.type();
  if (auto* a = ctx.n.find("dtype")) {
    type = from_onnx(static_cast<std::int32_t>(a->i));
    if (size_of(type) == 0)
      return ctx.unsupported("dtype " + std::to_string(a->i) + " for EyeLike's output");
  }
  if (size_of(type) == 0) return ctx.unsupported("EyeLike on type " + std::string(to_string(type)));
  const std::int64_t k = ctx.n.get_int("k", 0);
  const std::int64_t rows = in.shape()[0], cols = in.shape()[1];
  if (auto ok = allocate(ctx, 0, type, in.shape()); !ok) return ok;
  for (std::int64_t r = 0; r < rows; ++r) {
    if (k > cols || k < -rows) break;
    const std::int64_t c = r + k;
    if (c >= 0 && c < cols) store_scalar(type, ctx.outputs[0].raw(), r * cols + c, 1.0);
  }
  return {};
}

result<void> trilu(kernel_context& ctx) {
  if (auto ok = require_input(ctx, 0, "input"); !ok) return ok;
  const tensor& in = ctx.input(0);
  if (auto ok = require_storable(ctx, in, "input"); !ok) return ok;
  if (in.rank() < 2)
    return ctx.invalid("input must have rank 2 or more, its shape is " + to_string(in.shape()));
  std::int64_t k = 0;
  if (ctx.has_input(1)) {
    auto values = read_ints(ctx, ctx.input(1), "k");
    if (!values) return values.error();
    if (values->size() != 1)
      return ctx.invalid("k must hold one value, its shape is " + to_string(ctx.input(1).shape()));
    k = values->front();
  }
  const bool upper = ctx.n.get_int("upper", 1) != 0;
  const std::int64_t rows = in.shape()[in.rank() - 2], cols = in.shape()[in.rank() - 1];
  // Beyond these bounds every k selects the same elements; clamping avoids overflow below.
  k = std::clamp<std::int64_t>(k, -rows - 1, cols + 1);
  if (auto ok = allocate(ctx, 0, in.type(), in.shape()); !ok) return ok;
  const std::size_t es = size_of(in.type());
  const std::int64_t matrices = rows * cols != 0 ? in.elements() / (rows * cols) : 0;
  for (std::int64_t m = 0; m < matrices; ++m) {
    for (std::int64_t r = 0; r < rows; ++r) {
      // Upper keeps columns c >= r + k, lower keeps c <= r + k.
      std::int64_t first = upper ? std::clamp<std::int64_t>(r + k, 0, cols) : 0;
      std::int64_t last = upper ? cols : std::clamp<std::int64_t>(r + k + 1, 0, cols);
      if (last <= first) continue;
      const std::int64_t offset = (m * rows + r) * cols + first;
      std::memcpy(at(ctx.outputs[0].raw(), offset, es), at(in.raw(), offset, es),
                  static_cast<std::size_t>(last - first) * es);
    }
  }
  return {};
}

result<void> dropout(kernel_context& ctx) {
  if (auto ok = require_input(ctx, 0, "data"); !ok) return ok;
  const tensor& in = ctx.input(0);
  if (auto ok = require_storable(ctx, in, "data"); !ok) return ok;
  double ratio = ctx.n.get_float("ratio", 0.5f);
  bool training = false;
  if (ctx.opset >= 12) {
    ratio = 0.5;
    if (ctx.has_input(1)) {
      auto r = read_scalar(ctx, ctx.input(1), "ratio");
      if (!r) return r.error();
      ratio = *r;
    }
    if (ctx.has_input(2)) {
      auto t = read_scalar(ctx, ctx.input(2), "training_mode");
      if (!t) return t.error();
      training = *t != 0;
    }
  }
  // Training mode with a non-zero ratio draws a random mask; everything else is the identity.
  if (training && ratio != 0)
    return ctx.unsupported("Dropout in training mode with ratio " + std::to_string(ratio) +
                           " (random masks)");
  if (wants_output(ctx, 0)) {
    if (auto ok = allocate(ctx, 0, in.type(), in.shape()); !ok) return ok;
    if (in.bytes()) std::memcpy(ctx.outputs[0].raw(), in.raw(), in.bytes());
  }
  if (wants_output(ctx, 1)) {
    const dtype mask_type = ctx.opset >= 10 ? dtype::boolean : in.type();
    if (auto ok = allocate(ctx, 1, mask_type, in.shape()); !ok) return ok;
    for (std::int64_t i = 0; i < in.elements(); ++i)
      store_scalar(mask_type, ctx.outputs[1].raw(), i, 1.0);
  }
  return {};
}

}  // namespace

void register_create_kernels(kernel_registry& r) {
  r.add("", "Constant", guarded(constant), 1);
  r.add("", "ConstantOfShape", guarded(constant_of_shape), 9);
  r.add("", "Range", guarded(range), 11);
  r.add("", "EyeLike", guarded(eye_like), 9);
  r.add("", "Trilu", guarded(trilu), 14);
  r.add("", "Dropout", guarded(dropout), 1);
}

}  // namespace edgert::engine::shape_detail
