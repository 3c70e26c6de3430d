// Unit tests for the normalization reference kernels: BatchNormalization,
// InstanceNormalization, LayerNormalization, LRN, MeanVarianceNormalization, Softmax,
// LogSoftmax and Hardmax.
#include <cmath>

#include "engine_math_harness.hpp"

using namespace math_harness;

TEST_CASE("BatchNormalization normalizes each channel with its statistics") {
  // Channel 0: (x - 1) / 2. Channel 1: 2 * (x - 3) / 1 + 1.
  auto x = f32({1, 2, 1, 2}, {1, 2, 3, 4});
  auto scale = f32({2}, {1, 2});
  auto bias = f32({2}, {0, 1});
  auto mean = f32({2}, {1, 3});
  auto var = f32({2}, {4, 1});
  op bn("BatchNormalization", 15);
  bn.attr("epsilon", float_attr(0.0f));
  check_close(bn.run_ok({&x, &scale, &bias, &mean, &var}), {0, 0.5, 1, 3});
}

TEST_CASE("BatchNormalization adds the default epsilon to the variance") {
  auto x = f32({1, 1}, {1});
  auto one = f32({1}, {1});
  auto zero = f32({1}, {0});
  op bn("BatchNormalization", 15);
  check_close(bn.run_ok({&x, &one, &zero, &zero, &zero}), {1.0 / std::sqrt(1e-5)}, 1e-4);
}

TEST_CASE("BatchNormalization before opset 9 accepts per-element parameters with spatial 0") {
  auto x = f32({1, 1, 2}, {2, 4});
  auto scale = f32({1, 2}, {1, 3});
  auto bias = f32({1, 2}, {0, 1});
  auto mean = f32({1, 2}, {1, 1});
  auto var = f32({1, 2}, {1, 4});
  op bn("BatchNormalization", 7);
  bn.attr("spatial", int_attr(0)).attr("epsilon", float_attr(0.0f));
  // Element 0: (2 - 1) / 1 * 1 + 0. Element 1: (4 - 1) / 2 * 3 + 1.
  check_close(bn.run_ok({&x, &scale, &bias, &mean, &var}), {1, 5.5});
}

TEST_CASE("BatchNormalization in training mode is unsupported") {
  auto x = f32({1, 1}, {1});
  auto p = f32({1}, {1});
  op bn("BatchNormalization", 15);
  bn.attr("training_mode", int_attr(1));
  CHECK(fails_with(bn.run({&x, &p, &p, &p, &p}), errc::not_implemented, "training_mode"));
}

TEST_CASE("BatchNormalization rejects parameters of the wrong length") {
  auto x = f32({1, 2, 1}, {1, 2});
  auto good = f32({2}, {1, 1});
  auto bad = f32({3}, {1, 1, 1});
  op bn("BatchNormalization", 15);
  CHECK(fails_with(bn.run({&x, &good, &good, &bad, &good}), errc::invalid_argument, "[3]"));
}

TEST_CASE("InstanceNormalization normalizes each sample and channel over space") {
  // Mean 2.5, variance 1.25.
  auto x = f32({1, 1, 4}, {1, 2, 3, 4});
  auto scale = f32({1}, {2});
  auto bias = f32({1}, {1});
  op in("InstanceNormalization");
  in.attr("epsilon", float_attr(0.0f));
  const double s = 1.0 / std::sqrt(1.25);
  check_close(in.run_ok({&x, &scale, &bias}), {1 - 3 * s, 1 - s, 1 + s, 1 + 3 * s});
}

TEST_CASE("LayerNormalization over the last axis also returns Mean and InvStdDev") {
  auto x = f32({2, 2}, {1, 3, 0, 4});
  auto scale = f32({2}, {1, 2});
  auto bias = f32({2}, {0, 10});
  op ln("LayerNormalization", 17, 3);
  ln.attr("epsilon", float_attr(0.0f));
  REQUIRE(ln.run({&x, &scale, &bias}).ok());
  // Row 0: mean 2, std 1. Row 1: mean 2, std 2. Both normalize to [-1, 1].
  check_close(ln.out[0], {-1, 12, -1, 12});
  CHECK(ln.out[1].shape() == shape_t{2, 1});
  check_close(ln.out[1], {2, 2});
  CHECK(ln.out[2].shape() == shape_t{2, 1});
  check_close(ln.out[2], {1, 0.5});
}

TEST_CASE("LayerNormalization from axis 1 normalizes the trailing block without a bias") {
  auto x = f32({1, 2, 2}, {1, 2, 3, 4});
  auto scale = f32({2, 2}, {1, 1, 1, 1});
  op ln("LayerNormalization", 17);
  ln.attr("axis", int_attr(1)).attr("epsilon", float_attr(0.0f));
  const double s = 1.0 / std::sqrt(1.25);
  check_close(ln.run_ok({&x, &scale}), {-1.5 * s, -0.5 * s, 0.5 * s, 1.5 * s});
}

