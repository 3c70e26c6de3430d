// Conv and ConvTranspose reference kernels: hand-computed cases for every attribute, and
// randomised comparisons with a direct (naive) convolution to exercise the blocked GEMM.
#include <doctest/doctest.h>

#include <random>

#include "engine_k2_harness.hpp"

using namespace k2;

namespace {

// Direct convolution in double over 2-D images, the oracle for the randomised cases.
std::vector<double> naive_conv2d(const tensor& x, const tensor& w, std::int64_t group, std::vector<std::int64_t> s,
                                 std::vector<std::int64_t> d, std::vector<std::int64_t> p, std::int64_t oh,
                                 std::int64_t ow) {
  const auto N = x.shape()[0], C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const auto M = w.shape()[0], Cg = w.shape()[1], KH = w.shape()[2], KW = w.shape()[3];
  const auto Mg = M / group;
  std::vector<double> y(static_cast<std::size_t>(N * M * oh * ow), 0.0);
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t m = 0; m < M; ++m)
      for (std::int64_t i = 0; i < oh; ++i)
        for (std::int64_t j = 0; j < ow; ++j) {
          double acc = 0;
          for (std::int64_t c = 0; c < Cg; ++c)
            for (std::int64_t ki = 0; ki < KH; ++ki)
              for (std::int64_t kj = 0; kj < KW; ++kj) {
                auto r = i * s[0] + ki * d[0] - p[0], q = j * s[1] + kj * d[1] - p[1];
                if (r < 0 || r >= H || q < 0 || q >= W) continue;
                auto ci = (m / Mg) * Cg + c;
                acc += double(x.data<float>()[((n * C + ci) * H + r) * W + q]) *
                       w.data<float>()[((m * Cg + c) * KH + ki) * KW + kj];
              }
          y[((n * M + m) * oh + i) * ow + j] = acc;
        }
  return y;
}

tensor random_tensor(shape_t shape, std::mt19937& gen) {
  std::uniform_real_distribution<float> dist(-1.f, 1.f);
  tensor t(dtype::f32, std::move(shape));
  for (std::int64_t i = 0; i < t.elements(); ++i) t.data<float>()[i] = dist(gen);
  return t;
}

}  // namespace

TEST_CASE("Conv 2-D without padding sums each 2x2 window") {
  auto y = op("Conv").in(iota({1, 1, 3, 3})).in(f32({1, 1, 2, 2}, {1, 1, 1, 1})).out();
  CHECK(y.shape() == shape_t{1, 1, 2, 2});
  check_close(y, {8, 12, 20, 24});
}

TEST_CASE("Conv with padding 1 and stride 2 reads zeros outside the image") {
  auto y = op("Conv")
               .in(iota({1, 1, 4, 4}))
               .in(f32({1, 1, 3, 3}, std::vector<float>(9, 1.f)))
               .attr("pads", std::vector<std::int64_t>{1, 1, 1, 1})
               .attr("strides", std::vector<std::int64_t>{2, 2})
               .out();
  CHECK(y.shape() == shape_t{1, 1, 2, 2});
  check_close(y, {10, 24, 51, 90});
}

TEST_CASE("Conv with dilations 2 spreads the kernel taps") {
  auto y = op("Conv")
               .in(iota({1, 1, 5, 5}))
               .in(f32({1, 1, 2, 2}, {1, 1, 1, 1}))
               .attr("dilations", std::vector<std::int64_t>{2, 2})
               .out();
  CHECK(y.shape() == shape_t{1, 1, 3, 3});
  check_close(y, {24, 28, 32, 44, 48, 52, 64, 68, 72});
}

TEST_CASE("depthwise Conv (group = channels) keeps channels apart and adds the bias") {
  auto y = op("Conv")
               .in(f32({1, 2, 2, 2}, {1, 2, 3, 4, 10, 20, 30, 40}))
               .in(f32({2, 1, 2, 2}, {1, 1, 1, 1, 1, 0, 0, -1}))
               .in(f32({2}, {0.5f, -1.f}))
               .attr("group", 2)
               .out();
  CHECK(y.shape() == shape_t{1, 2, 1, 1});
  check_close(y, {10.5, -31});
}

TEST_CASE("grouped Conv with two output channels per group uses only its group's inputs") {
  auto y = op("Conv")
               .in(f32({1, 4, 1, 1}, {1, 2, 3, 4}))
               .in(f32({4, 2, 1, 1}, {1, 0, 0, 1, 1, 1, 1, -1}))
               .attr("group", 2)
               .out();
  CHECK(y.shape() == shape_t{1, 4, 1, 1});
  check_close(y, {1, 2, 7, -1});
}

