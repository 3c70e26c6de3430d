// Unit tests for the element-wise reference kernels: activations, math, Cast/Clip/Identity,
// arithmetic with broadcasting, comparisons, logic, Where and BitShift.
#include <cmath>
#include <limits>

#include "engine_math_harness.hpp"

using namespace math_harness;

namespace {
const double inf = std::numeric_limits<double>::infinity();
const double nan_value = std::numeric_limits<double>::quiet_NaN();
}  // namespace

// ---------------------------------------------------------------- activations

TEST_CASE("Relu zeroes negative values and keeps the shape") {
  auto x = f32({2, 2}, {-1.5f, 0.0f, 2.0f, -0.0f});
  op relu("Relu");
  const tensor& y = relu.run_ok({&x});
  CHECK(y.shape() == shape_t{2, 2});
  check_close(y, {0, 0, 2, 0});
}

TEST_CASE("Relu accepts int32 inputs from opset 14") {
  auto x = make<std::int32_t>({3}, {-7, 0, 9});
  op relu("Relu", 14);
  CHECK(values<std::int32_t>(relu.run_ok({&x})) == std::vector<std::int32_t>{0, 0, 9});
}

TEST_CASE("Relu on float16 computes through float and returns float16") {
  auto x = f16({3}, {-1.0f, 0.5f, 3.0f});
  op relu("Relu");
  const tensor& y = relu.run_ok({&x});
  CHECK(halves(y) == std::vector<float>{0.0f, 0.5f, 3.0f});
}

TEST_CASE("Sigmoid is one half at zero and saturates without NaN for large magnitudes") {
  auto x = f32({3}, {0.0f, -1000.0f, 1000.0f});
  op sigmoid("Sigmoid");
  check_close(sigmoid.run_ok({&x}), {0.5, 0.0, 1.0});
}

TEST_CASE("Tanh of 0.5 matches the hand value") {
  auto x = f32({2}, {0.5f, -0.5f});
  op t("Tanh");
  check_close(t.run_ok({&x}), {0.46211716, -0.46211716});
}

TEST_CASE("LeakyRelu uses alpha 0.01 by default and the alpha attribute otherwise") {
  auto x = f32({2}, {-2.0f, 3.0f});
  op defaults("LeakyRelu");
  check_close(defaults.run_ok({&x}), {-0.02, 3.0});
  op custom("LeakyRelu");
  custom.attr("alpha", float_attr(0.5f));
  check_close(custom.run_ok({&x}), {-1.0, 3.0});
}

TEST_CASE("Elu with alpha 2 scales expm1 of negative inputs") {
  auto x = f32({2}, {-1.0f, 1.0f});
  op elu("Elu");
  elu.attr("alpha", float_attr(2.0f));
  check_close(elu.run_ok({&x}), {2.0 * (std::exp(-1.0) - 1.0), 1.0});
}

TEST_CASE("Selu uses the standard alpha and gamma by default") {
  auto x = f32({2}, {1.0f, -1.0f});
  op selu("Selu");
  check_close(selu.run_ok({&x}), {1.0507009873554805, -1.1113307378125625});
}

TEST_CASE("Celu with alpha 2 computes alpha times expm1 of x over alpha") {
  auto x = f32({2}, {-2.0f, 4.0f});
  op celu("Celu", 12);
  celu.attr("alpha", float_attr(2.0f));
  check_close(celu.run_ok({&x}), {2.0 * (std::exp(-1.0) - 1.0), 4.0});
}

TEST_CASE("ThresholdedRelu keeps only values strictly above alpha") {
  auto x = f32({3}, {0.5f, 1.0f, 1.5f});
  op t("ThresholdedRelu", 10);
  check_close(t.run_ok({&x}), {0, 0, 1.5});
}

TEST_CASE("HardSigmoid clamps alpha x plus beta to the unit interval") {
  auto x = f32({3}, {1.0f, -5.0f, 5.0f});
  op h("HardSigmoid");
  check_close(h.run_ok({&x}), {0.7, 0.0, 1.0});
}

