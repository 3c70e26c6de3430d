// Pooling reference kernels: MaxPool (with Indices), AveragePool, LpPool, the Global*
// forms and MaxUnpool, with hand-computed values.
#include <doctest/doctest.h>

#include <cmath>

#include "engine_k2_harness.hpp"

using namespace k2;

using ints = std::vector<std::int64_t>;

TEST_CASE("MaxPool 2x2 stride 2 picks each block's maximum") {
  auto y = op("MaxPool").in(iota({1, 1, 4, 4})).attr("kernel_shape", ints{2, 2}).attr("strides", ints{2, 2}).out();
  CHECK(y.shape() == shape_t{1, 1, 2, 2});
  check_close(y, {5, 7, 13, 15});
}

TEST_CASE("MaxPool Indices are flat row-major indices including the channel offset") {
  auto r = op("MaxPool", 12)
               .in(f32({1, 2, 2, 2}, {1, 4, 3, 2, 8, 5, 6, 7}))
               .attr("kernel_shape", ints{2, 2})
               .outputs({"y", "i"})
               .run();
  REQUIRE(r.ok());
  check_close(r->at(0), {4, 8});
  CHECK(values<std::int64_t>(r->at(1)) == ints{1, 4});
}

TEST_CASE("MaxPool storage_order 1 reports column-major spatial indices") {
  auto r = op("MaxPool", 12)
               .in(iota({1, 1, 4, 4}))
               .attr("kernel_shape", ints{2, 2})
               .attr("strides", ints{2, 2})
               .attr("storage_order", 1)
               .outputs({"y", "i"})
               .run();
  REQUIRE(r.ok());
  // Maxima at (1,1), (1,3), (3,1), (3,3): column-major h + w * 4.
  CHECK(values<std::int64_t>(r->at(1)) == ints{5, 13, 7, 15});
}

TEST_CASE("MaxPool padding never wins over negative inputs") {
  auto y = op("MaxPool")
               .in(f32({1, 1, 2, 2}, {-1, -2, -3, -4}))
               .attr("kernel_shape", ints{2, 2})
               .attr("pads", ints{1, 1, 1, 1})
               .out();
  CHECK(y.shape() == shape_t{1, 1, 3, 3});
  check_close(y, {-1, -1, -2, -1, -1, -2, -3, -3, -4});
}

TEST_CASE("MaxPool ceil_mode adds a partial last window") {
  auto floor_y = op("MaxPool", 12).in(f32({1, 1, 5}, {1, 2, 3, 4, 5})).attr("kernel_shape", ints{2}).attr("strides", ints{2}).out();
  check_close(floor_y, {2, 4});
  auto ceil_y = op("MaxPool", 12)
                    .in(f32({1, 1, 5}, {1, 2, 3, 4, 5}))
                    .attr("kernel_shape", ints{2})
                    .attr("strides", ints{2})
                    .attr("ceil_mode", 1)
                    .out();
  check_close(ceil_y, {2, 4, 5});
}

TEST_CASE("MaxPool ceil_mode drops a window that would start in the end padding") {
  auto y = op("MaxPool", 12)
               .in(f32({1, 1, 4}, {1, 2, 3, 4}))
               .attr("kernel_shape", ints{2})
               .attr("strides", ints{2})
               .attr("pads", ints{0, 1})
               .attr("ceil_mode", 1)
               .out();
  CHECK(y.shape() == shape_t{1, 1, 2});
  check_close(y, {2, 4});
}

TEST_CASE("MaxPool dilations skip inputs inside the window") {
  auto y = op("MaxPool", 12)
               .in(f32({1, 1, 5}, {1, 5, 2, 4, 3}))
               .attr("kernel_shape", ints{2})
               .attr("dilations", ints{2})
               .out();
  check_close(y, {2, 5, 3});
}