TEST_CASE("LayerNormalization rejects an axis out of range") {
  auto x = f32({2, 2}, {1, 2, 3, 4});
  auto scale = f32({2}, {1, 1});
  op ln("LayerNormalization", 17);
  ln.attr("axis", int_attr(2));
  CHECK(fails_with(ln.run({&x, &scale}), errc::invalid_argument, "axis 2"));
}

TEST_CASE("LayerNormalization rejects a scale that does not match the normalized shape") {
  auto x = f32({2, 2}, {1, 2, 3, 4});
  auto scale = f32({3}, {1, 1, 1});
  op ln("LayerNormalization", 17);
  CHECK(fails_with(ln.run({&x, &scale}), errc::invalid_argument, "Scale shape [3]"));
}

TEST_CASE("LRN divides by the windowed sum of squares across channels") {
  // Squares 1, 4, 9; windows {0,1}, {0,1,2}, {1,2}; alpha / size = 1, beta 1, bias 1.
  auto x = f32({1, 3, 1, 1}, {1, 2, 3});
  op lrn("LRN", 13);
  lrn.attr("size", int_attr(3)).attr("alpha", float_attr(3.0f)).attr("beta", float_attr(1.0f));
  check_close(lrn.run_ok({&x}), {1.0 / 6, 2.0 / 15, 3.0 / 14});
}

TEST_CASE("LRN requires a positive size") {
  auto x = f32({1, 1, 1, 1}, {1});
  op lrn("LRN", 13);
  CHECK(fails_with(lrn.run({&x}), errc::invalid_argument, "size"));
}

TEST_CASE("MeanVarianceNormalization normalizes over axes 0, 2 and 3 by default") {
  auto x = f32({1, 1, 1, 4}, {1, 2, 3, 4});
  op mvn("MeanVarianceNormalization", 13);
  const double s = 1.0 / std::sqrt(1.25);
  check_close(mvn.run_ok({&x}), {-1.5 * s, -0.5 * s, 0.5 * s, 1.5 * s});
}

TEST_CASE("Softmax from opset 13 normalizes along the last axis") {
  auto x = f32({2, 3}, {1, 2, 3, 0, 0, 0});
  op sm("Softmax", 13);
  check_close(sm.run_ok({&x}),
              {0.09003057317038046, 0.24472847105479767, 0.6652409557748219, 1.0 / 3, 1.0 / 3, 1.0 / 3});
}

TEST_CASE("Softmax before opset 13 coerces to 2-D at the axis but from 13 uses that axis only") {
  // x = [[[0, 0], [0, ln 5]]].
  auto x = f32({1, 2, 2}, {0, 0, 0, static_cast<float>(std::log(5.0))});
  op legacy("Softmax", 11);
  legacy.attr("axis", int_attr(1));
  check_close(legacy.run_ok({&x}), {0.125, 0.125, 0.125, 0.625});
  op modern("Softmax", 13);
  modern.attr("axis", int_attr(1));
  check_close(modern.run_ok({&x}), {0.5, 1.0 / 6, 0.5, 5.0 / 6});
}

TEST_CASE("Softmax stays finite for large inputs") {
  auto x = f32({2}, {1000, 1000});
  op sm("Softmax", 13);
  check_close(sm.run_ok({&x}), {0.5, 0.5});
}

TEST_CASE("Softmax on float16 returns float16") {
  auto x = f16({2}, {0.0f, 0.0f});
  op sm("Softmax", 13);
  CHECK(halves(sm.run_ok({&x})) == std::vector<float>{0.5f, 0.5f});
}

TEST_CASE("Softmax rejects an axis out of range") {
  auto x = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  op sm("Softmax", 13);
  sm.attr("axis", int_attr(-3));
  CHECK(fails_with(sm.run({&x}), errc::invalid_argument, "axis -3"));
}

TEST_CASE("LogSoftmax subtracts the log of the normalizer") {
  auto x = f32({2}, {0, static_cast<float>(std::log(3.0))});
  op ls("LogSoftmax", 13);
  check_close(ls.run_ok({&x}), {std::log(0.25), std::log(0.75)});
}

TEST_CASE("Hardmax marks the first maximum along the axis") {
  auto x = f32({2, 3}, {3, 5, 5, 9, 1, 2});
  op hm("Hardmax", 13);
  check_close(hm.run_ok({&x}), {0, 1, 0, 1, 0, 0});
}
