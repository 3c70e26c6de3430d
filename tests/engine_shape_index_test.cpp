// Reference kernels driven by indices or creating tensors (engine/kernels/shape_gather.cpp
// and shape_create.cpp), with hand-computed expected values.
#include <doctest/doctest.h>

#include <limits>

#include "engine_shape_harness.hpp"

using namespace shape_harness;

// ---------------------------------------------------------------- Gather

TEST_CASE("Gather picks rows along axis 0") {
  auto x = make<float>({3, 2}, {1, 2, 3, 4, 5, 6});
  auto idx = i64s({2, 0});
  op o("Gather");
  REQUIRE(o.run({&x, &idx}));
  CHECK(o.out[0].shape() == shape_t{2, 2});
  CHECK(values<float>(o.out[0]) == std::vector<float>{5, 6, 1, 2});
}

TEST_CASE("Gather accepts negative int32 indices on a negative axis") {
  auto x = make<float>({3, 2}, {1, 2, 3, 4, 5, 6});
  auto idx = make<std::int32_t>({1}, {-1});
  op o("Gather");
  o.attr("axis", int_attr(-1));
  REQUIRE(o.run({&x, &idx}));
  CHECK(o.out[0].shape() == shape_t{3, 1});
  CHECK(values<float>(o.out[0]) == std::vector<float>{2, 4, 6});
}

TEST_CASE("Gather with a scalar index drops the axis") {
  auto x = make<std::int64_t>({2, 3}, {1, 2, 3, 4, 5, 6});
  auto idx = make<std::int64_t>({}, {1});
  op o("Gather");
  REQUIRE(o.run({&x, &idx}));
  CHECK(o.out[0].shape() == shape_t{3});
  CHECK(values<std::int64_t>(o.out[0]) == std::vector<std::int64_t>{4, 5, 6});
}

TEST_CASE("Gather rejects an out-of-range index") {
  tensor x(dtype::f32, {3});
  auto idx = i64s({3});
  op o("Gather");
  CHECK(mentions(o.run({&x, &idx}), {"index 3", "size 3"}));
}

TEST_CASE("GatherElements reads along the axis at each index position") {
  auto x = make<float>({2, 2}, {1, 2, 3, 4});
  auto idx = make<std::int64_t>({2, 2}, {0, 0, 1, 0});
  op o("GatherElements");
  o.attr("axis", int_attr(1));
  REQUIRE(o.run({&x, &idx}));
  CHECK(values<float>(o.out[0]) == std::vector<float>{1, 1, 4, 3});
}

TEST_CASE("GatherElements accepts negative indices and smaller index shapes") {
  auto x = make<float>({2, 2}, {1, 2, 3, 4});
  auto idx = make<std::int64_t>({1, 2}, {-1, 0});
  op o("GatherElements");
  REQUIRE(o.run({&x, &idx}));
  CHECK(o.out[0].shape() == shape_t{1, 2});
  CHECK(values<float>(o.out[0]) == std::vector<float>{3, 2});
}

TEST_CASE("GatherND gathers elements and slices") {
  auto x = make<std::int32_t>({2, 2}, {0, 1, 2, 3});
  auto pairs = make<std::int64_t>({2, 2}, {0, 0, 1, 1});
  op a("GatherND");
  REQUIRE(a.run({&x, &pairs}));
  CHECK(values<std::int32_t>(a.out[0]) == std::vector<std::int32_t>{0, 3});
  auto rows = make<std::int64_t>({2, 1}, {1, 0});
  op b("GatherND");
  REQUIRE(b.run({&x, &rows}));
  CHECK(b.out[0].shape() == shape_t{2, 2});
  CHECK(values<std::int32_t>(b.out[0]) == std::vector<std::int32_t>{2, 3, 0, 1});
}

TEST_CASE("GatherND with batch_dims indexes within each batch") {
  auto x = make<std::int32_t>({2, 2, 2}, {0, 1, 2, 3, 4, 5, 6, 7});
  auto idx = make<std::int64_t>({2, 1}, {1, 0});
  op o("GatherND");
  o.attr("batch_dims", int_attr(1));
  REQUIRE(o.run({&x, &idx}));
  CHECK(o.out[0].shape() == shape_t{2, 2});
  CHECK(values<std::int32_t>(o.out[0]) == std::vector<std::int32_t>{2, 3, 4, 5});
}