TEST_CASE("Conv auto_pad SAME_UPPER puts the odd padding at the end") {
  auto y = op("Conv")
               .in(f32({1, 1, 5}, {1, 2, 3, 4, 5}))
               .in(f32({1, 1, 2}, {1, 1}))
               .attr("strides", std::vector<std::int64_t>{2})
               .attr("auto_pad", "SAME_UPPER")
               .out();
  CHECK(y.shape() == shape_t{1, 1, 3});
  check_close(y, {3, 7, 5});
}

TEST_CASE("Conv auto_pad SAME_LOWER puts the odd padding at the start") {
  auto y = op("Conv")
               .in(f32({1, 1, 5}, {1, 2, 3, 4, 5}))
               .in(f32({1, 1, 2}, {1, 1}))
               .attr("strides", std::vector<std::int64_t>{2})
               .attr("auto_pad", "SAME_LOWER")
               .out();
  check_close(y, {1, 5, 9});
}

TEST_CASE("Conv auto_pad VALID ignores the pads attribute") {
  auto y = op("Conv")
               .in(f32({1, 1, 5}, {1, 2, 3, 4, 5}))
               .in(f32({1, 1, 3}, {1, 1, 1}))
               .attr("strides", std::vector<std::int64_t>{2})
               .attr("pads", std::vector<std::int64_t>{3, 3})
               .attr("auto_pad", "VALID")
               .out();
  check_close(y, {6, 12});
}

TEST_CASE("Conv 3-D sums a 2x2x2 cube") {
  auto y = op("Conv").in(iota({1, 1, 2, 2, 2}, 1.f)).in(f32({1, 1, 2, 2, 2}, std::vector<float>(8, 1.f))).out();
  CHECK(y.shape() == shape_t{1, 1, 1, 1, 1});
  check_close(y, {36});
}

TEST_CASE("Conv 1-D over a batch of two with two output channels and bias") {
  auto y = op("Conv")
               .in(f32({2, 1, 3}, {1, 2, 3, 4, 5, 6}))
               .in(f32({2, 1, 2}, {1, -1, 2, 0}))
               .in(f32({2}, {0, 1}))
               .out();
  CHECK(y.shape() == shape_t{2, 2, 2});
  check_close(y, {-1, -1, 3, 5, -1, -1, 9, 11});
}

TEST_CASE("Conv on double tensors") {
  auto y = op("Conv").in(make<double>({1, 1, 1, 3}, {1, 2, 3})).in(make<double>({1, 1, 1, 2}, {0.5, 0.25})).out();
  REQUIRE(y.type() == dtype::f64);
  CHECK(values<double>(y) == std::vector<double>{1.0, 1.75});
}

TEST_CASE("Conv on float16 tensors returns float16") {
  tensor x(dtype::f16, {1, 1, 1, 2}), w(dtype::f16, {1, 1, 1, 1});
  x.data<std::uint16_t>()[0] = float_to_half(1.5f);
  x.data<std::uint16_t>()[1] = float_to_half(-2.f);
  w.data<std::uint16_t>()[0] = float_to_half(2.f);
  auto y = op("Conv").in(x).in(w).out();
  REQUIRE(y.type() == dtype::f16);
  CHECK(half_to_float(y.data<std::uint16_t>()[0]) == 3.f);
  CHECK(half_to_float(y.data<std::uint16_t>()[1]) == -4.f);
}

TEST_CASE("Conv matches a direct convolution on random data with every attribute set") {
  std::mt19937 gen(7);
  for (std::int64_t group : {1, 3}) {
    auto x = random_tensor({2, 6, 9, 11}, gen);
    auto w = random_tensor({9, 6 / group, 3, 2}, gen);
    // Output: H (9 + 1 + 2 - 3) / 2 + 1 = 5, W (11 + 0 + 1 - ((2 - 1) * 2 + 1)) / 1 + 1 = 10.
    auto y = op("Conv")
                 .in(x)
                 .in(w)
                 .attr("group", group)
                 .attr("strides", std::vector<std::int64_t>{2, 1})
                 .attr("dilations", std::vector<std::int64_t>{1, 2})
                 .attr("pads", std::vector<std::int64_t>{1, 0, 2, 1})
                 .out();
    REQUIRE(y.shape() == shape_t{2, 9, 5, 10});
    check_close(y, naive_conv2d(x, w, group, {2, 1}, {1, 2}, {1, 0}, 5, 10), 1e-4);
  }
}