TEST_CASE("HardSwish multiplies x by the hard sigmoid gate") {
  auto x = f32({3}, {3.0f, -3.0f, 1.0f});
  op h("HardSwish", 14);
  check_close(h.run_ok({&x}), {3.0, 0.0, 2.0 / 3.0});
}

TEST_CASE("Softplus is log 2 at zero and does not overflow for large inputs") {
  auto x = f32({2}, {0.0f, 100.0f});
  op s("Softplus");
  check_close(s.run_ok({&x}), {std::log(2.0), 100.0});
}

TEST_CASE("Softsign divides by one plus the magnitude") {
  auto x = f32({2}, {3.0f, -1.0f});
  op s("Softsign");
  check_close(s.run_ok({&x}), {0.75, -0.5});
}

TEST_CASE("Mish of 1 is tanh of softplus of 1") {
  auto x = f32({1}, {1.0f});
  op m("Mish", 18);
  check_close(m.run_ok({&x}), {std::tanh(std::log1p(std::exp(1.0)))});
}

// ---------------------------------------------------------------- math

TEST_CASE("Round rounds halves to even") {
  auto x = f32({6}, {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.3f});
  op r("Round", 11);
  check_close(r.run_ok({&x}), {0, 2, 2, 0, -2, 2});
}

TEST_CASE("Floor and Ceil round toward minus and plus infinity") {
  auto x = f32({2}, {-1.5f, 1.2f});
  op floor_op("Floor");
  check_close(floor_op.run_ok({&x}), {-2, 1});
  op ceil_op("Ceil");
  check_close(ceil_op.run_ok({&x}), {-1, 2});
}

TEST_CASE("Abs and Neg on integers wrap the most negative value instead of overflowing") {
  auto x = make<std::int8_t>({3}, {-128, -5, 7});
  op abs_op("Abs");
  CHECK(values<std::int8_t>(abs_op.run_ok({&x})) == std::vector<std::int8_t>{-128, 5, 7});
  op neg_op("Neg");
  CHECK(values<std::int8_t>(neg_op.run_ok({&x})) == std::vector<std::int8_t>{-128, 5, -7});
}

TEST_CASE("Sign maps to minus one, zero or one for floats and integers") {
  auto x = f32({3}, {-2.0f, 0.0f, 3.5f});
  op s("Sign", 13);
  check_close(s.run_ok({&x}), {-1, 0, 1});
  auto xi = make<std::int64_t>({3}, {-9, 0, 4});
  op si("Sign", 13);
  CHECK(values<std::int64_t>(si.run_ok({&xi})) == std::vector<std::int64_t>{-1, 0, 1});
}

TEST_CASE("Exp Log Sqrt and Reciprocal follow IEEE results at the edges") {
  auto x = f32({3}, {1.0f, 0.0f, -1.0f});
  op e("Exp");
  check_close(e.run_ok({&x}), {std::exp(1.0), 1.0, std::exp(-1.0)});
  op l("Log");
  check_close(l.run_ok({&x}), {0.0, -inf, nan_value});
  op s("Sqrt");
  check_close(s.run_ok({&x}), {1.0, 0.0, nan_value});
  op r("Reciprocal");
  check_close(r.run_ok({&x}), {1.0, inf, -1.0});
}

TEST_CASE("Erf Sin and Cos match hand values") {
  auto x = f32({2}, {1.0f, 0.0f});
  op erf_op("Erf", 13);
  check_close(erf_op.run_ok({&x}), {0.8427007929497149, 0.0});
  auto angles = f32({2}, {1.5707963267948966f, 0.0f});
  op sin_op("Sin");
  check_close(sin_op.run_ok({&angles}), {1.0, 0.0});
  op cos_op("Cos");
  const tensor& c = cos_op.run_ok({&angles});
  CHECK(std::fabs(c.data<float>()[0]) < 1e-6);
  CHECK(c.data<float>()[1] == 1.0f);
}