TEST_CASE("GatherND rejects an index tuple longer than the data rank") {
  tensor x(dtype::f32, {2});
  auto idx = make<std::int64_t>({1, 2}, {0, 0});
  op o("GatherND");
  CHECK(mentions(o.run({&x, &idx}), {"[1, 2]", "[2]"}));
}

// ---------------------------------------------------------------- ScatterND, ScatterElements

TEST_CASE("ScatterND replaces the addressed elements") {
  auto x = make<float>({8}, {1, 2, 3, 4, 5, 6, 7, 8});
  auto idx = make<std::int64_t>({4, 1}, {4, 3, 1, 7});
  auto upd = make<float>({4}, {9, 10, 11, 12});
  op o("ScatterND");
  REQUIRE(o.run({&x, &idx, &upd}));
  CHECK(values<float>(o.out[0]) == std::vector<float>{1, 11, 3, 10, 9, 6, 7, 12});
  CHECK(values<float>(x) == std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8});
}

TEST_CASE("ScatterND with add reduction accumulates repeated indices") {
  auto x = make<std::int64_t>({3}, {1, 2, 3});
  auto idx = make<std::int64_t>({2, 1}, {0, 0});
  auto upd = make<std::int64_t>({2}, {5, 6});
  op o("ScatterND");
  o.attr("reduction", string_attr("add"));
  REQUIRE(o.run({&x, &idx, &upd}));
  CHECK(values<std::int64_t>(o.out[0]) == std::vector<std::int64_t>{12, 2, 3});
}

TEST_CASE("ScatterND rejects updates of the wrong shape") {
  tensor x(dtype::f32, {4});
  auto idx = make<std::int64_t>({2, 1}, {0, 1});
  tensor upd(dtype::f32, {3});
  op o("ScatterND");
  CHECK(mentions(o.run({&x, &idx, &upd}), {"[3]", "[2]"}));
}

TEST_CASE("ScatterElements writes along the axis") {
  auto x = make<float>({2, 2}, {0, 0, 0, 0});
  auto idx = make<std::int64_t>({1, 2}, {1, 0});
  auto upd = make<float>({1, 2}, {5, 6});
  op o("ScatterElements");
  REQUIRE(o.run({&x, &idx, &upd}));
  CHECK(values<float>(o.out[0]) == std::vector<float>{0, 6, 5, 0});
}

TEST_CASE("Scatter of opset 9 behaves as ScatterElements on a negative axis") {
  auto x = make<std::int32_t>({2, 3}, {1, 2, 3, 4, 5, 6});
  auto idx = make<std::int32_t>({2, 1}, {2, -3});
  auto upd = make<std::int32_t>({2, 1}, {9, 8});
  op o("Scatter", 1, 9);
  o.attr("axis", int_attr(-1));
  REQUIRE(o.run({&x, &idx, &upd}));
  CHECK(values<std::int32_t>(o.out[0]) == std::vector<std::int32_t>{1, 2, 9, 8, 5, 6});
}

// ---------------------------------------------------------------- NonZero, OneHot

TEST_CASE("NonZero lists coordinates in row-major order") {
  auto x = make<std::int32_t>({2, 2}, {1, 0, 1, 1});
  op o("NonZero");
  REQUIRE(o.run({&x}));
  CHECK(o.out[0].shape() == shape_t{2, 3});
  CHECK(values<std::int64_t>(o.out[0]) == std::vector<std::int64_t>{0, 1, 1, 0, 0, 1});
}

TEST_CASE("NonZero treats negative zero as zero and NaN as non-zero") {
  auto x = make<float>({3}, {-0.0f, std::numeric_limits<float>::quiet_NaN(), 0.0f});
  op o("NonZero");
  REQUIRE(o.run({&x}));
  CHECK(o.out[0].shape() == shape_t{1, 1});
  CHECK(values<std::int64_t>(o.out[0]) == std::vector<std::int64_t>{1});
}