TEST_CASE("depthwise Conv with a channel multiplier matches a direct convolution on random data") {
  std::mt19937 gen(9);
  auto x = random_tensor({2, 4, 9, 8}, gen);
  auto w = random_tensor({8, 1, 3, 3}, gen);  // two output channels per input channel
  auto b = random_tensor({8}, gen);
  // Output: H (9 + 2 + 1 - 5) / 2 + 1 = 4, W (8 + 1 + 1 - 3) / 1 + 1 = 8.
  auto y = op("Conv")
               .in(x)
               .in(w)
               .in(b)
               .attr("group", 4)
               .attr("strides", std::vector<std::int64_t>{2, 1})
               .attr("dilations", std::vector<std::int64_t>{2, 1})
               .attr("pads", std::vector<std::int64_t>{2, 1, 1, 1})
               .out();
  REQUIRE(y.shape() == shape_t{2, 8, 4, 8});
  auto expected = naive_conv2d(x, w, 4, {2, 1}, {2, 1}, {2, 1}, 4, 8);
  for (std::size_t i = 0; i < expected.size(); ++i) expected[i] += b.data<float>()[(i / 32) % 8];
  check_close(y, expected, 1e-4);
}

TEST_CASE("Conv with a long reduction (more than one GEMM depth block) stays accurate") {
  std::mt19937 gen(11);
  auto x = random_tensor({1, 64, 6, 6}, gen);
  auto w = random_tensor({5, 64, 3, 3}, gen);  // depth 576 > one 256-deep block
  auto y = op("Conv").in(x).in(w).attr("pads", std::vector<std::int64_t>{1, 1, 1, 1}).out();
  check_close(y, naive_conv2d(x, w, 1, {1, 1}, {1, 1}, {1, 1}, 6, 6), 1e-4);
}

TEST_CASE("Conv rejects a kernel_shape that contradicts the weights") {
  CHECK(op("Conv")
            .in(iota({1, 1, 3, 3}))
            .in(f32({1, 1, 2, 2}, {1, 1, 1, 1}))
            .attr("kernel_shape", std::vector<std::int64_t>{3, 3})
            .error() == errc::invalid_argument);
}

TEST_CASE("Conv rejects a group that does not divide the channels") {
  CHECK(op("Conv").in(iota({1, 3, 2, 2})).in(iota({2, 1, 1, 1})).attr("group", 2).error() == errc::invalid_argument);
}

TEST_CASE("Conv rejects weights whose channel count is not C over group") {
  CHECK(op("Conv").in(iota({1, 4, 2, 2})).in(iota({2, 3, 1, 1})).error() == errc::invalid_argument);
}

TEST_CASE("Conv rejects a window larger than the padded input") {
  CHECK(op("Conv").in(iota({1, 1, 2, 2})).in(iota({1, 1, 3, 3})).error() == errc::invalid_argument);
}

TEST_CASE("Conv on integer tensors is reported as unsupported") {
  CHECK(op("Conv").in(make<std::int32_t>({1, 1, 1, 1}, {1})).in(make<std::int32_t>({1, 1, 1, 1}, {1})).error() ==
        errc::not_implemented);
}

TEST_CASE("ConvTranspose 1-D with unit stride spreads each input over the kernel") {
  auto y = op("ConvTranspose").in(f32({1, 1, 3}, {1, 2, 3})).in(f32({1, 1, 3}, {1, 1, 1})).out();
  CHECK(y.shape() == shape_t{1, 1, 5});
  check_close(y, {1, 3, 6, 5, 3});
}

TEST_CASE("ConvTranspose with stride 2 overlaps neighbouring kernels") {
  auto y = op("ConvTranspose")
               .in(f32({1, 1, 3}, {1, 2, 3}))
               .in(f32({1, 1, 3}, {1, 1, 1}))
               .attr("strides", std::vector<std::int64_t>{2})
               .out();
  check_close(y, {1, 1, 3, 2, 5, 3, 3});
}

TEST_CASE("ConvTranspose pads crop the full output") {
  auto y = op("ConvTranspose")
               .in(f32({1, 1, 3}, {1, 2, 3}))
               .in(f32({1, 1, 3}, {1, 1, 1}))
               .attr("strides", std::vector<std::int64_t>{2})
               .attr("pads", std::vector<std::int64_t>{1, 1})
               .out();
  check_close(y, {1, 3, 2, 5, 3});
}

TEST_CASE("ConvTranspose output_padding appends zeros at the end") {
  auto y = op("ConvTranspose")
               .in(f32({1, 1, 3}, {1, 2, 3}))
               .in(f32({1, 1, 3}, {1, 1, 1}))
               .attr("strides", std::vector<std::int64_t>{2})
               .attr("output_padding", std::vector<std::int64_t>{1})
               .out();
  check_close(y, {1, 1, 3, 2, 5, 3, 3, 0});
}