TEST_CASE("Float math rejects integer inputs as unsupported") {
  auto x = make<std::int32_t>({1}, {4});
  op s("Sqrt");
  CHECK(fails_with(s.run({&x}), errc::not_implemented, "int32"));
}

TEST_CASE("IsNaN and IsInf classify special values") {
  auto x = f32({4}, {NAN, INFINITY, -INFINITY, 1.0f});
  op isnan_op("IsNaN", 13);
  CHECK(bools(isnan_op.run_ok({&x})) == std::vector<int>{1, 0, 0, 0});
  op isinf_op("IsInf", 10);
  CHECK(bools(isinf_op.run_ok({&x})) == std::vector<int>{0, 1, 1, 0});
  op positive_only("IsInf", 10);
  positive_only.attr("detect_negative", int_attr(0));
  CHECK(bools(positive_only.run_ok({&x})) == std::vector<int>{0, 1, 0, 0});
}

TEST_CASE("Not inverts bools and rejects other types") {
  auto x = boolean({2}, {1, 0});
  op n("Not");
  CHECK(bools(n.run_ok({&x})) == std::vector<int>{0, 1});
  auto f = f32({1}, {1.0f});
  op bad("Not");
  CHECK(fails_with(bad.run({&f}), errc::not_implemented, "float32"));
}

TEST_CASE("Shrink zeroes the band around zero and shifts the rest by bias") {
  auto x = f32({4}, {-2.0f, -0.5f, 0.5f, 2.0f});
  op s("Shrink", 9);
  s.attr("lambd", float_attr(1.0f)).attr("bias", float_attr(0.5f));
  check_close(s.run_ok({&x}), {-1.5, 0, 0, 1.5});
}

// ---------------------------------------------------------------- Clip, Cast, Identity

TEST_CASE("Clip before opset 11 reads min and max attributes") {
  auto x = f32({3}, {-2.0f, 0.5f, 3.0f});
  op c("Clip", 6);
  c.attr("min", float_attr(-1.0f)).attr("max", float_attr(1.0f));
  check_close(c.run_ok({&x}), {-1, 0.5, 1});
}

TEST_CASE("Clip from opset 11 reads optional bound inputs") {
  auto x = f32({3}, {-2.0f, 0.5f, 3.0f});
  auto hi = scalar_f32(1.0f);
  op c("Clip", 13);
  check_close(c.run_ok({&x, nullptr, &hi}), {-2, 0.5, 1});
}

TEST_CASE("Clip accepts int8 inputs from opset 12") {
  auto x = make<std::int8_t>({3}, {-100, 5, 100});
  auto lo = make<std::int8_t>({}, {-10});
  auto hi = make<std::int8_t>({}, {10});
  op c("Clip", 12);
  CHECK(values<std::int8_t>(c.run_ok({&x, &lo, &hi})) == std::vector<std::int8_t>{-10, 5, 10});
}

TEST_CASE("Clip with min above max sets every value to max") {
  auto x = f32({3}, {-5.0f, 0.0f, 5.0f});
  auto lo = scalar_f32(2.0f);
  auto hi = scalar_f32(1.0f);
  op c("Clip", 13);
  check_close(c.run_ok({&x, &lo, &hi}), {1, 1, 1});
}

TEST_CASE("Clip rejects a bound that is not a scalar") {
  auto x = f32({2}, {1.0f, 2.0f});
  auto lo = f32({2}, {0.0f, 0.0f});
  op c("Clip", 13);
  CHECK(fails_with(c.run({&x, &lo}), errc::invalid_argument, "scalar"));
}

TEST_CASE("Cast from float to int32 truncates toward zero") {
  auto x = f32({3}, {2.7f, -2.7f, 0.5f});
  op c("Cast", 13);
  c.attr("to", int_attr(6));
  CHECK(values<std::int32_t>(c.run_ok({&x})) == std::vector<std::int32_t>{2, -2, 0});
}

