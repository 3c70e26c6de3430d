// Quantization reference kernels: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear,
// MatMulInteger, QLinearMatMul, ConvInteger and QLinearConv. Expected values are computed by
// hand or, for the full-range int8 convolution, by a slow int64 reference.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "engine_k2_harness.hpp"

using namespace k2;

using u8 = std::uint8_t;
using s8 = std::int8_t;
using i32 = std::int32_t;

namespace {

tensor scalar_f(float v) { return f32({}, {v}); }
template <class T>
tensor scalar(T v) {
  return make<T>({}, {v});
}

// Requantization as the ONNX spec defines it, in float: round half to even, add the zero
// point, saturate.
template <class Q>
Q requantize(std::int64_t acc, float multiplier, std::int32_t zero_point) {
  double v = std::nearbyint(static_cast<float>(acc) * multiplier) + zero_point;
  v = std::min<double>(std::max<double>(v, std::numeric_limits<Q>::lowest()), std::numeric_limits<Q>::max());
  return static_cast<Q>(v);
}

}  // namespace

TEST_CASE("QuantizeLinear to uint8 rounds half to even and saturates") {
  auto y = op("QuantizeLinear", 13)
               .in(f32({7}, {0, 1, 3, 5, -3, 1000, -1000}))
               .in(scalar_f(2))
               .in(scalar<u8>(128))
               .out();
  REQUIRE(y.type() == dtype::u8);
  CHECK(values<u8>(y) == std::vector<u8>{128, 128, 130, 130, 126, 255, 0});
}

TEST_CASE("QuantizeLinear to int8 with a negative zero point") {
  auto y = op("QuantizeLinear", 13)
               .in(f32({5}, {-0.5f, 0.5f, 1.5f, 300, -300}))
               .in(scalar_f(1))
               .in(scalar<s8>(-1))
               .out();
  REQUIRE(y.type() == dtype::i8);
  CHECK(values<s8>(y) == std::vector<s8>{-1, -1, 1, 127, -128});
}

TEST_CASE("QuantizeLinear without a zero point produces uint8 around 0") {
  auto y = op("QuantizeLinear", 10).in(f32({4}, {-1, 0.4f, 0.6f, 2.5f})).in(scalar_f(1)).out();
  REQUIRE(y.type() == dtype::u8);
  CHECK(values<u8>(y) == std::vector<u8>{0, 0, 1, 2});
}

TEST_CASE("QuantizeLinear per axis uses one scale and zero point per channel") {
  auto y = op("QuantizeLinear", 13)
               .in(f32({2, 3}, {4, 4, 4, 8, 8, 8}))
               .in(f32({3}, {1, 2, 4}))
               .in(make<u8>({3}, {0, 1, 2}))
               .attr("axis", 1)
               .out();
  CHECK(values<u8>(y) == std::vector<u8>{4, 3, 3, 8, 5, 4});
  auto rows = op("QuantizeLinear", 13)
                  .in(f32({2, 3}, {4, 4, 4, 8, 8, 8}))
                  .in(f32({2}, {4, 8}))
                  .in(make<u8>({2}, {0, 10}))
                  .attr("axis", -2)
                  .out();
  CHECK(values<u8>(rows) == std::vector<u8>{1, 1, 1, 11, 11, 11});
}

TEST_CASE("QuantizeLinear per axis needs opset 13 and a matching scale length") {
  CHECK(op("QuantizeLinear", 10).in(f32({2}, {1, 2})).in(f32({2}, {1, 1})).error() == errc::invalid_argument);
  CHECK(op("QuantizeLinear", 13).in(f32({2, 2}, {1, 2, 3, 4})).in(f32({3}, {1, 1, 1})).error() ==
        errc::invalid_argument);
}

TEST_CASE("QuantizeLinear of int32 input") {
  auto y = op("QuantizeLinear", 13).in(make<i32>({3}, {-6, 6, 7})).in(scalar_f(4)).in(scalar<s8>(0)).out();
  CHECK(values<s8>(y) == std::vector<s8>{-2, 2, 2});
}

TEST_CASE("DequantizeLinear of uint8 and int8") {
  auto u = op("DequantizeLinear", 13).in(make<u8>({3}, {0, 128, 255})).in(scalar_f(0.5f)).in(scalar<u8>(128)).out();
  REQUIRE(u.type() == dtype::f32);
  check_close(u, {-64, 0, 63.5});
  auto s = op("DequantizeLinear", 13).in(make<s8>({2}, {-128, 127})).in(scalar_f(2)).in(scalar<s8>(-1)).out();
  check_close(s, {-254, 256});
}

