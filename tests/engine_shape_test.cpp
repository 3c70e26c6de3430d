// Reference kernels that reshape, reorder, cut, join and repeat tensors (engine/kernels/
// shape_reshape.cpp and shape_slice.cpp), with hand-computed expected values.
#include <doctest/doctest.h>

#include <limits>

#include "engine_shape_harness.hpp"

using namespace shape_harness;

namespace {

std::vector<float> iota_f(std::size_t n) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<float>(i);
  return v;
}

}  // namespace

// ---------------------------------------------------------------- Reshape, Flatten

TEST_CASE("Reshape infers a -1 dimension from the shape input") {
  auto x = make<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  auto shape = i64s({3, -1});
  op o("Reshape", 1, 14);
  REQUIRE(o.run({&x, &shape}));
  CHECK(o.out[0].shape() == shape_t{3, 2});
  CHECK(values<float>(o.out[0]) == std::vector<float>{1, 2, 3, 4, 5, 6});
}

TEST_CASE("Reshape copies the input dimension where the shape holds 0") {
  tensor x(dtype::i32, {2, 3, 4});
  auto shape = i64s({0, -1});
  op o("Reshape", 1, 13);
  REQUIRE(o.run({&x, &shape}));
  CHECK(o.out[0].shape() == shape_t{2, 12});
}

TEST_CASE("Reshape with allowzero keeps a literal 0 dimension") {
  tensor x(dtype::f32, {3, 0});
  auto shape = i64s({0, 3});
  op o("Reshape", 1, 14);
  o.attr("allowzero", int_attr(1));
  REQUIRE(o.run({&x, &shape}));
  CHECK(o.out[0].shape() == shape_t{0, 3});
  op copying("Reshape", 1, 14);
  auto r = copying.run({&x, &shape});
  CHECK(r.code() == errc::invalid_argument);
}

TEST_CASE("Reshape before opset 5 reads the shape attribute") {
  auto x = make<std::int64_t>({4}, {7, 8, 9, 10});
  op o("Reshape", 1, 1);
  o.attr("shape", ints_attr({2, 2}));
  REQUIRE(o.run({&x}));
  CHECK(o.out[0].shape() == shape_t{2, 2});
  CHECK(values<std::int64_t>(o.out[0]) == std::vector<std::int64_t>{7, 8, 9, 10});
}

TEST_CASE("Reshape to an impossible shape names both shapes") {
  tensor x(dtype::f32, {2, 3});
  auto shape = i64s({4, 2});
  op o("Reshape", 1, 13);
  auto r = o.run({&x, &shape});
  CHECK(r.code() == errc::invalid_argument);
  CHECK(mentions(r, {"[2, 3]", "[4, 2]", "under_test"}));
}

TEST_CASE("Reshape rejects two inferred dimensions") {
  tensor x(dtype::f32, {2, 3});
  auto shape = i64s({-1, -1});
  op o("Reshape", 1, 13);
  CHECK(mentions(o.run({&x, &shape}), {"more than one dimension is -1"}));
}

TEST_CASE("Reshape moves bool and float16 elements unchanged") {
  auto b = make_bool({2, 2}, {1, 0, 0, 1});
  auto shape = i64s({4});
  op o("Reshape", 1, 13);
  REQUIRE(o.run({&b, &shape}));
  CHECK(o.out[0].type() == dtype::boolean);
  CHECK(values<std::uint8_t>(o.out[0]) == std::vector<std::uint8_t>{1, 0, 0, 1});
  tensor h(dtype::f16, {2});
  h.data<std::uint16_t>()[0] = float_to_half(1.5f);
  h.data<std::uint16_t>()[1] = float_to_half(-2.0f);
  auto shape2 = i64s({1, 2});
  op p("Reshape", 1, 13);
  REQUIRE(p.run({&h, &shape2}));
  CHECK(half_to_float(p.out[0].data<std::uint16_t>()[1]) == -2.0f);
}

TEST_CASE("Reshape of a string tensor is reported as unsupported") {
  tensor s(dtype::string, {2});
  auto shape = i64s({2});
  op o("Reshape", 1, 13);
  CHECK(o.run({&s, &shape}).code() == errc::not_implemented);
}

TEST_CASE("Reshape without its shape input fails clearly") {
  tensor x(dtype::f32, {2});
  op o("Reshape", 1, 13);
  CHECK(mentions(o.run({&x}), {"'shape' is missing"}));
}