TEST_CASE("NonZero of an empty tensor has no columns") {
  tensor x(dtype::boolean, {2, 0});
  op o("NonZero");
  REQUIRE(o.run({&x}));
  CHECK(o.out[0].shape() == shape_t{2, 0});
}

TEST_CASE("OneHot encodes on the last axis with negative indices") {
  auto idx = make<std::int64_t>({3}, {0, 2, -1});
  auto depth = make<float>({}, {3});
  auto vals = make<std::int32_t>({2}, {0, 7});
  op o("OneHot", 1, 11);
  REQUIRE(o.run({&idx, &depth, &vals}));
  CHECK(o.out[0].shape() == shape_t{3, 3});
  CHECK(values<std::int32_t>(o.out[0]) == std::vector<std::int32_t>{7, 0, 0, 0, 0, 7, 0, 0, 7});
}

TEST_CASE("OneHot on axis 0 puts the depth first and ignores out-of-range indices") {
  auto idx = make<std::int64_t>({2}, {1, 5});
  auto depth = make<std::int64_t>({1}, {2});
  auto vals = make<float>({2}, {-1, 1});
  op o("OneHot", 1, 11);
  o.attr("axis", int_attr(0));
  REQUIRE(o.run({&idx, &depth, &vals}));
  CHECK(o.out[0].shape() == shape_t{2, 2});
  CHECK(values<float>(o.out[0]) == std::vector<float>{-1, -1, 1, -1});
}

// ---------------------------------------------------------------- Constant, ConstantOfShape

TEST_CASE("Constant returns a copy of its tensor attribute") {
  auto value = make<std::int32_t>({2}, {4, 5});
  op o("Constant");
  o.attr("value", tensor_attr(value));
  REQUIRE(o.run({}));
  CHECK(o.out[0].shape() == shape_t{2});
  CHECK(values<std::int32_t>(o.out[0]) == std::vector<std::int32_t>{4, 5});
  CHECK(o.out[0].raw() != o.n.attributes["value"].t.raw());
}

TEST_CASE("Constant builds scalars and lists from value_float and value_ints") {
  op a("Constant");
  a.attr("value_float", float_attr(2.5f));
  REQUIRE(a.run({}));
  CHECK(a.out[0].type() == dtype::f32);
  CHECK(a.out[0].rank() == 0);
  CHECK(*a.out[0].data<float>() == 2.5f);
  op b("Constant");
  b.attr("value_ints", ints_attr({3, -4}));
  REQUIRE(b.run({}));
  CHECK(b.out[0].type() == dtype::i64);
  CHECK(values<std::int64_t>(b.out[0]) == std::vector<std::int64_t>{3, -4});
}

TEST_CASE("Constant without a value attribute fails") {
  op o("Constant");
  CHECK(o.run({}).code() == errc::invalid_argument);
}

TEST_CASE("ConstantOfShape defaults to float zeros") {
  auto shape = i64s({2, 3});
  op o("ConstantOfShape");
  REQUIRE(o.run({&shape}));
  CHECK(o.out[0].type() == dtype::f32);
  CHECK(o.out[0].shape() == shape_t{2, 3});
  CHECK(values<float>(o.out[0]) == std::vector<float>(6, 0.0f));
}

TEST_CASE("ConstantOfShape fills with the value attribute's type") {
  auto shape = i64s({3});
  op o("ConstantOfShape");
  o.attr("value", tensor_attr(make<std::int64_t>({1}, {7})));
  REQUIRE(o.run({&shape}));
  CHECK(o.out[0].type() == dtype::i64);
  CHECK(values<std::int64_t>(o.out[0]) == std::vector<std::int64_t>{7, 7, 7});
}

TEST_CASE("ConstantOfShape with an empty shape gives a scalar") {
  tensor shape(dtype::i64, {0});
  op o("ConstantOfShape");
  o.attr("value", tensor_attr(make<float>({1}, {1.5f})));
  REQUIRE(o.run({&shape}));
  CHECK(o.out[0].rank() == 0);
  CHECK(*o.out[0].data<float>() == 1.5f);
}

TEST_CASE("ConstantOfShape rejects a negative dimension") {
  auto shape = i64s({2, -1});
  op o("ConstantOfShape");
  CHECK(mentions(o.run({&shape}), {"[2, -1]"}));
}