TEST_CASE("DequantizeLinear of an int32 bias without zero point") {
  auto y = op("DequantizeLinear", 13).in(make<i32>({3}, {-1000, 0, 123456})).in(scalar_f(0.5f)).out();
  check_close(y, {-500, 0, 61728});
}

TEST_CASE("DequantizeLinear of an int32 bias per output channel") {
  auto y = op("DequantizeLinear", 13)
               .in(make<i32>({2, 2}, {100, -100, 100, -100}))
               .in(f32({2}, {0.5f, 0.25f}))
               .attr("axis", 0)
               .out();
  check_close(y, {50, -50, 25, -25});
}

TEST_CASE("DequantizeLinear rejects a zero point of another type") {
  CHECK(op("DequantizeLinear", 13).in(make<u8>({1}, {1})).in(scalar_f(1)).in(scalar<s8>(0)).error() ==
        errc::invalid_argument);
}

TEST_CASE("DynamicQuantizeLinear derives scale and zero point from the range including 0") {
  auto r = op("DynamicQuantizeLinear", 11)
               .in(f32({4}, {-1, 0, 0.5f, 3}))
               .outputs({"y", "scale", "zp"})
               .run();
  REQUIRE(r.ok());
  const float scale = 4.f / 255.f;
  CHECK(r->at(1).data<float>()[0] == scale);
  CHECK(values<u8>(r->at(2)) == std::vector<u8>{64});  // rint(1 / scale) = rint(63.75)
  CHECK(values<u8>(r->at(0)) == std::vector<u8>{0, 64, 96, 255});
}

TEST_CASE("DynamicQuantizeLinear of all-positive and all-negative inputs") {
  auto pos = op("DynamicQuantizeLinear", 11).in(f32({2}, {1, 2.55f})).outputs({"y", "s", "z"}).run();
  REQUIRE(pos.ok());
  CHECK(values<u8>(pos->at(2)) == std::vector<u8>{0});
  CHECK(values<u8>(pos->at(0)) == std::vector<u8>{100, 255});
  auto neg = op("DynamicQuantizeLinear", 11).in(f32({2}, {-2.55f, -1})).outputs({"y", "s", "z"}).run();
  REQUIRE(neg.ok());
  CHECK(values<u8>(neg->at(2)) == std::vector<u8>{255});
  CHECK(values<u8>(neg->at(0)) == std::vector<u8>{0, 155});
}

TEST_CASE("DynamicQuantizeLinear of zeros yields zeros with scale 1") {
  auto r = op("DynamicQuantizeLinear", 11).in(f32({2}, {0, 0})).outputs({"y", "s", "z"}).run();
  REQUIRE(r.ok());
  CHECK(r->at(1).data<float>()[0] == 1.f);
  CHECK(values<u8>(r->at(0)) == std::vector<u8>{0, 0});
}

TEST_CASE("MatMulInteger subtracts per-tensor zero points") {
  auto y = op("MatMulInteger", 10)
               .in(make<u8>({2, 2}, {10, 20, 30, 40}))
               .in(make<u8>({2, 2}, {1, 2, 3, 4}))
               .in(scalar<u8>(10))
               .in(scalar<u8>(1))
               .out();
  REQUIRE(y.type() == dtype::i32);
  CHECK(values<i32>(y) == std::vector<i32>{20, 30, 60, 110});
}

TEST_CASE("MatMulInteger with per-row a and per-column b zero points") {
  auto y = op("MatMulInteger", 10)
               .in(make<u8>({2, 2}, {10, 20, 30, 40}))
               .in(make<u8>({2, 2}, {1, 2, 3, 4}))
               .in(make<u8>({2}, {10, 20}))
               .in(make<u8>({2}, {1, 2}))
               .out();
  CHECK(values<i32>(y) == std::vector<i32>{20, 20, 40, 40});
}

TEST_CASE("MatMulInteger on int8 with batch broadcasting and no zero points") {
  auto y = op("MatMulInteger", 10)
               .in(make<s8>({2, 1, 2}, {-128, 127, 1, -1}))
               .in(make<s8>({2, 1}, {-128, -128}))
               .out();
  CHECK(y.shape() == shape_t{2, 1, 1});
  CHECK(values<i32>(y) == std::vector<i32>{128 * 128 - 127 * 128, 0});
}

