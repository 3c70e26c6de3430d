// Resize and Upsample reference kernels: every coordinate transformation, nearest mode and
// interpolation mode on small hand-computed cases.
#include <doctest/doctest.h>

#include "engine_k2_harness.hpp"

using namespace k2;

using ints = std::vector<std::int64_t>;

namespace {

tensor sizes(ints v) {
  const auto n = static_cast<std::int64_t>(v.size());
  return make<std::int64_t>({n}, std::move(v));
}
tensor scales(std::vector<float> v) {
  const auto n = static_cast<std::int64_t>(v.size());
  return f32({n}, std::move(v));
}
tensor line() { return f32({4}, {10, 20, 30, 40}); }

// Resize at opset 13 of `x` to `out` (sizes) with the given attributes applied by `configure`.
template <class F>
tensor resize_to(tensor x, ints out, F configure) {
  op o("Resize", 13);
  o.in(std::move(x)).none().none().in(sizes(std::move(out)));
  configure(o);
  return o.out();
}

}  // namespace

TEST_CASE("Resize nearest doubles a 2x2 image by repeating pixels") {
  auto y = op("Resize", 13)
               .in(f32({1, 1, 2, 2}, {1, 2, 3, 4}))
               .none()
               .in(scales({1, 1, 2, 2}))
               .attr("coordinate_transformation_mode", "asymmetric")
               .out();
  CHECK(y.shape() == shape_t{1, 1, 4, 4});
  check_close(y, {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4});
}

TEST_CASE("Resize nearest modes floor, ceil and the two round modes") {
  auto with = [](const char* mode) {
    return [mode](op& o) {
      o.attr("mode", "nearest").attr("coordinate_transformation_mode", "asymmetric").attr("nearest_mode", mode);
    };
  };
  // Downscale 4 -> 3: x_in = x / 0.75 = 0, 1.33, 2.67.
  check_close(resize_to(line(), {3}, with("floor")), {10, 20, 30});
  check_close(resize_to(line(), {3}, with("ceil")), {10, 30, 40});
  check_close(resize_to(line(), {3}, with("round_prefer_floor")), {10, 20, 40});
  // Upscale 4 -> 8: x_in = x / 2 has exact halves.
  check_close(resize_to(line(), {8}, with("round_prefer_floor")), {10, 10, 20, 20, 30, 30, 40, 40});
  check_close(resize_to(line(), {8}, with("round_prefer_ceil")), {10, 20, 20, 30, 30, 40, 40, 40});
}

TEST_CASE("Resize nearest with tf_half_pixel_for_nn shifts by half a pixel") {
  // x_in = (x + 0.5) / 2 = 0.25, 0.75, 1.25, ...: round_prefer_floor -> 0, 1, 1, 2, 2, 3, 3, 4 -> clamped 3.
  auto y = resize_to(line(), {8}, [](op& o) { o.attr("coordinate_transformation_mode", "tf_half_pixel_for_nn"); });
  check_close(y, {10, 20, 20, 30, 30, 40, 40, 40});
}

TEST_CASE("Resize nearest copies any element type") {
  auto y = op("Resize", 13)
               .in(make<std::int64_t>({2}, {7, -9}))
               .none()
               .in(scales({2}))
               .attr("coordinate_transformation_mode", "asymmetric")
               .out();
  REQUIRE(y.type() == dtype::i64);
  CHECK(values<std::int64_t>(y) == ints{7, 7, -9, -9});
}

TEST_CASE("Resize linear half_pixel clamps at the edges") {
  auto y = resize_to(f32({4}, {0, 10, 20, 30}), {8}, [](op& o) { o.attr("mode", "linear"); });
  check_close(y, {0, 2.5, 7.5, 12.5, 17.5, 22.5, 27.5, 30});
}

TEST_CASE("Resize bilinear align_corners keeps the corner pixels") {
  auto y = resize_to(f32({2, 2}, {0, 1, 2, 3}), {3, 3},
                     [](op& o) { o.attr("mode", "linear").attr("coordinate_transformation_mode", "align_corners"); });
  check_close(y, {0, 0.5, 1, 1, 1.5, 2, 2, 2.5, 3});
}

TEST_CASE("Resize align_corners with scales uses the unrounded resized length") {
  // 4 * 0.6 = 2.4: x_in = x * 3 / 1.4; output 2 elements: 0 and 2.142857.
  auto y = op("Resize", 13)
               .in(f32({4}, {0, 1, 2, 3}))
               .none()
               .in(scales({0.6f}))
               .attr("mode", "linear")
               .attr("coordinate_transformation_mode", "align_corners")
               .out();
  check_close(y, {0, 3.0 / 1.4}, 1e-4);
}