TEST_CASE("Cast to bool is true for every non-zero value and back to float gives 0 or 1") {
  auto x = make<std::int32_t>({3}, {0, 3, -1});
  op to_bool("Cast", 13);
  to_bool.attr("to", int_attr(9));
  const tensor& b = to_bool.run_ok({&x});
  CHECK(bools(b) == std::vector<int>{0, 1, 1});
  op to_float("Cast", 13);
  to_float.attr("to", int_attr(1));
  check_close(to_float.run_ok({&b}), {0, 1, 1});
}

TEST_CASE("Cast to float16 rounds to the nearest half") {
  auto x = f32({2}, {0.1f, 65504.0f});
  op c("Cast", 13);
  c.attr("to", int_attr(10));
  CHECK(halves(c.run_ok({&x})) == std::vector<float>{0.0999755859375f, 65504.0f});
}

TEST_CASE("Cast to bfloat16 truncates before opset 19 and rounds to nearest from opset 19") {
  auto x = f32({1}, {1.005859375f});  // three quarters of the way from bfloat16 1 to 1.0078125
  op old_cast("Cast", 13);
  old_cast.attr("to", int_attr(16));
  CHECK(bfloat16_to_float(old_cast.run_ok({&x}).data<std::uint16_t>()[0]) == 1.0f);
  op new_cast("Cast", 19);
  new_cast.attr("to", int_attr(16));
  CHECK(bfloat16_to_float(new_cast.run_ok({&x}).data<std::uint16_t>()[0]) == 1.0078125f);
}

TEST_CASE("Cast to string is unsupported") {
  auto x = f32({1}, {1.0f});
  op c("Cast", 13);
  c.attr("to", int_attr(8));
  CHECK(fails_with(c.run({&x}), errc::not_implemented, "string"));
}

TEST_CASE("Cast without the to attribute is invalid") {
  auto x = f32({1}, {1.0f});
  op c("Cast", 13);
  CHECK(fails_with(c.run({&x}), errc::invalid_argument, "'to'"));
}

TEST_CASE("CastLike takes the target type from its second input") {
  auto x = f32({2}, {1.9f, -3.0f});
  auto like = make<std::int64_t>({1}, {0});
  op c("CastLike", 15);
  CHECK(values<std::int64_t>(c.run_ok({&x, &like})) == std::vector<std::int64_t>{1, -3});
}

TEST_CASE("Identity returns an equal tensor with its own storage") {
  auto x = f32({2}, {1.0f, 2.0f});
  op id("Identity");
  const tensor& y = id.run_ok({&x});
  check_close(y, {1, 2});
  CHECK(y.raw() != x.raw());
}

// ---------------------------------------------------------------- arithmetic

TEST_CASE("Add adds element-wise for equal shapes") {
  auto a = f32({2, 2}, {1, 2, 3, 4});
  auto b = f32({2, 2}, {10, 20, 30, 40});
  op add("Add", 14);
  check_close(add.run_ok({&a, &b}), {11, 22, 33, 44});
}

TEST_CASE("Add broadcasts both operands multidirectionally") {
  auto a = f32({2, 1}, {1, 2});
  auto b = f32({1, 3}, {10, 20, 30});
  op add("Add", 14);
  const tensor& y = add.run_ok({&a, &b});
  CHECK(y.shape() == shape_t{2, 3});
  check_close(y, {11, 21, 31, 12, 22, 32});
}

TEST_CASE("Add broadcasts a channel vector over NCHW") {
  auto a = f32({1, 2, 2, 2}, {0, 0, 0, 0, 0, 0, 0, 0});
  auto b = f32({2, 1, 1}, {1, 2});
  op add("Add", 14);
  check_close(add.run_ok({&a, &b}), {1, 1, 1, 1, 2, 2, 2, 2});
}