TEST_CASE("QLinearMatMul requantizes with a_scale times b_scale over y_scale") {
  // a real [1, 2], b real [0.25, -0.25]: (2)(1) + (4)(-1) = -2 accumulated; -2 * 0.5 * 0.25 / 0.125 = -2.
  auto y = op("QLinearMatMul", 10)
               .in(make<u8>({1, 2}, {130, 132}))
               .in(scalar_f(0.5f))
               .in(scalar<u8>(128))
               .in(make<u8>({2, 1}, {129, 127}))
               .in(scalar_f(0.25f))
               .in(scalar<u8>(128))
               .in(scalar_f(0.125f))
               .in(scalar<u8>(100))
               .out();
  REQUIRE(y.type() == dtype::u8);
  CHECK(values<u8>(y) == std::vector<u8>{98});
}

TEST_CASE("QLinearMatMul with int8, per-row a_scale and per-column b_scale") {
  // acc = [[10, 20], [30, 40]] for a = [[1, 2], [3, 4]] - 0 and b = [[10, 0], [0, 10]].
  auto y = op("QLinearMatMul", 10)
               .in(make<s8>({2, 2}, {1, 2, 3, 4}))
               .in(f32({2}, {1, 2}))
               .in(scalar<s8>(0))
               .in(make<s8>({2, 2}, {10, 0, 0, 10}))
               .in(f32({2}, {0.1f, 1}))
               .in(scalar<s8>(0))
               .in(scalar_f(1))
               .in(scalar<s8>(-5))
               .out();
  REQUIRE(y.type() == dtype::i8);
  // row 0 (a_scale 1): [10*0.1, 20*1] = [1, 20]; row 1 (a_scale 2): [30*0.2, 40*2 = 80]; minus 5.
  CHECK(values<s8>(y) == std::vector<s8>{-4, 15, 1, 75});
}

TEST_CASE("ConvInteger with a scalar x zero point and per-channel w zero points") {
  auto y = op("ConvInteger", 10)
               .in(make<u8>({1, 1, 1, 3}, {5, 6, 7}))
               .in(make<u8>({2, 1, 1, 2}, {1, 2, 11, 12}))
               .in(scalar<u8>(5))
               .in(make<u8>({2}, {0, 10}))
               .out();
  REQUIRE(y.type() == dtype::i32);
  CHECK(y.shape() == shape_t{1, 2, 1, 2});
  // x - 5 = [0, 1, 2]; ch0 w [1, 2]: [2, 5]; ch1 w - 10 = [1, 2]: [2, 5].
  CHECK(values<i32>(y) == std::vector<i32>{2, 5, 2, 5});
}

TEST_CASE("ConvInteger pads with the zero point (real zero)") {
  auto y = op("ConvInteger", 10)
               .in(make<u8>({1, 1, 2}, {9, 11}))
               .in(make<u8>({1, 1, 3}, {1, 1, 1}))
               .in(scalar<u8>(10))
               .attr("pads", std::vector<std::int64_t>{1, 1})
               .out();
  CHECK(values<i32>(y) == std::vector<i32>{0, 0});
}

TEST_CASE("QLinearConv int8 with per-channel weight scales, bias and half-to-even rounding") {
  // x - x_zp = [10, 0, 2]; windows of 2 taps.
  // ch0: w [3, 7], acc [30, 14] + 10 = [40, 24], * (0.5 * 0.25 / 2 = 0.0625) = [2.5, 1.5] -> [2, 2].
  // ch1: w [-127, 127], acc [-1270, 254] - 10 = [-1280, 244], * 0.025 = [-32, 6.1] -> [-32, 6].
  auto y = op("QLinearConv", 10)
               .in(make<s8>({1, 1, 1, 3}, {5, -5, -3}))
               .in(scalar_f(0.5f))
               .in(scalar<s8>(-5))
               .in(make<s8>({2, 1, 1, 2}, {3, 7, -127, 127}))
               .in(f32({2}, {0.25f, 0.1f}))
               .in(make<s8>({2}, {0, 0}))
               .in(scalar_f(2))
               .in(scalar<s8>(3))
               .in(make<i32>({2}, {10, -10}))
               .out();
  REQUIRE(y.type() == dtype::i8);
  CHECK(y.shape() == shape_t{1, 2, 1, 2});
  CHECK(values<s8>(y) == std::vector<s8>{5, 5, -29, 9});
}

TEST_CASE("QLinearConv uint8 saturates at both ends") {
  auto y = op("QLinearConv", 10)
               .in(make<u8>({1, 1, 1, 2}, {255, 0}))
               .in(scalar_f(1))
               .in(scalar<u8>(128))
               .in(make<u8>({2, 1, 1, 1}, {255, 0}))
               .in(scalar_f(1))
               .in(scalar<u8>(128))
               .in(scalar_f(1))
               .in(scalar<u8>(128))
               .out();
  // ch0: w 127: [127*127, -128*127] -> [255, 0]; ch1: w -128: [-16256, 16384] -> [0, 255].
  CHECK(values<u8>(y) == std::vector<u8>{255, 0, 0, 255});
}