TEST_CASE("Resize pytorch_half_pixel maps a length-1 output to the first input") {
  auto pytorch = resize_to(f32({4}, {0, 10, 20, 30}), {1},
                           [](op& o) { o.attr("mode", "linear").attr("coordinate_transformation_mode", "pytorch_half_pixel"); });
  check_close(pytorch, {0});
  auto half = resize_to(f32({4}, {0, 10, 20, 30}), {1}, [](op& o) { o.attr("mode", "linear"); });
  check_close(half, {15});
}

TEST_CASE("Resize cubic interpolates with coefficient a") {
  // Asymmetric x2 on [0, 0, 1, 0, 0]: x_in = 1.5 and 2.5 see the 1 at distance 0.5.
  // W(0.5) = (a + 2) / 8 - (a + 3) / 4 + 1 = 0.59375 for a = -0.75; W(1.5) = a / 8 = -0.09375.
  auto y = op("Resize", 13)
               .in(f32({5}, {0, 0, 1, 0, 0}))
               .none()
               .in(scales({2}))
               .attr("mode", "cubic")
               .attr("coordinate_transformation_mode", "asymmetric")
               .out();
  REQUIRE(y.elements() == 10);
  CHECK(y.data<float>()[3] == doctest::Approx(0.59375));
  CHECK(y.data<float>()[4] == doctest::Approx(1.0));
  CHECK(y.data<float>()[5] == doctest::Approx(0.59375));
  // x_in = 0.5 sees the 1 at distance 1.5; x_in = 1 sees it at distance 1 (weight 0).
  CHECK(y.data<float>()[1] == doctest::Approx(-0.09375));
  CHECK(y.data<float>()[2] == doctest::Approx(0.0));
}

TEST_CASE("Resize cubic_coeff_a changes the kernel") {
  auto y = op("Resize", 13)
               .in(f32({5}, {0, 0, 1, 0, 0}))
               .none()
               .in(scales({2}))
               .attr("mode", "cubic")
               .attr("cubic_coeff_a", -0.5f)
               .attr("coordinate_transformation_mode", "asymmetric")
               .out();
  CHECK(y.data<float>()[3] == doctest::Approx(0.5625));  // (1.5) / 8 - 2.5 / 4 + 1
  CHECK(y.data<float>()[1] == doctest::Approx(-0.0625));
}

TEST_CASE("Resize cubic exclude_outside renormalises the weights inside the input") {
  auto x = f32({3}, {1, 0, 0});
  auto clamp = op("Resize", 13).in(x).none().in(scales({2})).attr("mode", "cubic")
                   .attr("coordinate_transformation_mode", "asymmetric").out();
  // x_in = 0.5: taps -1 (clamped to 0, value 1), 0, 1, 2.
  CHECK(clamp.data<float>()[1] == doctest::Approx(0.5));
  auto exclude = op("Resize", 13).in(x).none().in(scales({2})).attr("mode", "cubic")
                     .attr("coordinate_transformation_mode", "asymmetric").attr("exclude_outside", 1).out();
  CHECK(exclude.data<float>()[1] == doctest::Approx(0.59375 / 1.09375));
}

TEST_CASE("Resize tf_crop_and_resize samples the roi and extrapolates outside") {
  auto inside = op("Resize", 13)
                    .in(f32({4}, {0, 10, 20, 30}))
                    .in(f32({2}, {0.5f, 1.f}))
                    .none()
                    .in(sizes({3}))
                    .attr("mode", "linear")
                    .attr("coordinate_transformation_mode", "tf_crop_and_resize")
                    .out();
  check_close(inside, {15, 22.5, 30});
  auto outside = op("Resize", 13)
                     .in(f32({4}, {0, 10, 20, 30}))
                     .in(f32({2}, {0.5f, 1.5f}))
                     .none()
                     .in(sizes({3}))
                     .attr("mode", "linear")
                     .attr("coordinate_transformation_mode", "tf_crop_and_resize")
                     .attr("extrapolation_value", 7.f)
                     .out();
  check_close(outside, {15, 30, 7});
}