TEST_CASE("MaxPool on uint8 and int8 keeps the type") {
  auto u = op("MaxPool", 12).in(make<std::uint8_t>({1, 1, 4}, {1, 200, 3, 255})).attr("kernel_shape", ints{2}).out();
  REQUIRE(u.type() == dtype::u8);
  CHECK(values<std::uint8_t>(u) == std::vector<std::uint8_t>{200, 200, 255});
  auto s = op("MaxPool", 12).in(make<std::int8_t>({1, 1, 3}, {-128, -100, -120})).attr("kernel_shape", ints{2}).out();
  CHECK(values<std::int8_t>(s) == std::vector<std::int8_t>{-100, -100});
}

TEST_CASE("MaxPool on float16 returns float16") {
  tensor x(dtype::f16, {1, 1, 3});
  for (int i = 0; i < 3; ++i) x.data<std::uint16_t>()[i] = float_to_half(float(i) * 0.5f);
  auto y = op("MaxPool").in(x).attr("kernel_shape", ints{2}).out();
  REQUIRE(y.type() == dtype::f16);
  CHECK(half_to_float(y.data<std::uint16_t>()[1]) == 1.0f);
}

TEST_CASE("MaxPool 3-D") {
  auto y = op("MaxPool").in(iota({1, 1, 2, 2, 2})).attr("kernel_shape", ints{2, 2, 1}).out();
  CHECK(y.shape() == shape_t{1, 1, 1, 1, 2});
  check_close(y, {6, 7});
}

TEST_CASE("AveragePool without count_include_pad divides by the real inputs only") {
  auto y = op("AveragePool")
               .in(f32({1, 1, 2, 2}, {1, 2, 3, 4}))
               .attr("kernel_shape", ints{2, 2})
               .attr("pads", ints{1, 1, 1, 1})
               .out();
  check_close(y, {1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4});
}

TEST_CASE("AveragePool with count_include_pad divides by the whole window") {
  auto y = op("AveragePool")
               .in(f32({1, 1, 2, 2}, {1, 2, 3, 4}))
               .attr("kernel_shape", ints{2, 2})
               .attr("pads", ints{1, 1, 1, 1})
               .attr("count_include_pad", 1)
               .out();
  check_close(y, {0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1});
}

TEST_CASE("AveragePool ceil_mode averages the partial last window over its inputs") {
  auto y = op("AveragePool", 12)
               .in(f32({1, 1, 5}, {1, 2, 3, 4, 5}))
               .attr("kernel_shape", ints{2})
               .attr("strides", ints{2})
               .attr("ceil_mode", 1)
               .out();
  check_close(y, {1.5, 3.5, 5});
}

TEST_CASE("AveragePool auto_pad SAME_UPPER and SAME_LOWER place the odd pad differently") {
  auto upper = op("AveragePool").in(f32({1, 1, 4}, {1, 2, 3, 4})).attr("kernel_shape", ints{2}).attr("auto_pad", "SAME_UPPER").out();
  check_close(upper, {1.5, 2.5, 3.5, 4});
  auto lower = op("AveragePool").in(f32({1, 1, 4}, {1, 2, 3, 4})).attr("kernel_shape", ints{2}).attr("auto_pad", "SAME_LOWER").out();
  check_close(lower, {1, 1.5, 2.5, 3.5});
  auto odd = op("AveragePool").in(f32({1, 1, 4}, {1, 2, 3, 4})).attr("kernel_shape", ints{3}).attr("auto_pad", "SAME_UPPER").out();
  check_close(odd, {1.5, 2, 3, 3.5});
}

TEST_CASE("AveragePool with dilations (opset 19)") {
  auto y = op("AveragePool", 19)
               .in(f32({1, 1, 5}, {1, 5, 2, 4, 3}))
               .attr("kernel_shape", ints{2})
               .attr("dilations", ints{2})
               .out();
  check_close(y, {1.5, 4.5, 2.5});
}

TEST_CASE("AveragePool on double") {
  auto y = op("AveragePool").in(make<double>({1, 1, 3}, {1, 2, 4})).attr("kernel_shape", ints{3}).out();
  REQUIRE(y.type() == dtype::f64);
  CHECK(values<double>(y)[0] == doctest::Approx(7.0 / 3.0));
}