TEST_CASE("QLinearConv with full-range int8 weights equals an exact int64 reference") {
  std::mt19937 gen(2024);
  std::uniform_int_distribution<int> xs(-128, 127), ws(-127, 127), bs(-20000, 20000);
  const std::int64_t N = 2, C = 8, H = 10, W = 9, M = 6, group = 2, Cg = C / group, Mg = M / group;
  tensor x(dtype::i8, {N, C, H, W}), w(dtype::i8, {M, Cg, 3, 3}), bias(dtype::i32, {M});
  for (std::int64_t i = 0; i < x.elements(); ++i) x.data<s8>()[i] = static_cast<s8>(xs(gen));
  for (std::int64_t i = 0; i < w.elements(); ++i) w.data<s8>()[i] = static_cast<s8>(ws(gen));
  for (std::int64_t i = 0; i < M; ++i) bias.data<i32>()[i] = bs(gen);
  const s8 x_zp = -5, y_zp = 3;
  const float x_scale = 0.05f, y_scale = 1.6f;
  std::vector<float> w_scale{0.01f, 0.02f, 0.005f, 0.013f, 0.0071f, 0.03f};
  tensor w_zero(dtype::i8, {M});  // symmetric weights
  auto run = op("QLinearConv", 10)
                 .in(x)
                 .in(scalar_f(x_scale))
                 .in(scalar<s8>(x_zp))
                 .in(w)
                 .in(f32({M}, w_scale))
                 .in(w_zero)
                 .in(scalar_f(y_scale))
                 .in(scalar<s8>(y_zp))
                 .in(bias)
                 .attr("group", group)
                 .attr("pads", std::vector<std::int64_t>{1, 1, 1, 1});
  auto y = run.out();
  REQUIRE(y.shape() == shape_t{N, M, H, W});
  auto acc_only = op("ConvInteger", 10)
                      .in(x)
                      .in(w)
                      .in(scalar<s8>(x_zp))
                      .attr("group", group)
                      .attr("pads", std::vector<std::int64_t>{1, 1, 1, 1})
                      .out();
  std::int64_t mismatches = 0, acc_mismatches = 0;
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t m = 0; m < M; ++m)
      for (std::int64_t i = 0; i < H; ++i)
        for (std::int64_t j = 0; j < W; ++j) {
          std::int64_t acc = 0;
          for (std::int64_t c = 0; c < Cg; ++c)
            for (std::int64_t ki = 0; ki < 3; ++ki)
              for (std::int64_t kj = 0; kj < 3; ++kj) {
                const std::int64_t r = i + ki - 1, q = j + kj - 1;
                if (r < 0 || r >= H || q < 0 || q >= W) continue;
                const std::int64_t ci = (m / Mg) * Cg + c;
                acc += (std::int64_t{x.data<s8>()[((n * C + ci) * H + r) * W + q]} - x_zp) *
                       std::int64_t{w.data<s8>()[((m * Cg + c) * 3 + ki) * 3 + kj]};
              }
          const std::int64_t at = ((n * M + m) * H + i) * W + j;
          if (acc_only.data<i32>()[at] != acc) ++acc_mismatches;
          const s8 expected = requantize<s8>(acc + bias.data<i32>()[m], x_scale * w_scale[m] / y_scale, y_zp);
          if (y.data<s8>()[at] != expected) ++mismatches;
        }
  CHECK(acc_mismatches == 0);
  CHECK(mismatches == 0);
}

TEST_CASE("QLinearConv rejects a w_scale that is neither per-tensor nor per-channel") {
  CHECK(op("QLinearConv", 10)
            .in(make<u8>({1, 1, 1, 1}, {1}))
            .in(scalar_f(1))
            .in(scalar<u8>(0))
            .in(make<u8>({2, 1, 1, 1}, {1, 1}))
            .in(f32({3}, {1, 1, 1}))
            .in(scalar<u8>(0))
            .in(scalar_f(1))
            .in(scalar<u8>(0))
            .error() == errc::invalid_argument);
}

TEST_CASE("QLinearConv on float inputs is unsupported") {
  CHECK(op("QLinearConv", 10)
            .in(f32({1, 1, 1, 1}, {1}))
            .in(scalar_f(1))
            .none()
            .in(f32({1, 1, 1, 1}, {1}))
            .in(scalar_f(1))
            .none()
            .in(scalar_f(1))
            .error() == errc::not_implemented);
}