TEST_CASE("Resize linear on uint8 rounds to nearest") {
  auto y = op("Resize", 13)
               .in(make<std::uint8_t>({2}, {0, 255}))
               .none()
               .in(scales({2}))
               .attr("mode", "linear")
               .attr("coordinate_transformation_mode", "asymmetric")
               .out();
  REQUIRE(y.type() == dtype::u8);
  CHECK(values<std::uint8_t>(y) == std::vector<std::uint8_t>{0, 128, 255, 255});
}

TEST_CASE("Resize with axes resizes only the listed axes") {
  auto y = op("Resize", 18)
               .in(f32({1, 1, 2, 2}, {1, 2, 3, 4}))
               .none()
               .none()
               .in(sizes({4, 2}))
               .attr("axes", ints{2, -1})
               .out();
  CHECK(y.shape() == shape_t{1, 1, 4, 2});
}

TEST_CASE("Resize keep_aspect_ratio_policy not_larger fits inside the requested size") {
  auto y = op("Resize", 18)
               .in(iota({1, 1, 2, 4}))
               .none()
               .none()
               .in(sizes({4, 4}))
               .attr("axes", ints{2, 3})
               .attr("keep_aspect_ratio_policy", "not_larger")
               .out();
  CHECK(y.shape() == shape_t{1, 1, 2, 4});
  auto larger = op("Resize", 18)
                    .in(iota({1, 1, 2, 4}))
                    .none()
                    .none()
                    .in(sizes({4, 4}))
                    .attr("axes", ints{2, 3})
                    .attr("keep_aspect_ratio_policy", "not_smaller")
                    .out();
  CHECK(larger.shape() == shape_t{1, 1, 4, 8});
}

TEST_CASE("Resize antialias keeps a constant image constant when downscaling") {
  auto y = op("Resize", 18)
               .in(f32({8}, std::vector<float>(8, 3.f)))
               .none()
               .in(scales({0.25f}))
               .attr("mode", "linear")
               .attr("antialias", 1)
               .out();
  check_close(y, {3, 3});
}

TEST_CASE("Resize at opset 10 takes scales as its second input") {
  auto y = op("Resize", 10).in(f32({1, 1, 1, 2}, {1, 2})).in(scales({1, 1, 1, 2})).out();
  check_close(y, {1, 1, 2, 2});
}

TEST_CASE("Resize at opset 11 accepts empty roi and scales tensors") {
  auto y = op("Resize", 11)
               .in(f32({2}, {1, 2}))
               .in(f32({0}, {}))
               .in(f32({0}, {}))
               .in(sizes({4}))
               .attr("coordinate_transformation_mode", "asymmetric")
               .out();
  check_close(y, {1, 1, 2, 2});
}

TEST_CASE("Resize rejects both or neither of scales and sizes") {
  CHECK(op("Resize", 13).in(line()).none().in(scales({2})).in(sizes({8})).error() == errc::invalid_argument);
  CHECK(op("Resize", 13).in(line()).error() == errc::invalid_argument);
}

TEST_CASE("Resize rejects scales of the wrong length, non-positive scales and unknown modes") {
  CHECK(op("Resize", 13).in(line()).none().in(scales({2, 2})).error() == errc::invalid_argument);
  CHECK(op("Resize", 13).in(line()).none().in(scales({0})).error() == errc::invalid_argument);
  CHECK(op("Resize", 13).in(line()).none().in(scales({2})).attr("mode", "area").error() == errc::invalid_argument);
  CHECK(op("Resize", 13).in(line()).none().in(scales({2})).attr("coordinate_transformation_mode", "x").error() ==
        errc::invalid_argument);
}

TEST_CASE("Upsample opset 9 nearest takes scales as an input") {
  auto y = op("Upsample", 9).in(f32({1, 1, 2, 2}, {1, 2, 3, 4})).in(scales({1, 1, 2, 3})).out();
  CHECK(y.shape() == shape_t{1, 1, 4, 6});
  check_close(y, {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4});
}

TEST_CASE("Upsample opset 7 reads the scales attribute and interpolates linearly") {
  auto y = op("Upsample", 7).in(f32({2}, {0, 10})).attr("scales", std::vector<float>{2.f}).attr("mode", "linear").out();
  check_close(y, {0, 5, 10, 10});
}

TEST_CASE("Resize of an empty batch keeps it empty") {
  auto y = op("Resize", 13).in(f32({0, 1, 2, 2}, {})).none().in(scales({1, 1, 2, 2})).attr("mode", "linear").out();
  CHECK(y.shape() == shape_t{0, 1, 4, 4});
}