TEST_CASE("AveragePool of int32 is unsupported") {
  CHECK(op("AveragePool").in(make<std::int32_t>({1, 1, 2}, {1, 2})).attr("kernel_shape", ints{2}).error() ==
        errc::not_implemented);
}

TEST_CASE("GlobalAveragePool and GlobalMaxPool reduce every spatial axis to 1") {
  auto x = f32({1, 2, 2, 2}, {1, 2, 3, 4, -1, -5, -3, -2});
  auto avg = op("GlobalAveragePool").in(x).out();
  CHECK(avg.shape() == shape_t{1, 2, 1, 1});
  check_close(avg, {2.5, -2.75});
  auto mx = op("GlobalMaxPool").in(x).out();
  check_close(mx, {4, -1});
}

TEST_CASE("LpPool with p 2 computes the window's Euclidean norm") {
  auto y = op("LpPool").in(f32({1, 1, 3}, {3, -4, 12})).attr("kernel_shape", ints{2}).attr("p", 2).out();
  check_close(y, {5, std::sqrt(160.0)});
}

TEST_CASE("LpPool version 1 reads p as a float attribute") {
  auto y = op("LpPool", 1).in(f32({1, 1, 2}, {1, -2})).attr("kernel_shape", ints{2}).attr("p", 1.0f).out();
  check_close(y, {3});
}

TEST_CASE("GlobalLpPool with p 1 sums absolute values") {
  auto y = op("GlobalLpPool").in(f32({1, 1, 2, 2}, {1, -2, 3, -4})).attr("p", 1).out();
  check_close(y, {10});
}

TEST_CASE("MaxUnpool puts values back at MaxPool's indices") {
  auto pooled = op("MaxPool", 12)
                    .in(f32({1, 1, 2, 4}, {1, 9, 2, 3, 4, 5, 8, 7}))
                    .attr("kernel_shape", ints{2, 2})
                    .attr("strides", ints{2, 2})
                    .outputs({"y", "i"})
                    .run();
  REQUIRE(pooled.ok());
  auto y = op("MaxUnpool", 11)
               .in(pooled->at(0))
               .in(pooled->at(1))
               .attr("kernel_shape", ints{2, 2})
               .attr("strides", ints{2, 2})
               .out();
  CHECK(y.shape() == shape_t{1, 1, 2, 4});
  check_close(y, {0, 9, 0, 0, 0, 0, 8, 0});
}

TEST_CASE("MaxUnpool with a larger output_shape keeps each value's coordinates") {
  auto y = op("MaxUnpool", 11)
               .in(f32({1, 1, 1, 1}, {7}))
               .in(make<std::int64_t>({1, 1, 1, 1}, {3}))  // (1, 1) in the inferred 2x2 output
               .in(make<std::int64_t>({4}, {1, 1, 3, 3}))
               .attr("kernel_shape", ints{2, 2})
               .attr("strides", ints{2, 2})
               .out();
  CHECK(y.shape() == shape_t{1, 1, 3, 3});
  check_close(y, {0, 0, 0, 0, 7, 0, 0, 0, 0});
}

TEST_CASE("pooling without kernel_shape fails") {
  CHECK(op("MaxPool").in(iota({1, 1, 2, 2})).error() == errc::invalid_argument);
}

TEST_CASE("pooling a rank-2 input fails") {
  CHECK(op("AveragePool").in(iota({2, 2})).attr("kernel_shape", ints{2}).error() == errc::invalid_argument);
}

TEST_CASE("pooling with pads of the wrong length fails") {
  CHECK(op("MaxPool").in(iota({1, 1, 4, 4})).attr("kernel_shape", ints{2, 2}).attr("pads", ints{1, 1}).error() ==
        errc::invalid_argument);
}

TEST_CASE("MaxPool over an empty batch yields an empty output") {
  auto y = op("MaxPool").in(f32({0, 3, 4, 4}, {})).attr("kernel_shape", ints{2, 2}).out();
  CHECK(y.shape() == shape_t{0, 3, 3, 3});
}
