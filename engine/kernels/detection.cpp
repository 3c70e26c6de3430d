// Detection post-processing kernels: NonMaxSuppression.
#include <algorithm>

#include "engine/kernel.hpp"
#include "engine/kernels/register.hpp"
#include "engine/kernels/shape_common.hpp"

namespace edgert::engine {

namespace {

using shape_detail::allocate;
using shape_detail::load_scalar;
using shape_detail::read_ints;
using shape_detail::read_scalar;

/// A box as its corners, min <= max on both axes.
struct corners {
  float y1, x1, y2, x2;
  float area() const { return (y2 - y1) * (x2 - x1); }
};

corners to_corners(const float* b, bool center_format) {
  if (center_format) {
    // [x_center, y_center, width, height]
    const float hw = b[2] / 2, hh = b[3] / 2;
    return {b[1] - hh, b[0] - hw, b[1] + hh, b[0] + hw};
  }
  // [y1, x1, y2, x2], either corner pair first.
  return {std::min(b[0], b[2]), std::min(b[1], b[3]), std::max(b[0], b[2]), std::max(b[1], b[3])};
}

/// True when the intersection over union of a and b exceeds the threshold. Boxes without
/// area never suppress one another.
bool overlaps(const corners& a, const corners& b, float threshold) {
  const float area_a = a.area(), area_b = b.area();
  if (area_a <= 0 || area_b <= 0) return false;
  const float h = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  const float w = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  if (h <= 0 || w <= 0) return false;
  const float inter = h * w;
  const float uni = area_a + area_b - inter;
  if (uni <= 0) return false;
  return inter / uni > threshold;
}

result<void> non_max_suppression(kernel_context& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.invalid("inputs 'boxes' and 'scores' are required");
  const tensor& boxes = ctx.input(0);
  const tensor& scores = ctx.input(1);
  if (boxes.rank() != 3 || boxes.shape()[2] != 4)
    return ctx.invalid("boxes must have shape [batches, boxes, 4], it is " + to_string(boxes.shape()));
  if (scores.rank() != 3 || scores.shape()[0] != boxes.shape()[0] ||
      scores.shape()[2] != boxes.shape()[1])
    return ctx.invalid("scores " + to_string(scores.shape()) +
                       " must have shape [batches, classes, boxes] matching boxes " +
                       to_string(boxes.shape()));
  for (const tensor* t : {&boxes, &scores})
    if (t->type() != dtype::f32 && t->type() != dtype::f64 && t->type() != dtype::f16)
      return ctx.unsupported("boxes and scores of type " + std::string(to_string(t->type())));
  std::int64_t max_per_class = 0;
  if (ctx.has_input(2) && ctx.input(2).elements() > 0) {
    auto v = read_ints(ctx, ctx.input(2), "max_output_boxes_per_class");
    if (!v) return v.error();
    if (v->size() != 1)
      return ctx.invalid("max_output_boxes_per_class must hold one value, its shape is " +
                         to_string(ctx.input(2).shape()));
    max_per_class = std::max<std::int64_t>(v->front(), 0);
  }
  float iou_threshold = 0;
  if (ctx.has_input(3) && ctx.input(3).elements() > 0) {
    auto v = read_scalar(ctx, ctx.input(3), "iou_threshold");
    if (!v) return v.error();
    if (!(*v >= 0 && *v <= 1))
      return ctx.invalid("iou_threshold " + std::to_string(*v) + " is outside [0, 1]");
    iou_threshold = static_cast<float>(*v);
  }
  bool filter_scores = false;
  float score_threshold = 0;
  if (ctx.has_input(4) && ctx.input(4).elements() > 0) {
    auto v = read_scalar(ctx, ctx.input(4), "score_threshold");
    if (!v) return v.error();
    filter_scores = true;
    score_threshold = static_cast<float>(*v);
  }
  const std::int64_t center = ctx.n.get_int("center_point_box", 0);
  if (center != 0 && center != 1)
    return ctx.invalid("center_point_box " + std::to_string(center) + " is neither 0 nor 1");

  const std::int64_t batches = boxes.shape()[0], count = boxes.shape()[1];
  const std::int64_t classes = scores.shape()[1];
  std::vector<corners> box(static_cast<std::size_t>(count));
  std::vector<float> raw(4);
  std::vector<float> score(static_cast<std::size_t>(count));
  std::vector<std::int64_t> order;
  order.reserve(static_cast<std::size_t>(count));
  std::vector<std::int64_t> kept;
  std::vector<std::int64_t> selected;  // flattened [batch, class, box] triples
  for (std::int64_t b = 0; b < batches; ++b) {
    for (std::int64_t i = 0; i < count; ++i) {
      for (std::int64_t j = 0; j < 4; ++j)
        raw[j] = static_cast<float>(load_scalar(boxes.type(), boxes.raw(), (b * count + i) * 4 + j));
      box[i] = to_corners(raw.data(), center == 1);
    }
    for (std::int64_t c = 0; c < classes && max_per_class > 0; ++c) {
      const std::int64_t base = (b * classes + c) * count;
      for (std::int64_t i = 0; i < count; ++i)
        score[i] = static_cast<float>(load_scalar(scores.type(), scores.raw(), base + i));
      order.clear();
      for (std::int64_t i = 0; i < count; ++i)
        if (!filter_scores || score[i] > score_threshold) order.push_back(i);
      // Highest score first; equal scores keep the lower box index first.
      std::stable_sort(order.begin(), order.end(),
                       [&](std::int64_t l, std::int64_t r) { return score[l] > score[r]; });
      kept.clear();
      for (auto i : order) {
        if (static_cast<std::int64_t>(kept.size()) >= max_per_class) break;
        bool suppressed = std::any_of(kept.begin(), kept.end(), [&](std::int64_t k) {
          return overlaps(box[k], box[i], iou_threshold);
        });
        if (suppressed) continue;
        kept.push_back(i);
        selected.insert(selected.end(), {b, c, i});
      }
    }
  }
  const auto rows = static_cast<std::int64_t>(selected.size() / 3);
  if (auto ok = allocate(ctx, 0, dtype::i64, {rows, 3}); !ok) return ok;
  std::copy(selected.begin(), selected.end(), ctx.outputs[0].data<std::int64_t>());
  return {};
}

}  // namespace

void register_detection_kernels(kernel_registry& r) {
  r.add("", "NonMaxSuppression", shape_detail::guarded(non_max_suppression), 10);
}

}  // namespace edgert::engine