TEST_CASE("Add before opset 7 aligns B at the axis attribute when broadcast is 1") {
  auto a = f32({2, 3, 2}, std::vector<float>(12, 0.0f));
  auto b = f32({3}, {1, 2, 3});
  op add("Add", 6);
  add.attr("broadcast", int_attr(1)).attr("axis", int_attr(1));
  const tensor& y = add.run_ok({&a, &b});
  CHECK(y.shape() == shape_t{2, 3, 2});
  check_close(y, {1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3});
}

TEST_CASE("Add rejects shapes that do not broadcast and names them") {
  auto a = f32({2, 3}, std::vector<float>(6, 0.0f));
  auto b = f32({2}, {1, 2});
  op add("Add", 14);
  CHECK(fails_with(add.run({&a, &b}), errc::invalid_argument, "[2, 3] and [2]"));
}

TEST_CASE("Add rejects operands of different types") {
  auto a = f32({1}, {1});
  auto b = make<std::int32_t>({1}, {1});
  op add("Add", 14);
  CHECK(fails_with(add.run({&a, &b}), errc::invalid_argument, "types differ"));
}

TEST_CASE("Add of an empty tensor gives an empty tensor of the broadcast shape") {
  auto a = f32({0, 3}, {});
  auto b = f32({3}, {1, 2, 3});
  op add("Add", 14);
  CHECK(add.run_ok({&a, &b}).shape() == shape_t{0, 3});
}

TEST_CASE("Add of two scalars is a scalar") {
  auto a = scalar_f32(1.5f);
  auto b = scalar_f32(2.0f);
  op add("Add", 14);
  const tensor& y = add.run_ok({&a, &b});
  CHECK(y.rank() == 0);
  check_close(y, {3.5});
}

TEST_CASE("Sub and Mul on uint8 wrap around") {
  auto a = make<std::uint8_t>({2}, {250, 3});
  auto b = make<std::uint8_t>({2}, {10, 5});
  op sub("Sub", 14);
  CHECK(values<std::uint8_t>(sub.run_ok({&a, &b})) == std::vector<std::uint8_t>{240, 254});
  op mul("Mul", 14);
  CHECK(values<std::uint8_t>(mul.run_ok({&a, &b})) == std::vector<std::uint8_t>{196, 15});
}

TEST_CASE("Div on integers truncates toward zero") {
  auto a = make<std::int32_t>({2}, {7, -7});
  auto b = make<std::int32_t>({1}, {2});
  op div("Div", 14);
  CHECK(values<std::int32_t>(div.run_ok({&a, &b})) == std::vector<std::int32_t>{3, -3});
}

TEST_CASE("Div of an integer by zero fails instead of crashing") {
  auto a = make<std::int32_t>({1}, {7});
  auto b = make<std::int32_t>({1}, {0});
  op div("Div", 14);
  CHECK(fails_with(div.run({&a, &b}), errc::invalid_argument, "division by zero"));
}

TEST_CASE("Div of a float by zero gives infinity") {
  auto a = f32({1}, {1});
  auto b = f32({1}, {0});
  op div("Div", 14);
  check_close(div.run_ok({&a, &b}), {inf});
}

TEST_CASE("Pow accepts an integer exponent for a float base") {
  auto a = f32({2}, {2, 3});
  auto b = make<std::int64_t>({2}, {3, 2});
  op pow_op("Pow", 15);
  check_close(pow_op.run_ok({&a, &b}), {8, 9});
}

TEST_CASE("Pow on integers is exact and negative exponents give zero") {
  auto a = make<std::int32_t>({3}, {2, -3, 5});
  auto b = make<std::int32_t>({3}, {10, 3, -1});
  op pow_op("Pow", 15);
  CHECK(values<std::int32_t>(pow_op.run_ok({&a, &b})) == std::vector<std::int32_t>{1024, -27, 0});
}

