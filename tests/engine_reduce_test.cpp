// Unit tests for the reduction reference kernels: Reduce*, ArgMax/ArgMin and TopK.
#include <cmath>
#include <limits>

#include "engine_math_harness.hpp"

using namespace math_harness;

namespace {
const double inf = std::numeric_limits<double>::infinity();

// [[1, 2, 3], [4, 5, 6]]
tensor two_by_three() { return f32({2, 3}, {1, 2, 3, 4, 5, 6}); }
}  // namespace

TEST_CASE("ReduceSum with the axes attribute keeps reduced dimensions by default") {
  auto x = two_by_three();
  op r("ReduceSum", 11);
  r.attr("axes", ints_attr({1}));
  const tensor& y = r.run_ok({&x});
  CHECK(y.shape() == shape_t{2, 1});
  check_close(y, {6, 15});
}

TEST_CASE("ReduceSum from opset 13 reads axes from its second input") {
  auto x = two_by_three();
  auto axes = i64({1}, {0});
  op r("ReduceSum", 13);
  r.attr("keepdims", int_attr(0));
  const tensor& y = r.run_ok({&x, &axes});
  CHECK(y.shape() == shape_t{3});
  check_close(y, {5, 7, 9});
}

TEST_CASE("ReduceSum without axes reduces every dimension") {
  auto x = two_by_three();
  op r("ReduceSum", 13);
  const tensor& y = r.run_ok({&x});
  CHECK(y.shape() == shape_t{1, 1});
  check_close(y, {21});
}

TEST_CASE("ReduceSum with noop_with_empty_axes and no axes returns the input") {
  auto x = two_by_three();
  auto axes = i64({0}, {});
  op r("ReduceSum", 13);
  r.attr("noop_with_empty_axes", int_attr(1));
  const tensor& y = r.run_ok({&x, &axes});
  CHECK(y.shape() == shape_t{2, 3});
  check_close(y, {1, 2, 3, 4, 5, 6});
}

TEST_CASE("ReduceSum over an empty dimension gives zeros") {
  auto x = f32({0, 2}, {});
  op r("ReduceSum", 11);
  r.attr("axes", ints_attr({0}));
  const tensor& y = r.run_ok({&x});
  CHECK(y.shape() == shape_t{1, 2});
  check_close(y, {0, 0});
}

TEST_CASE("ReduceSum on int32 sums exactly") {
  auto x = make<std::int32_t>({2, 2}, {1000000, 2000000, -3, 4});
  op r("ReduceSum", 11);
  r.attr("axes", ints_attr({1})).attr("keepdims", int_attr(0));
  CHECK(values<std::int32_t>(r.run_ok({&x})) == std::vector<std::int32_t>{3000000, 1});
}

TEST_CASE("ReduceMean accepts negative axes") {
  auto x = two_by_three();
  op r("ReduceMean", 13);
  r.attr("axes", ints_attr({-1})).attr("keepdims", int_attr(0));
  check_close(r.run_ok({&x}), {2, 5});
}

TEST_CASE("ReduceMean from opset 18 reads axes from its second input") {
  auto x = two_by_three();
  auto axes = i64({1}, {0});
  op r("ReduceMean", 18);
  check_close(r.run_ok({&x, &axes}), {2.5, 3.5, 4.5});
}

