// The NonMaxSuppression reference kernel (engine/kernels/detection.cpp), with hand-computed
// selections.
//
// The standard scene: four boxes in one batch and class, corners [y1, x1, y2, x2]:
//   b0 [0, 0, 2, 2]      area 4
//   b1 [0, 1, 2, 3]      IoU with b0 = 2 / 6 = 0.333
//   b2 [0, 0.2, 2, 2.2]  IoU with b0 = 3.6 / 4.4 = 0.818
//   b3 [5, 5, 6, 6]      disjoint from all
// scores 0.9, 0.8, 0.85, 0.3 rank them b0, b2, b1, b3.
#include <doctest/doctest.h>

#include "engine_shape_harness.hpp"

using namespace shape_harness;

namespace {

tensor scene_boxes() {
  return make<float>({1, 4, 4}, {0, 0, 2, 2, 0, 1, 2, 3, 0, 0.2f, 2, 2.2f, 5, 5, 6, 6});
}
tensor scene_scores() { return make<float>({1, 1, 4}, {0.9f, 0.8f, 0.85f, 0.3f}); }

std::vector<std::int64_t> selected(const op& o) { return values<std::int64_t>(o.out[0]); }

}  // namespace

TEST_CASE("NonMaxSuppression suppresses boxes overlapping a better one beyond the threshold") {
  auto boxes = scene_boxes(), scores = scene_scores();
  auto max = i64s({3});
  auto iou = make<float>({1}, {0.5f});
  op o("NonMaxSuppression", 1, 11);
  REQUIRE(o.run({&boxes, &scores, &max, &iou}));
  CHECK(o.out[0].shape() == shape_t{3, 3});
  CHECK(selected(o) == std::vector<std::int64_t>{0, 0, 0, 0, 0, 1, 0, 0, 3});
}

TEST_CASE("NonMaxSuppression stops at max_output_boxes_per_class") {
  auto boxes = scene_boxes(), scores = scene_scores();
  auto max = i64s({2});
  auto iou = make<float>({1}, {0.5f});
  op o("NonMaxSuppression", 1, 11);
  REQUIRE(o.run({&boxes, &scores, &max, &iou}));
  CHECK(selected(o) == std::vector<std::int64_t>{0, 0, 0, 0, 0, 1});
}

TEST_CASE("NonMaxSuppression drops boxes at or below the score threshold") {
  auto boxes = scene_boxes(), scores = scene_scores();
  auto max = i64s({4});
  auto iou = make<float>({1}, {0.5f});
  auto score = make<float>({1}, {0.3f});
  op o("NonMaxSuppression", 1, 11);
  REQUIRE(o.run({&boxes, &scores, &max, &iou, &score}));
  CHECK(selected(o) == std::vector<std::int64_t>{0, 0, 0, 0, 0, 1});
}

TEST_CASE("NonMaxSuppression with a lower IoU threshold suppresses more") {
  auto boxes = scene_boxes(), scores = scene_scores();
  auto max = i64s({4});
  auto iou = make<float>({1}, {0.3f});
  op o("NonMaxSuppression", 1, 11);
  REQUIRE(o.run({&boxes, &scores, &max, &iou}));
  CHECK(selected(o) == std::vector<std::int64_t>{0, 0, 0, 0, 0, 3});
}

TEST_CASE("NonMaxSuppression reads center-format boxes") {
  auto boxes = make<float>({1, 4, 4}, {1, 1, 2, 2, 2, 1, 2, 2, 1.2f, 1, 2, 2, 5.5f, 5.5f, 1, 1});
  auto scores = scene_scores();
  auto max = i64s({3});
  auto iou = make<float>({1}, {0.5f});
  op o("NonMaxSuppression", 1, 11);
  o.attr("center_point_box", int_attr(1));
  REQUIRE(o.run({&boxes, &scores, &max, &iou}));
  CHECK(selected(o) == std::vector<std::int64_t>{0, 0, 0, 0, 0, 1, 0, 0, 3});
}

TEST_CASE("NonMaxSuppression accepts corners in either order") {
  auto boxes = make<float>({1, 4, 4}, {2, 2, 0, 0, 2, 3, 0, 1, 0, 2.2f, 2, 0.2f, 6, 6, 5, 5});
  auto scores = scene_scores();
  auto max = i64s({3});
  auto iou = make<float>({1}, {0.5f});
  op o("NonMaxSuppression", 1, 11);
  REQUIRE(o.run({&boxes, &scores, &max, &iou}));
  CHECK(selected(o) == std::vector<std::int64_t>{0, 0, 0, 0, 0, 1, 0, 0, 3});
}

TEST_CASE("NonMaxSuppression keeps the lower index among equal scores") {
  auto boxes = make<float>({1, 2, 4}, {0, 0, 1, 1, 0, 0, 1, 1});
  auto scores = make<float>({1, 1, 2}, {0.5f, 0.5f});
  auto max = i64s({2});
  op o("NonMaxSuppression", 1, 11);
  REQUIRE(o.run({&boxes, &scores, &max}));
  CHECK(selected(o) == std::vector<std::int64_t>{0, 0, 0});
}

TEST_CASE("NonMaxSuppression orders results by batch then class") {
  // Two batches of two disjoint boxes, two classes; class 1 prefers the second box.
  auto boxes = make<float>({2, 2, 4}, {0, 0, 1, 1, 5, 5, 6, 6, 0, 0, 1, 1, 5, 5, 6, 6});
  auto scores = make<float>({2, 2, 2}, {0.9f, 0.1f, 0.2f, 0.8f, 0.3f, 0.4f, 0.7f, 0.6f});
  auto max = i64s({1});
  op o("NonMaxSuppression", 1, 11);
  REQUIRE(o.run({&boxes, &scores, &max}));
  CHECK(o.out[0].shape() == shape_t{4, 3});
  CHECK(selected(o) == std::vector<std::int64_t>{0, 0, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0});
}

TEST_CASE("NonMaxSuppression without max_output_boxes_per_class selects nothing") {
  auto boxes = scene_boxes(), scores = scene_scores();
  op o("NonMaxSuppression", 1, 11);
  REQUIRE(o.run({&boxes, &scores}));
  CHECK(o.out[0].shape() == shape_t{0, 3});
}

TEST_CASE("NonMaxSuppression rejects boxes without four coordinates") {
  tensor boxes(dtype::f32, {1, 4, 3});
  auto scores = scene_scores();
  op o("NonMaxSuppression", 1, 11);
  CHECK(mentions(o.run({&boxes, &scores}), {"[1, 4, 3]"}));
}

TEST_CASE("NonMaxSuppression rejects scores that do not match the boxes") {
  auto boxes = scene_boxes();
  tensor scores(dtype::f32, {1, 1, 3});
  op o("NonMaxSuppression", 1, 11);
  CHECK(mentions(o.run({&boxes, &scores}), {"[1, 1, 3]", "[1, 4, 4]"}));
}