TEST_CASE("Flatten splits the shape at a negative axis") {
  tensor x(dtype::f32, {2, 3, 4});
  op o("Flatten");
  o.attr("axis", int_attr(-1));
  REQUIRE(o.run({&x}));
  CHECK(o.out[0].shape() == shape_t{6, 4});
}

TEST_CASE("Flatten with axis 0 and axis rank gives a leading or trailing 1") {
  tensor x(dtype::u8, {2, 3});
  op a("Flatten");
  a.attr("axis", int_attr(0));
  REQUIRE(a.run({&x}));
  CHECK(a.out[0].shape() == shape_t{1, 6});
  op b("Flatten");
  b.attr("axis", int_attr(2));
  REQUIRE(b.run({&x}));
  CHECK(b.out[0].shape() == shape_t{6, 1});
}

TEST_CASE("Flatten rejects an axis beyond the rank") {
  tensor x(dtype::f32, {2, 3});
  op o("Flatten");
  o.attr("axis", int_attr(3));
  CHECK(mentions(o.run({&x}), {"axis 3", "[2, 3]"}));
}

// ---------------------------------------------------------------- Squeeze, Unsqueeze

TEST_CASE("Squeeze before opset 13 reads negative axes from the attribute") {
  tensor x(dtype::f32, {2, 1});
  op o("Squeeze", 1, 11);
  o.attr("axes", ints_attr({-1}));
  REQUIRE(o.run({&x}));
  CHECK(o.out[0].shape() == shape_t{2});
}

TEST_CASE("Squeeze from opset 13 reads the axes input") {
  tensor x(dtype::f32, {1, 3, 1});
  auto axes = i64s({0});
  op o("Squeeze", 1, 13);
  REQUIRE(o.run({&x, &axes}));
  CHECK(o.out[0].shape() == shape_t{3, 1});
}

TEST_CASE("Squeeze without axes removes every dimension of size 1") {
  tensor x(dtype::f32, {1, 3, 1, 2});
  op o("Squeeze", 1, 13);
  REQUIRE(o.run({&x}));
  CHECK(o.out[0].shape() == shape_t{3, 2});
}

TEST_CASE("Squeeze of a dimension that is not 1 fails naming the shape") {
  tensor x(dtype::f32, {2, 3});
  auto axes = i64s({1});
  op o("Squeeze", 1, 13);
  CHECK(mentions(o.run({&x, &axes}), {"axis 1", "[2, 3]"}));
}

TEST_CASE("Unsqueeze inserts axes given relative to the output rank") {
  tensor x(dtype::f32, {2, 3});
  auto axes = i64s({0, -1});
  op o("Unsqueeze", 1, 13);
  REQUIRE(o.run({&x, &axes}));
  CHECK(o.out[0].shape() == shape_t{1, 2, 3, 1});
}

TEST_CASE("Unsqueeze accepts unsorted axes") {
  tensor x(dtype::f32, {2, 3});
  auto axes = i64s({3, 1});
  op o("Unsqueeze", 1, 13);
  REQUIRE(o.run({&x, &axes}));
  CHECK(o.out[0].shape() == shape_t{2, 1, 3, 1});
}

TEST_CASE("Unsqueeze before opset 13 reads the axes attribute") {
  auto x = make<float>({3}, {1, 2, 3});
  op o("Unsqueeze", 1, 11);
  o.attr("axes", ints_attr({1}));
  REQUIRE(o.run({&x}));
  CHECK(o.out[0].shape() == shape_t{3, 1});
  CHECK(values<float>(o.out[0]) == std::vector<float>{1, 2, 3});
}

TEST_CASE("Unsqueeze rejects a repeated axis") {
  tensor x(dtype::f32, {2});
  auto axes = i64s({0, -3});
  op o("Unsqueeze", 1, 13);
  CHECK(mentions(o.run({&x, &axes}), {"repeated"}));
}

// ---------------------------------------------------------------- Shape, Size

TEST_CASE("Shape returns the dimensions as int64") {
  tensor x(dtype::f32, {2, 3, 4});
  op o("Shape", 1, 13);
  REQUIRE(o.run({&x}));
  CHECK(o.out[0].type() == dtype::i64);
  CHECK(values<std::int64_t>(o.out[0]) == std::vector<std::int64_t>{2, 3, 4});
}