// ---------------------------------------------------------------- Range

TEST_CASE("Range counts up in float") {
  auto start = make<float>({}, {1}), limit = make<float>({}, {5}), delta = make<float>({}, {2});
  op o("Range");
  REQUIRE(o.run({&start, &limit, &delta}));
  CHECK(values<float>(o.out[0]) == std::vector<float>{1, 3});
}

TEST_CASE("Range counts down in int32") {
  auto start = make<std::int32_t>({}, {10}), limit = make<std::int32_t>({}, {4});
  auto delta = make<std::int32_t>({}, {-3});
  op o("Range");
  REQUIRE(o.run({&start, &limit, &delta}));
  CHECK(values<std::int32_t>(o.out[0]) == std::vector<std::int32_t>{10, 7});
}

TEST_CASE("Range with the limit behind the start is empty") {
  auto start = make<std::int64_t>({}, {3}), limit = make<std::int64_t>({}, {0});
  auto delta = make<std::int64_t>({}, {1});
  op o("Range");
  REQUIRE(o.run({&start, &limit, &delta}));
  CHECK(o.out[0].shape() == shape_t{0});
}

TEST_CASE("Range rejects a zero delta") {
  auto start = make<float>({}, {0}), limit = make<float>({}, {1}), delta = make<float>({}, {0});
  op o("Range");
  CHECK(mentions(o.run({&start, &limit, &delta}), {"delta is 0"}));
}

// ---------------------------------------------------------------- EyeLike, Trilu, Dropout

TEST_CASE("EyeLike puts ones on the k-th diagonal") {
  tensor x(dtype::f32, {2, 3});
  op o("EyeLike");
  o.attr("k", int_attr(1));
  REQUIRE(o.run({&x}));
  CHECK(values<float>(o.out[0]) == std::vector<float>{0, 1, 0, 0, 0, 1});
}

TEST_CASE("EyeLike uses the dtype attribute") {
  tensor x(dtype::f32, {2, 2});
  op o("EyeLike");
  o.attr("dtype", int_attr(6));
  REQUIRE(o.run({&x}));
  CHECK(o.out[0].type() == dtype::i32);
  CHECK(values<std::int32_t>(o.out[0]) == std::vector<std::int32_t>{1, 0, 0, 1});
}

TEST_CASE("Trilu keeps the upper triangle by default") {
  auto x = make<float>({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  op o("Trilu");
  REQUIRE(o.run({&x}));
  CHECK(values<float>(o.out[0]) == std::vector<float>{1, 2, 3, 0, 5, 6, 0, 0, 9});
}

TEST_CASE("Trilu lower with a negative k drops the diagonal") {
  auto x = make<float>({3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9});
  auto k = make<std::int64_t>({}, {-1});
  op o("Trilu");
  o.attr("upper", int_attr(0));
  REQUIRE(o.run({&x, &k}));
  CHECK(values<float>(o.out[0]) == std::vector<float>{0, 0, 0, 4, 0, 0, 7, 8, 0});
}

TEST_CASE("Dropout in inference passes data through with an all-true mask") {
  auto x = make<float>({3}, {1, 2, 3});
  op o("Dropout", 2, 13);
  REQUIRE(o.run({&x}));
  CHECK(values<float>(o.out[0]) == std::vector<float>{1, 2, 3});
  CHECK(o.out[1].type() == dtype::boolean);
  CHECK(values<std::uint8_t>(o.out[1]) == std::vector<std::uint8_t>{1, 1, 1});
}

TEST_CASE("Dropout in training mode is identity only with ratio 0") {
  auto x = make<float>({2}, {1, 2});
  auto yes = make_bool({}, {1});
  auto zero = make<float>({}, {0});
  op a("Dropout", 1, 13);
  REQUIRE(a.run({&x, &zero, &yes}));
  CHECK(values<float>(a.out[0]) == std::vector<float>{1, 2});
  auto half = make<float>({}, {0.5f});
  op b("Dropout", 1, 13);
  CHECK(b.run({&x, &half, &yes}).code() == errc::not_implemented);
}