TEST_CASE("ReduceMean over the middle axis of a 3-D tensor") {
  auto x = f32({2, 3, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  op r("ReduceMean", 13);
  r.attr("axes", ints_attr({1}));
  const tensor& y = r.run_ok({&x});
  CHECK(y.shape() == shape_t{2, 1, 2});
  check_close(y, {3, 4, 9, 10});
}

TEST_CASE("ReduceMean on float16 returns float16") {
  auto x = f16({4}, {1.0f, 2.0f, 3.0f, 4.5f});
  op r("ReduceMean", 13);
  CHECK(halves(r.run_ok({&x})) == std::vector<float>{2.625f});
}

TEST_CASE("ReduceMax and ReduceMin on integers") {
  auto x = make<std::int64_t>({2, 3}, {3, -9, 4, 7, 0, -2});
  op mx("ReduceMax", 13);
  mx.attr("axes", ints_attr({1})).attr("keepdims", int_attr(0));
  CHECK(values<std::int64_t>(mx.run_ok({&x})) == std::vector<std::int64_t>{4, 7});
  op mn("ReduceMin", 13);
  mn.attr("axes", ints_attr({0})).attr("keepdims", int_attr(0));
  CHECK(values<std::int64_t>(mn.run_ok({&x})) == std::vector<std::int64_t>{3, -9, -2});
}

TEST_CASE("ReduceMax over an empty dimension gives minus infinity") {
  auto x = f32({2, 0}, {});
  op r("ReduceMax", 13);
  r.attr("axes", ints_attr({1}));
  check_close(r.run_ok({&x}), {-inf, -inf});
}

TEST_CASE("ReduceProd multiplies along the axis") {
  auto x = two_by_three();
  op r("ReduceProd", 13);
  r.attr("axes", ints_attr({1}));
  check_close(r.run_ok({&x}), {6, 120});
}

TEST_CASE("ReduceL1 ReduceL2 and ReduceSumSquare use magnitudes and squares") {
  auto x = f32({2, 2}, {3, -4, -1, 0});
  op l1("ReduceL1", 13);
  l1.attr("axes", ints_attr({1}));
  check_close(l1.run_ok({&x}), {7, 1});
  op l2("ReduceL2", 13);
  l2.attr("axes", ints_attr({1}));
  check_close(l2.run_ok({&x}), {5, 1});
  op sq("ReduceSumSquare", 13);
  sq.attr("axes", ints_attr({1}));
  check_close(sq.run_ok({&x}), {25, 1});
}

TEST_CASE("ReduceLogSum is the log of the sum") {
  auto x = f32({3}, {1, 2, 4});
  op r("ReduceLogSum", 13);
  check_close(r.run_ok({&x}), {std::log(7.0)});
}

TEST_CASE("ReduceLogSumExp stays finite for large inputs") {
  auto x = f32({2}, {1000, 1000});
  op r("ReduceLogSumExp", 13);
  check_close(r.run_ok({&x}), {1000 + std::log(2.0)});
}

TEST_CASE("Reduce rejects an axis out of range") {
  auto x = two_by_three();
  op r("ReduceSum", 11);
  r.attr("axes", ints_attr({2}));
  CHECK(fails_with(r.run({&x}), errc::invalid_argument, "out of range for shape [2, 3]"));
}

TEST_CASE("Reduce rejects a repeated axis") {
  auto x = two_by_three();
  op r("ReduceMax", 13);
  r.attr("axes", ints_attr({1, -1}));
  CHECK(fails_with(r.run({&x}), errc::invalid_argument, "repeated"));
}

TEST_CASE("ArgMax defaults to axis 0 with keepdims") {
  auto x = f32({2, 3}, {1, 9, 3, 4, 5, 6});
  op a("ArgMax", 13);
  const tensor& y = a.run_ok({&x});
  CHECK(y.shape() == shape_t{1, 3});
  CHECK(values<std::int64_t>(y) == std::vector<std::int64_t>{1, 0, 1});
}

TEST_CASE("ArgMin along the last axis without keepdims") {
  auto x = f32({2, 3}, {1, 9, 3, 4, 5, -6});
  op a("ArgMin", 13);
  a.attr("axis", int_attr(-1)).attr("keepdims", int_attr(0));
  const tensor& y = a.run_ok({&x});
  CHECK(y.shape() == shape_t{2});
  CHECK(values<std::int64_t>(y) == std::vector<std::int64_t>{0, 2});
}

TEST_CASE("ArgMax picks the first or, with select_last_index, the last of tied maxima") {
  auto x = make<std::int32_t>({4}, {2, 7, 7, 1});
  op first("ArgMax", 13);
  CHECK(values<std::int64_t>(first.run_ok({&x})) == std::vector<std::int64_t>{1});
  op last("ArgMax", 13);
  last.attr("select_last_index", int_attr(1));
  CHECK(values<std::int64_t>(last.run_ok({&x})) == std::vector<std::int64_t>{2});
}

TEST_CASE("ArgMax of an empty axis is invalid") {
  auto x = f32({0, 2}, {});
  op a("ArgMax", 13);
  CHECK(fails_with(a.run({&x}), errc::invalid_argument, "empty axis"));
}

TEST_CASE("TopK returns the k largest values sorted with their indices") {
  auto x = f32({2, 4}, {1, 4, 3, 4, 8, 6, 7, 5});
  auto k = i64({1}, {2});
  op t("TopK", 11, 2);
  auto status = t.run({&x, &k});
  REQUIRE(status.ok());
  CHECK(t.out[0].shape() == shape_t{2, 2});
  check_close(t.out[0], {4, 4, 8, 7});
  // Ties keep the smaller index first.
  CHECK(values<std::int64_t>(t.out[1]) == std::vector<std::int64_t>{1, 3, 0, 2});
}

TEST_CASE("TopK with largest 0 returns the smallest values along axis 0") {
  auto x = make<std::int32_t>({3, 2}, {5, 1, 2, 9, 7, 0});
  auto k = i64({1}, {2});
  op t("TopK", 11, 2);
  t.attr("largest", int_attr(0)).attr("axis", int_attr(0));
  REQUIRE(t.run({&x, &k}).ok());
  CHECK(values<std::int32_t>(t.out[0]) == std::vector<std::int32_t>{2, 0, 5, 1});
  CHECK(values<std::int64_t>(t.out[1]) == std::vector<std::int64_t>{1, 2, 0, 0});
}

TEST_CASE("TopK before opset 10 reads k from its attribute") {
  auto x = f32({3}, {2, 9, 4});
  op t("TopK", 1, 2);
  t.attr("k", int_attr(1));
  REQUIRE(t.run({&x}).ok());
  check_close(t.out[0], {9});
  CHECK(values<std::int64_t>(t.out[1]) == std::vector<std::int64_t>{1});
}

TEST_CASE("TopK rejects k larger than the axis") {
  auto x = f32({3}, {2, 9, 4});
  auto k = i64({1}, {4});
  op t("TopK", 11, 2);
  CHECK(fails_with(t.run({&x, &k}), errc::invalid_argument, "k = 4"));
}

TEST_CASE("TopK leaves an unused indices output empty") {
  auto x = f32({3}, {2, 9, 4});
  auto k = i64({1}, {2});
  op t("TopK", 11, 2);
  t.n.outputs[1] = "";
  REQUIRE(t.run({&x, &k}).ok());
  check_close(t.out[0], {9, 4});
  CHECK(t.out[1].empty());
}