TEST_CASE("Shape from opset 15 slices the dimensions with start and end") {
  tensor x(dtype::f32, {2, 3, 4});
  op a("Shape", 1, 15);
  a.attr("start", int_attr(1));
  REQUIRE(a.run({&x}));
  CHECK(values<std::int64_t>(a.out[0]) == std::vector<std::int64_t>{3, 4});
  op b("Shape", 1, 15);
  b.attr("start", int_attr(-10)).attr("end", int_attr(-1));
  REQUIRE(b.run({&x}));
  CHECK(values<std::int64_t>(b.out[0]) == std::vector<std::int64_t>{2, 3});
}

TEST_CASE("Size counts elements including an empty tensor") {
  tensor x(dtype::f32, {2, 3, 4});
  op a("Size");
  REQUIRE(a.run({&x}));
  CHECK(a.out[0].rank() == 0);
  CHECK(*a.out[0].data<std::int64_t>() == 24);
  tensor e(dtype::f32, {0, 3});
  op b("Size");
  REQUIRE(b.run({&e}));
  CHECK(*b.out[0].data<std::int64_t>() == 0);
}

// ---------------------------------------------------------------- Transpose

TEST_CASE("Transpose without perm reverses the axes") {
  auto x = make<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  op o("Transpose");
  REQUIRE(o.run({&x}));
  CHECK(o.out[0].shape() == shape_t{3, 2});
  CHECK(values<float>(o.out[0]) == std::vector<float>{1, 4, 2, 5, 3, 6});
}

TEST_CASE("Transpose applies an explicit 3-D permutation") {
  auto x = make<std::int16_t>({2, 1, 3}, {0, 1, 2, 3, 4, 5});
  op o("Transpose");
  o.attr("perm", ints_attr({2, 0, 1}));
  REQUIRE(o.run({&x}));
  CHECK(o.out[0].shape() == shape_t{3, 2, 1});
  CHECK(values<std::int16_t>(o.out[0]) == std::vector<std::int16_t>{0, 3, 1, 4, 2, 5});
}

TEST_CASE("Transpose rejects a perm that is not a permutation") {
  tensor x(dtype::f32, {2, 3});
  op o("Transpose");
  o.attr("perm", ints_attr({0, 0}));
  CHECK(mentions(o.run({&x}), {"[0, 0]", "[2, 3]"}));
}

// ---------------------------------------------------------------- DepthToSpace, SpaceToDepth

TEST_CASE("DepthToSpace in DCR mode takes the block index from the leading channels") {
  auto x = make<float>({1, 8, 1, 1}, iota_f(8));
  op o("DepthToSpace", 1, 13);
  o.attr("blocksize", int_attr(2));
  REQUIRE(o.run({&x}));
  CHECK(o.out[0].shape() == shape_t{1, 2, 2, 2});
  CHECK(values<float>(o.out[0]) == std::vector<float>{0, 2, 4, 6, 1, 3, 5, 7});
}

TEST_CASE("DepthToSpace in CRD mode takes the block index from the trailing channels") {
  auto x = make<float>({1, 8, 1, 1}, iota_f(8));
  op o("DepthToSpace", 1, 13);
  o.attr("blocksize", int_attr(2)).attr("mode", string_attr("CRD"));
  REQUIRE(o.run({&x}));
  CHECK(values<float>(o.out[0]) == std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7});
}

TEST_CASE("DepthToSpace rejects channels not divisible by the block area") {
  tensor x(dtype::f32, {1, 6, 1, 1});
  op o("DepthToSpace", 1, 13);
  o.attr("blocksize", int_attr(2));
  CHECK(mentions(o.run({&x}), {"[1, 6, 1, 1]"}));
}

TEST_CASE("SpaceToDepth moves each block into channels") {
  auto x = make<float>({1, 2, 2, 2}, iota_f(8));
  op o("SpaceToDepth");
  o.attr("blocksize", int_attr(2));
  REQUIRE(o.run({&x}));
  CHECK(o.out[0].shape() == shape_t{1, 8, 1, 1});
  CHECK(values<float>(o.out[0]) == std::vector<float>{0, 4, 1, 5, 2, 6, 3, 7});
}

// ---------------------------------------------------------------- Concat

TEST_CASE("Concat joins along a negative axis") {
  auto a = make<float>({2, 1}, {1, 2});
  auto b = make<float>({2, 2}, {3, 4, 5, 6});
  op o("Concat");
  o.attr("axis", int_attr(-1));
  REQUIRE(o.run({&a, &b}));
  CHECK(o.out[0].shape() == shape_t{2, 3});
  CHECK(values<float>(o.out[0]) == std::vector<float>{1, 3, 4, 2, 5, 6});
}