TEST_CASE("Mod follows the divisor's sign unless fmod is set") {
  auto a = make<std::int32_t>({2}, {-7, 7});
  auto b = make<std::int32_t>({2}, {3, -3});
  op python_mod("Mod", 13);
  CHECK(values<std::int32_t>(python_mod.run_ok({&a, &b})) == std::vector<std::int32_t>{2, -2});
  op c_mod("Mod", 13);
  c_mod.attr("fmod", int_attr(1));
  CHECK(values<std::int32_t>(c_mod.run_ok({&a, &b})) == std::vector<std::int32_t>{-1, 1});
}

TEST_CASE("Mod with fmod on floats keeps the dividend's sign") {
  auto a = f32({2}, {-7.5f, 7.5f});
  auto b = f32({1}, {2.0f});
  op m("Mod", 13);
  m.attr("fmod", int_attr(1));
  check_close(m.run_ok({&a, &b}), {-1.5, 1.5});
}

TEST_CASE("Max and Min fold any number of broadcast inputs") {
  auto a = f32({3}, {1, 5, 3});
  auto b = f32({1}, {4});
  auto c = f32({2, 1}, {2, 6});
  op max_op("Max", 13);
  const tensor& y = max_op.run_ok({&a, &b, &c});
  CHECK(y.shape() == shape_t{2, 3});
  check_close(y, {4, 5, 4, 6, 6, 6});
  op min_op("Min", 13);
  check_close(min_op.run_ok({&a, &b, &c}), {1, 2, 2, 1, 4, 3});
}

TEST_CASE("Max propagates NaN") {
  auto a = f32({2}, {NAN, 1});
  auto b = f32({2}, {2, NAN});
  op max_op("Max", 13);
  check_close(max_op.run_ok({&a, &b}), {nan_value, nan_value});
}

TEST_CASE("Max of a single input copies it") {
  auto a = make<std::uint16_t>({2}, {7, 9});
  op max_op("Max", 13);
  CHECK(values<std::uint16_t>(max_op.run_ok({&a})) == std::vector<std::uint16_t>{7, 9});
}

TEST_CASE("Min on float16 returns float16") {
  auto a = f16({2}, {1.5f, -2.0f});
  auto b = f16({2}, {0.5f, 3.0f});
  op min_op("Min", 13);
  CHECK(halves(min_op.run_ok({&a, &b})) == std::vector<float>{0.5f, -2.0f});
}

TEST_CASE("Sum and Mean combine three inputs") {
  auto a = f32({2}, {1, 2});
  auto b = f32({2}, {3, 4});
  auto c = f32({1}, {5});
  op sum("Sum", 13);
  check_close(sum.run_ok({&a, &b, &c}), {9, 11});
  op mean("Mean", 13);
  check_close(mean.run_ok({&a, &b, &c}), {3, 11.0 / 3.0});
}

TEST_CASE("PRelu broadcasts the slope to the input") {
  auto x = f32({2, 3}, {-1, 2, -3, 4, -5, 6});
  auto slope = f32({3}, {0.1f, 0.2f, 0.3f});
  op p("PRelu", 16);
  check_close(p.run_ok({&x, &slope}), {-0.1, 2, -0.9, 4, -1.0, 6});
}

TEST_CASE("PRelu before opset 7 applies a 1-D slope per channel") {
  auto x = f32({1, 2, 1, 2}, {-1, -1, -1, 1});
  auto slope = f32({2}, {0.5f, 2.0f});
  op p("PRelu", 6);
  check_close(p.run_ok({&x, &slope}), {-0.5, -0.5, -2, 1});
}

TEST_CASE("PRelu rejects a slope that would enlarge the input") {
  auto x = f32({3}, {1, 2, 3});
  auto slope = f32({2, 3}, {1, 1, 1, 1, 1, 1});
  op p("PRelu", 16);
  CHECK(fails_with(p.run({&x, &slope}), errc::invalid_argument, "does not broadcast"));
}

// ---------------------------------------------------------------- comparison and logic