TEST_CASE("ConvTranspose output_shape larger than the natural output extends it at the end") {
  auto y = op("ConvTranspose")
               .in(f32({1, 1, 3}, {1, 2, 3}))
               .in(f32({1, 1, 3}, {1, 1, 1}))
               .attr("strides", std::vector<std::int64_t>{2})
               .attr("output_shape", std::vector<std::int64_t>{8})
               .out();
  CHECK(y.shape() == shape_t{1, 1, 8});
  check_close(y, {1, 1, 3, 2, 5, 3, 3, 0});
}

TEST_CASE("ConvTranspose auto_pad SAME_UPPER makes the output input times stride") {
  auto y = op("ConvTranspose")
               .in(f32({1, 1, 3}, {1, 2, 3}))
               .in(f32({1, 1, 3}, {1, 1, 1}))
               .attr("strides", std::vector<std::int64_t>{2})
               .attr("auto_pad", "SAME_UPPER")
               .out();
  CHECK(y.shape() == shape_t{1, 1, 6});
  check_close(y, {1, 1, 3, 2, 5, 3});
}

TEST_CASE("ConvTranspose with dilations interleaves the taps") {
  auto y = op("ConvTranspose")
               .in(f32({1, 1, 2}, {1, 2}))
               .in(f32({1, 1, 2}, {1, 1}))
               .attr("dilations", std::vector<std::int64_t>{2})
               .out();
  check_close(y, {1, 2, 1, 2});
}

TEST_CASE("grouped ConvTranspose keeps the groups apart") {
  auto y = op("ConvTranspose").in(f32({1, 2, 1}, {1, 2})).in(f32({2, 1, 2}, {1, 2, 3, 4})).attr("group", 2).out();
  CHECK(y.shape() == shape_t{1, 2, 2});
  check_close(y, {1, 2, 6, 8});
}

TEST_CASE("ConvTranspose with two output channels adds the bias per channel") {
  auto y = op("ConvTranspose").in(f32({1, 1, 2}, {1, 2})).in(f32({1, 2, 1}, {3, 4})).in(f32({2}, {1, -1})).out();
  CHECK(y.shape() == shape_t{1, 2, 2});
  check_close(y, {4, 7, 3, 7});
}

TEST_CASE("ConvTranspose is the adjoint of Conv on random data") {
  // <conv(x), y> == <x, conv_transpose(y)> for the same weights, strides, pads and dilations.
  std::mt19937 gen(3);
  auto x = random_tensor({1, 4, 7, 6}, gen);
  auto w = random_tensor({6, 2, 3, 2}, gen);  // Conv: M=6, C/group=2 with group 2
  auto conv = op("Conv")
                  .in(x)
                  .in(w)
                  .attr("group", 2)
                  .attr("strides", std::vector<std::int64_t>{2, 1})
                  .attr("pads", std::vector<std::int64_t>{1, 1, 1, 0})
                  .attr("dilations", std::vector<std::int64_t>{1, 2})
                  .out();
  auto y = random_tensor(conv.shape(), gen);
  // ConvTranspose weights are [C_in_of_transpose = 6, M/group = 2, k...]: the same tensor.
  auto back = op("ConvTranspose")
                  .in(y)
                  .in(w)
                  .attr("group", 2)
                  .attr("strides", std::vector<std::int64_t>{2, 1})
                  .attr("pads", std::vector<std::int64_t>{1, 1, 1, 0})
                  .attr("dilations", std::vector<std::int64_t>{1, 2})
                  .attr("output_shape", std::vector<std::int64_t>{7, 6})
                  .out();
  REQUIRE(back.shape() == x.shape());
  double lhs = 0, rhs = 0;
  for (std::int64_t i = 0; i < conv.elements(); ++i) lhs += double(conv.data<float>()[i]) * y.data<float>()[i];
  for (std::int64_t i = 0; i < x.elements(); ++i) rhs += double(x.data<float>()[i]) * back.data<float>()[i];
  CHECK(lhs == doctest::Approx(rhs).epsilon(1e-5));
}

TEST_CASE("ConvTranspose rejects weights whose first axis is not the input channels") {
  CHECK(op("ConvTranspose").in(iota({1, 2, 3})).in(iota({3, 1, 2})).error() == errc::invalid_argument);
}

TEST_CASE("Conv over an empty batch yields an empty output") {
  auto y = op("Conv").in(f32({0, 1, 3, 3}, {})).in(f32({2, 1, 2, 2}, std::vector<float>(8, 1.f))).out();
  CHECK(y.shape() == shape_t{0, 2, 2, 2});
}