TEST_CASE("Concat accepts an empty input") {
  tensor a(dtype::i64, {0, 2});
  auto b = make<std::int64_t>({1, 2}, {8, 9});
  op o("Concat");
  o.attr("axis", int_attr(0));
  REQUIRE(o.run({&a, &b}));
  CHECK(o.out[0].shape() == shape_t{1, 2});
  CHECK(values<std::int64_t>(o.out[0]) == std::vector<std::int64_t>{8, 9});
}

TEST_CASE("Concat rejects inputs that differ outside the axis") {
  tensor a(dtype::f32, {2, 2});
  tensor b(dtype::f32, {3, 2});
  op o("Concat");
  o.attr("axis", int_attr(1));
  CHECK(mentions(o.run({&a, &b}), {"[3, 2]", "[2, 2]"}));
}

// ---------------------------------------------------------------- Split

TEST_CASE("Split from opset 13 reads the split sizes input") {
  auto x = make<float>({3}, {1, 2, 3});
  auto sizes = i64s({1, 2});
  op o("Split", 2, 13);
  REQUIRE(o.run({&x, &sizes}));
  CHECK(values<float>(o.out[0]) == std::vector<float>{1});
  CHECK(values<float>(o.out[1]) == std::vector<float>{2, 3});
}

TEST_CASE("Split before opset 13 reads the split attribute") {
  auto x = make<std::int32_t>({2, 3}, {1, 2, 3, 4, 5, 6});
  op o("Split", 2, 11);
  o.attr("axis", int_attr(-1)).attr("split", ints_attr({2, 1}));
  REQUIRE(o.run({&x}));
  CHECK(o.out[0].shape() == shape_t{2, 2});
  CHECK(values<std::int32_t>(o.out[0]) == std::vector<std::int32_t>{1, 2, 4, 5});
  CHECK(values<std::int32_t>(o.out[1]) == std::vector<std::int32_t>{3, 6});
}