TEST_CASE("Comparisons produce bool tensors with broadcasting") {
  auto a = f32({2, 2}, {1, 2, 3, 4});
  auto b = f32({2}, {2, 3});
  op eq("Equal", 13);
  CHECK(bools(eq.run_ok({&a, &b})) == std::vector<int>{0, 0, 0, 0});
  op gt("Greater", 13);
  CHECK(bools(gt.run_ok({&a, &b})) == std::vector<int>{0, 0, 1, 1});
  op ge("GreaterOrEqual", 16);
  CHECK(bools(ge.run_ok({&a, &b})) == std::vector<int>{0, 0, 1, 1});
  op lt("Less", 13);
  CHECK(bools(lt.run_ok({&a, &b})) == std::vector<int>{1, 1, 0, 0});
  op le("LessOrEqual", 16);
  auto c = f32({1}, {2});
  CHECK(bools(le.run_ok({&a, &c})) == std::vector<int>{1, 1, 0, 0});
}

TEST_CASE("Equal compares integers and bools exactly") {
  auto a = make<std::int64_t>({3}, {5, -1, 7});
  auto b = make<std::int64_t>({3}, {5, 1, 7});
  op eq("Equal", 13);
  CHECK(bools(eq.run_ok({&a, &b})) == std::vector<int>{1, 0, 1});
  auto p = boolean({2}, {1, 0});
  auto q = boolean({2}, {1, 1});
  op eqb("Equal", 13);
  CHECK(bools(eqb.run_ok({&p, &q})) == std::vector<int>{1, 0});
}

TEST_CASE("And Or and Xor broadcast bool operands") {
  auto a = boolean({2, 2}, {0, 0, 1, 1});
  auto b = boolean({2}, {0, 1});
  op and_op("And");
  CHECK(bools(and_op.run_ok({&a, &b})) == std::vector<int>{0, 0, 0, 1});
  op or_op("Or");
  CHECK(bools(or_op.run_ok({&a, &b})) == std::vector<int>{0, 1, 1, 1});
  op xor_op("Xor");
  CHECK(bools(xor_op.run_ok({&a, &b})) == std::vector<int>{0, 1, 1, 0});
}

TEST_CASE("And rejects non-bool inputs") {
  auto a = make<std::int32_t>({1}, {1});
  op and_op("And");
  CHECK(fails_with(and_op.run({&a, &a}), errc::not_implemented, "bool only"));
}

TEST_CASE("Where picks from X or Y with three-way broadcasting") {
  auto cond = boolean({2, 1}, {1, 0});
  auto x = f32({1, 3}, {1, 2, 3});
  auto y = scalar_f32(-1.0f);
  op w("Where", 16);
  const tensor& out = w.run_ok({&cond, &x, &y});
  CHECK(out.shape() == shape_t{2, 3});
  check_close(out, {1, 2, 3, -1, -1, -1});
}

TEST_CASE("Where requires a bool condition") {
  auto cond = f32({1}, {1});
  auto x = f32({1}, {1});
  op w("Where", 16);
  CHECK(fails_with(w.run({&cond, &x, &x}), errc::invalid_argument, "bool"));
}

TEST_CASE("BitShift shifts unsigned values and clears them for shifts past the width") {
  auto a = make<std::uint8_t>({3}, {1, 16, 255});
  auto b = make<std::uint8_t>({3}, {2, 3, 8});
  op left("BitShift", 11);
  left.attr("direction", string_attr("LEFT"));
  CHECK(values<std::uint8_t>(left.run_ok({&a, &b})) == std::vector<std::uint8_t>{4, 128, 0});
  op right("BitShift", 11);
  right.attr("direction", string_attr("RIGHT"));
  CHECK(values<std::uint8_t>(right.run_ok({&a, &b})) == std::vector<std::uint8_t>{0, 2, 0});
}

TEST_CASE("BitShift requires a direction") {
  auto a = make<std::uint8_t>({1}, {1});
  op s("BitShift", 11);
  CHECK(fails_with(s.run({&a, &a}), errc::invalid_argument, "direction"));
}