TEST_CASE("Split without sizes cuts equal parts") {
  auto x = make<float>({2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
  op o("Split", 2, 13);
  o.attr("axis", int_attr(1));
  REQUIRE(o.run({&x}));
  CHECK(values<float>(o.out[0]) == std::vector<float>{1, 2, 5, 6});
  CHECK(values<float>(o.out[1]) == std::vector<float>{3, 4, 7, 8});
}

TEST_CASE("Split with num_outputs makes the last part smaller") {
  auto x = make<float>({5}, {1, 2, 3, 4, 5});
  op o("Split", 3, 18);
  o.attr("num_outputs", int_attr(3));
  REQUIRE(o.run({&x}));
  CHECK(values<float>(o.out[0]) == std::vector<float>{1, 2});
  CHECK(values<float>(o.out[1]) == std::vector<float>{3, 4});
  CHECK(values<float>(o.out[2]) == std::vector<float>{5});
}

TEST_CASE("Split leaves an unused output empty") {
  auto x = make<float>({4}, {1, 2, 3, 4});
  op o("Split", 2, 13);
  o.unused_output(0);
  REQUIRE(o.run({&x}));
  CHECK(o.out[0].empty());
  CHECK(values<float>(o.out[1]) == std::vector<float>{3, 4});
}

TEST_CASE("Split treats an empty split input as absent") {
  auto x = make<float>({4}, {1, 2, 3, 4});
  tensor none(dtype::i64, {0});
  op o("Split", 2, 13);
  REQUIRE(o.run({&x, &none}));
  CHECK(values<float>(o.out[0]) == std::vector<float>{1, 2});
  CHECK(values<float>(o.out[1]) == std::vector<float>{3, 4});
}

TEST_CASE("Split rejects sizes that do not add up to the axis") {
  tensor x(dtype::f32, {5});
  auto sizes = i64s({2, 2});
  op o("Split", 2, 13);
  CHECK(mentions(o.run({&x, &sizes}), {"[2, 2]", "[5]"}));
}

// ---------------------------------------------------------------- Slice

TEST_CASE("Slice from opset 10 reads starts, ends and steps inputs") {
  auto x = make<float>({10}, iota_f(10));
  auto starts = i64s({1}), ends = i64s({8}), axes = i64s({0}), steps = i64s({3});
  op o("Slice", 1, 13);
  REQUIRE(o.run({&x, &starts, &ends, &axes, &steps}));
  CHECK(values<float>(o.out[0]) == std::vector<float>{1, 4, 7});
}

TEST_CASE("Slice with a negative step walks backwards and clamps the end") {
  auto x = make<float>({5}, iota_f(5));
  auto starts = i64s({-1}), ends = i64s({std::numeric_limits<std::int64_t>::min()});
  auto axes = i64s({0}), steps = i64s({-1});
  op o("Slice", 1, 13);
  REQUIRE(o.run({&x, &starts, &ends, &axes, &steps}));
  CHECK(values<float>(o.out[0]) == std::vector<float>{4, 3, 2, 1, 0});
}

TEST_CASE("Slice clamps an end beyond the dimension") {
  auto x = make<float>({5}, iota_f(5));
  auto starts = i64s({2}), ends = i64s({1000});
  op o("Slice", 1, 13);
  REQUIRE(o.run({&x, &starts, &ends}));
  CHECK(values<float>(o.out[0]) == std::vector<float>{2, 3, 4});
}

TEST_CASE("Slice on a negative axis of a 2-D tensor") {
  auto x = make<float>({2, 3}, iota_f(6));
  auto starts = i64s({1}), ends = i64s({3}), axes = i64s({-1});
  op o("Slice", 1, 13);
  REQUIRE(o.run({&x, &starts, &ends, &axes}));
  CHECK(o.out[0].shape() == shape_t{2, 2});
  CHECK(values<float>(o.out[0]) == std::vector<float>{1, 2, 4, 5});
}

TEST_CASE("Slice with start past end gives an empty axis") {
  auto x = make<float>({4}, iota_f(4));
  auto starts = i64s({3}), ends = i64s({1});
  op o("Slice", 1, 13);
  REQUIRE(o.run({&x, &starts, &ends}));
  CHECK(o.out[0].shape() == shape_t{0});
}

TEST_CASE("Slice before opset 10 reads the attributes") {
  auto x = make<float>({2, 3}, iota_f(6));
  op o("Slice", 1, 9);
  o.attr("starts", ints_attr({1, 0})).attr("ends", ints_attr({2, 2}));
  REQUIRE(o.run({&x}));
  CHECK(o.out[0].shape() == shape_t{1, 2});
  CHECK(values<float>(o.out[0]) == std::vector<float>{3, 4});
}

TEST_CASE("Slice rejects a zero step") {
  auto x = make<float>({4}, iota_f(4));
  auto starts = i64s({0}), ends = i64s({4}), axes = i64s({0}), steps = i64s({0});
  op o("Slice", 1, 13);
  CHECK(mentions(o.run({&x, &starts, &ends, &axes, &steps}), {"step"}));
}

// ---------------------------------------------------------------- Pad

TEST_CASE("Pad in constant mode uses the constant_value input") {
  auto x = make<float>({2, 2}, {1, 2, 3, 4});
  auto pads = i64s({0, 1, 0, 0});
  auto value = make<float>({}, {9});
  op o("Pad", 1, 13);
  REQUIRE(o.run({&x, &pads, &value}));
  CHECK(o.out[0].shape() == shape_t{2, 3});
  CHECK(values<float>(o.out[0]) == std::vector<float>{9, 1, 2, 9, 3, 4});
}

TEST_CASE("Pad in reflect mode mirrors without repeating the edge") {
  auto x = make<std::int32_t>({3}, {1, 2, 3});
  auto pads = i64s({2, 2});
  op o("Pad", 1, 13);
  o.attr("mode", string_attr("reflect"));
  REQUIRE(o.run({&x, &pads}));
  CHECK(values<std::int32_t>(o.out[0]) == std::vector<std::int32_t>{3, 2, 1, 2, 3, 2, 1});
}

TEST_CASE("Pad in edge mode repeats the border element") {
  auto x = make<float>({3}, {1, 2, 3});
  auto pads = i64s({1, 2});
  op o("Pad", 1, 13);
  o.attr("mode", string_attr("edge"));
  REQUIRE(o.run({&x, &pads}));
  CHECK(values<float>(o.out[0]) == std::vector<float>{1, 1, 2, 3, 3, 3});
}

TEST_CASE("Pad with a negative pad crops") {
  auto x = make<float>({4}, {1, 2, 3, 4});
  auto pads = i64s({-1, 1});
  op o("Pad", 1, 13);
  REQUIRE(o.run({&x, &pads}));
  CHECK(values<float>(o.out[0]) == std::vector<float>{2, 3, 4, 0});
}

TEST_CASE("Pad before opset 11 reads pads and value attributes") {
  auto x = make<float>({1, 2}, {1, 2});
  op o("Pad", 1, 2);
  o.attr("pads", ints_attr({1, 0, 0, 1})).attr("value", float_attr(-1));
  REQUIRE(o.run({&x}));
  CHECK(o.out[0].shape() == shape_t{2, 3});
  CHECK(values<float>(o.out[0]) == std::vector<float>{-1, -1, -1, 1, 2, -1});
}

TEST_CASE("Pad from opset 18 pads only the given axes") {
  auto x = make<float>({2, 2}, {1, 2, 3, 4});
  auto pads = i64s({1, 0});
  auto axes = i64s({-1});
  op o("Pad", 1, 18);
  REQUIRE(o.run({&x, &pads, nullptr, &axes}));
  CHECK(o.out[0].shape() == shape_t{2, 3});
  CHECK(values<float>(o.out[0]) == std::vector<float>{0, 1, 2, 0, 3, 4});
}

TEST_CASE("Pad in wrap mode continues from the opposite side") {
  auto x = make<float>({3}, {1, 2, 3});
  auto pads = i64s({2, 1});
  op o("Pad", 1, 19);
  o.attr("mode", string_attr("wrap"));
  REQUIRE(o.run({&x, &pads}));
  CHECK(values<float>(o.out[0]) == std::vector<float>{2, 3, 1, 2, 3, 1});
}

TEST_CASE("Pad rejects cropping below size 0") {
  tensor x(dtype::f32, {2});
  auto pads = i64s({-2, -1});
  op o("Pad", 1, 13);
  CHECK(mentions(o.run({&x, &pads}), {"[-2, -1]", "below size 0"}));
}

TEST_CASE("Pad rejects pads of the wrong length") {
  tensor x(dtype::f32, {2, 2});
  auto pads = i64s({1, 1});
  op o("Pad", 1, 13);
  CHECK(mentions(o.run({&x, &pads}), {"[1, 1]", "[2, 2]"}));
}

// ---------------------------------------------------------------- Tile, Expand

TEST_CASE("Tile repeats along each axis") {
  auto x = make<float>({2, 2}, {1, 2, 3, 4});
  auto wide = i64s({1, 2});
  op a("Tile");
  REQUIRE(a.run({&x, &wide}));
  CHECK(a.out[0].shape() == shape_t{2, 4});
  CHECK(values<float>(a.out[0]) == std::vector<float>{1, 2, 1, 2, 3, 4, 3, 4});
  auto tall = i64s({2, 1});
  op b("Tile");
  REQUIRE(b.run({&x, &tall}));
  CHECK(values<float>(b.out[0]) == std::vector<float>{1, 2, 3, 4, 1, 2, 3, 4});
}

TEST_CASE("Tile with a zero repeat gives an empty tensor") {
  auto x = make<float>({2}, {1, 2});
  auto repeats = i64s({0});
  op o("Tile");
  REQUIRE(o.run({&x, &repeats}));
  CHECK(o.out[0].shape() == shape_t{0});
}

TEST_CASE("Tile rejects repeats whose output size overflows") {
  tensor x(dtype::f32, {2, 3});
  auto repeats = i64s({std::numeric_limits<std::int64_t>::max(), 1});
  op o("Tile");
  CHECK(o.run({&x, &repeats}).code() == errc::invalid_argument);
}

TEST_CASE("Tile rejects repeats of the wrong length") {
  tensor x(dtype::f32, {2, 2});
  auto repeats = i64s({2});
  op o("Tile");
  CHECK(mentions(o.run({&x, &repeats}), {"[2]", "[2, 2]"}));
}

TEST_CASE("Expand broadcasts in both directions") {
  auto x = make<float>({3, 1}, {1, 2, 3});
  auto shape = i64s({2, 1, 2});
  op o("Expand");
  REQUIRE(o.run({&x, &shape}));
  CHECK(o.out[0].shape() == shape_t{2, 3, 2});
  CHECK(values<float>(o.out[0]) == std::vector<float>{1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3});
  auto small = i64s({1});
  op keep("Expand");
  REQUIRE(keep.run({&x, &small}));
  CHECK(keep.out[0].shape() == shape_t{3, 1});
}

TEST_CASE("Expand rejects incompatible shapes naming both") {
  tensor x(dtype::f32, {3});
  auto shape = i64s({2});
  op o("Expand");
  CHECK(mentions(o.run({&x, &shape}), {"[3]", "[2]"}));
}
