// XNNPACK-backed operators (engine/xnnpack/): quantized convolution and fully-connected, pooling
// and the NCHW <-> NHWC transposes. Every operator is compared with the reference interpreter
// (the oracle) running a model built in memory, on random data with full-range 8-bit weights.
// Quantized results may differ by rounding: each case reports the largest difference in LSB
// and how many outputs differ, and requires at most 1 LSB on at most 2 % of the outputs.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "engine/interpreter.hpp"
#include "engine/onnx_loader.hpp"
#include "engine/xnnpack/layout.hpp"
#include "engine/xnnpack/pool.hpp"
#include "engine/xnnpack/qconv.hpp"
#include "engine/xnnpack/qgemm.hpp"
#include "engine/xnnpack/runtime.hpp"
#include "engine_onnx_builder.hpp"

using namespace edgert;
using namespace edgert::engine;
using edgert::test::onnx_model;
using ints = std::vector<std::int64_t>;

namespace {

// ---- building and running the reference model ----------------------------------------------

int onnx_type(dtype t) {
  switch (t) {
    case dtype::u8:
      return onnx::TensorProto_DataType_UINT8;
    case dtype::i8:
      return onnx::TensorProto_DataType_INT8;
    case dtype::i32:
      return onnx::TensorProto_DataType_INT32;
    default:
      return onnx::TensorProto_DataType_FLOAT;
  }
}

/// An initializer holding `t`'s bytes as raw_data.
void add_initializer(onnx_model& m, const std::string& name, const tensor& t) {
  auto* p = m.graph().add_initializer();
  p->set_name(name);
  p->set_data_type(onnx_type(t.type()));
  for (auto d : t.shape()) p->add_dims(d);
  p->set_raw_data(std::string(static_cast<const char*>(t.raw()), t.bytes()));
}

void set_ints(onnx::NodeProto& n, const std::string& name, const ints& values) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_INTS);
  for (auto v : values) a->add_ints(v);
}

void set_int(onnx::NodeProto& n, const std::string& name, std::int64_t value) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_INT);
  a->set_i(value);
}

/// A graph output of known element type and unknown shape (shape inference fills it in).
void add_output(onnx_model& m, const std::string& name, dtype t) {
  auto* vi = m.graph().add_output();
  vi->set_name(name);
  vi->mutable_type()->mutable_tensor_type()->set_elem_type(onnx_type(t));
}

template <class T>
tensor scalar(dtype t, T v) {
  tensor s(t, {});
  *s.data<T>() = v;
  return s;
}

tensor zero_point(dtype t, std::int32_t v) {
  return t == dtype::i8 ? scalar<std::int8_t>(t, static_cast<std::int8_t>(v))
                        : scalar<std::uint8_t>(t, static_cast<std::uint8_t>(v));
}

tensor floats(shape_t shape, const std::vector<float>& v) {
  tensor t(dtype::f32, std::move(shape));
  std::copy(v.begin(), v.end(), t.data<float>());
  return t;
}

/// Runs the model once through the reference interpreter; the single output "y".
tensor run_reference(const onnx_model& m, const tensor& x) {
  auto g = load_onnx_bytes(m.bytes(), "");
  REQUIRE_MESSAGE(g.ok(), (g.ok() ? "" : g.error().message));
  auto interp = interpreter::create(std::make_shared<const graph>(std::move(*g)));
  REQUIRE_MESSAGE(interp.ok(), (interp.ok() ? "" : interp.error().message));
  auto out = interp->run({{"x", x}});
  REQUIRE_MESSAGE(out.ok(), (out.ok() ? "" : out.error().message));
  return out->at("y");
}

// ---- data -------------------------------------------------------------------------------

/// Uniform random values over the whole range of an 8-bit type (or [-1, 1) for float).
tensor random_tensor(dtype t, shape_t shape, std::mt19937& rng) {
  tensor r(t, std::move(shape));
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> real(-1.f, 1.f);
  for (std::int64_t i = 0; i < r.elements(); ++i) {
    if (t == dtype::f32)
      r.data<float>()[i] = real(rng);
    else
      r.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(byte(rng));
  }
  return r;
}

/// NCHW -> NHWC by plain loops, into a buffer with XNNPACK's read slack.
std::vector<unsigned char> to_nhwc(const tensor& t) {
  const auto& s = t.shape();
  const std::size_t es = size_of(t.type()), C = s[1], P = s[2] * s[3];
  std::vector<unsigned char> out(t.bytes() + xnn::input_slack_bytes);
  const auto* src = static_cast<const unsigned char*>(t.raw());
  for (std::int64_t n = 0; n < s[0]; ++n)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t p = 0; p < P; ++p) std::memcpy(&out[((n * P + p) * C + c) * es], &src[((n * C + c) * P + p) * es], es);
  return out;
}

/// NHWC bytes of shape [N, C, H, W] (logical) -> NCHW tensor, by plain loops.
tensor from_nhwc(const std::vector<unsigned char>& bytes, dtype type, const shape_t& s) {
  tensor t(type, s);
  const std::size_t es = size_of(type), C = s[1], P = s[2] * s[3];
  auto* dst = static_cast<unsigned char*>(t.raw());
  for (std::int64_t n = 0; n < s[0]; ++n)
    for (std::size_t c = 0; c < C; ++c)
      for (std::size_t p = 0; p < P; ++p) std::memcpy(&dst[((n * C + c) * P + p) * es], &bytes[((n * P + p) * C + c) * es], es);
  return t;
}

std::int32_t value_at(const tensor& t, std::int64_t i) {
  return t.type() == dtype::i8 ? t.data<std::int8_t>()[i] : t.data<std::uint8_t>()[i];
}

/// Compares quantized outputs: max |difference| in LSB and count of differing outputs,
/// reported, and required to be at most 1 LSB on at most 2 % of the outputs.
void check_lsb(const tensor& got, const tensor& want, const std::string& label) {
  REQUIRE(got.shape() == want.shape());
  REQUIRE(got.type() == want.type());
  std::int32_t worst = 0;
  std::int64_t differ = 0, saturated = 0;
  const std::int32_t lo = want.type() == dtype::i8 ? -128 : 0, hi = lo + 255;
  for (std::int64_t i = 0; i < want.elements(); ++i) {
    const std::int32_t d = std::abs(value_at(got, i) - value_at(want, i));
    worst = std::max(worst, d);
    differ += d != 0;
    saturated += value_at(want, i) == lo || value_at(want, i) == hi;
  }
  MESSAGE(label << ": max " << worst << " LSB, " << differ << " of " << want.elements() << " outputs differ ("
                << saturated << " saturated)");
  CHECK(worst <= 1);
  CHECK(differ * 50 <= want.elements());
  // The data must exercise the requantization, not just the saturation.
  CHECK(saturated * 4 <= want.elements());
}

// ---- QLinearConv ------------------------------------------------------------------------

struct conv_case {
  dtype x = dtype::u8, w = dtype::i8, y = dtype::u8;
  std::int64_t N = 2, C = 8, H = 11, W = 10, M = 12, KH = 3, KW = 3, group = 1;
  ints strides{1, 1}, dilations{1, 1}, pads{1, 1, 1, 1};
  bool per_channel = false, bias = true;
  std::vector<std::int32_t> w_zero;  // empty: 0
  std::int32_t x_zero = 0, y_zero = 0;
  std::optional<std::int32_t> clamp_min;  // fused Relu in the quantized domain
};

/// Builds both sides of one convolution case; returns the XNNPACK operator's variant.
xnn::qvariant check_conv(const conv_case& k, const std::string& label, std::uint32_t seed) {
  std::mt19937 rng(seed);
  const std::int64_t cg = k.C / k.group;
  const tensor x = random_tensor(k.x, {k.N, k.C, k.H, k.W}, rng);
  const tensor w = random_tensor(k.w, {k.M, cg, k.KH, k.KW}, rng);
  // Scales chosen so the outputs spread over most of the 8-bit range.
  const float xs = 0.05f, ws_base = 0.01f;
  std::vector<float> ws(k.per_channel ? k.M : 1);
  for (std::size_t i = 0; i < ws.size(); ++i) ws[i] = ws_base * (1.f + 0.37f * static_cast<float>(i % 5));
  const float ys = xs * ws_base * std::sqrt(static_cast<float>(cg * k.KH * k.KW)) * 74.f * 74.f / 50.f;
  tensor b(dtype::i32, {k.M});
  std::uniform_int_distribution<std::int32_t> bias_dist(-20000, 20000);
  for (std::int64_t i = 0; i < k.M; ++i) b.data<std::int32_t>()[i] = bias_dist(rng);

  onnx_model m(13);
  m.input("x", {k.N, k.C, k.H, k.W}, onnx_type(k.x));
  add_initializer(m, "xs", scalar<float>(dtype::f32, xs));
  add_initializer(m, "xz", zero_point(k.x, k.x_zero));
  add_initializer(m, "w", w);
  add_initializer(m, "ws", k.per_channel ? floats({k.M}, ws) : scalar<float>(dtype::f32, ws[0]));
  tensor wz(k.w, {k.w_zero.size() > 1 ? k.M : 1});
  for (std::int64_t i = 0; i < wz.elements(); ++i) {
    const std::int32_t z = k.w_zero.empty() ? 0 : k.w_zero[static_cast<std::size_t>(i)];
    if (k.w == dtype::i8) wz.data<std::int8_t>()[i] = static_cast<std::int8_t>(z);
    else wz.data<std::uint8_t>()[i] = static_cast<std::uint8_t>(z);
  }
  add_initializer(m, "wz", k.w_zero.size() > 1 ? wz : wz.reshaped({}));
  add_initializer(m, "ys", scalar<float>(dtype::f32, ys));
  add_initializer(m, "yz", zero_point(k.y, k.y_zero));
  std::vector<std::string> inputs{"x", "xs", "xz", "w", "ws", "wz", "ys", "yz"};
  if (k.bias) {
    add_initializer(m, "b", b);
    inputs.push_back("b");
  }
  auto& n = m.node("QLinearConv", inputs, {"y"});
  set_ints(n, "kernel_shape", {k.KH, k.KW});
  set_ints(n, "strides", k.strides);
  set_ints(n, "dilations", k.dilations);
  set_ints(n, "pads", k.pads);
  set_int(n, "group", k.group);
  add_output(m, "y", k.y);
  tensor want = run_reference(m, x);
  if (k.clamp_min)
    for (std::int64_t i = 0; i < want.elements(); ++i) {
      if (k.y == dtype::i8) want.data<std::int8_t>()[i] = std::max<std::int8_t>(want.data<std::int8_t>()[i], *k.clamp_min);
      else want.data<std::uint8_t>()[i] = std::max<std::uint8_t>(want.data<std::uint8_t>()[i], *k.clamp_min);
    }

  xnn::qconv_params p;
  p.input_shape = {k.N, k.C, k.H, k.W};
  p.input_type = k.x;
  p.input_scale = xs;
  p.input_zero_point = k.x_zero;
  p.weights = w;
  p.weight_scales = ws;
  p.weight_zero_points = k.w_zero;
  if (k.bias) p.bias = b;
  p.output_type = k.y;
  p.output_scale = ys;
  p.output_zero_point = k.y_zero;
  p.strides = {k.strides[0], k.strides[1]};
  p.dilations = {k.dilations[0], k.dilations[1]};
  p.pads = {k.pads[0], k.pads[1], k.pads[2], k.pads[3]};
  p.group = k.group;
  p.output_min = k.clamp_min;
  auto conv = xnn::qconv2d::create(p);
  REQUIRE_MESSAGE(conv.ok(), (conv.ok() ? "" : conv.error().message));
  REQUIRE(conv->output_shape() == want.shape());
  const auto in = to_nhwc(x);
  std::vector<unsigned char> out(conv->output_bytes());
  xnn::thread_pool single;
  REQUIRE(conv->run(in.data(), out.data(), single).ok());
  check_lsb(from_nhwc(out, k.y, want.shape()), want, label + " [" + conv->describe() + "]");
  return conv->variant();
}

}  // namespace

TEST_CASE("qconv2d uint8 3x3 with bias and batch 2 runs on qu8") {
  conv_case k;
  k.w = dtype::u8;
  k.x_zero = 120;
  k.w_zero = {131};
  k.y_zero = 128;
  CHECK(check_conv(k, "u8/u8 3x3", 1) == xnn::qvariant::qu8);
}

TEST_CASE("qconv2d int8 per-tensor with stride 2 and asymmetric pads runs on qs8") {
  conv_case k;
  k.x = k.y = dtype::i8;
  k.x_zero = -5;
  k.y_zero = 3;
  k.strides = {2, 2};
  k.pads = {0, 1, 2, 0};
  CHECK(check_conv(k, "s8 3x3 s2 asym pads", 2) == xnn::qvariant::qs8);
}

TEST_CASE("qconv2d int8 per-channel weights with dilation 2 and no bias runs on qc8") {
  conv_case k;
  k.x = k.y = dtype::i8;
  k.per_channel = true;
  k.bias = false;
  k.dilations = {2, 2};
  k.pads = {2, 2, 2, 2};
  k.x_zero = 7;
  CHECK(check_conv(k, "s8 per-channel d2", 3) == xnn::qvariant::qc8);
}

TEST_CASE("qconv2d uint8 activations with per-channel int8 weights flip to qc8") {
  conv_case k;
  k.per_channel = true;
  k.x_zero = 128;
  k.y_zero = 100;
  CHECK(check_conv(k, "u8 act, s8 per-channel w", 4) == xnn::qvariant::qc8);
}

TEST_CASE("qconv2d uint8 activations with per-tensor int8 weights shift to qu8") {
  conv_case k;
  k.KH = k.KW = 1;
  k.pads = {0, 0, 0, 0};
  k.C = 24;
  k.M = 20;
  k.x_zero = 125;
  k.y_zero = 128;
  CHECK(check_conv(k, "1x1 u8 act, s8 w", 5) == xnn::qvariant::qu8);
}

TEST_CASE("qconv2d grouped convolution with two groups") {
  conv_case k;
  k.x = k.y = dtype::i8;
  k.group = 2;
  k.per_channel = true;
  k.strides = {1, 2};
  CHECK(check_conv(k, "s8 group 2", 6) == xnn::qvariant::qc8);
}

TEST_CASE("qconv2d int8 depthwise 3x3 stride 2 per-channel") {
  conv_case k;
  k.x = k.y = dtype::i8;
  k.C = k.M = k.group = 16;
  k.per_channel = true;
  k.strides = {2, 2};
  k.pads = {1, 0, 1, 1};
  CHECK(check_conv(k, "s8 depthwise 3x3 s2", 7) == xnn::qvariant::qc8);
}

TEST_CASE("qconv2d uint8 depthwise 5x5 with channel multiplier 2") {
  conv_case k;
  k.w = dtype::u8;
  k.w_zero = {128};
  k.C = k.group = 8;
  k.M = 16;
  k.KH = k.KW = 5;
  k.pads = {2, 2, 2, 2};
  k.x_zero = 133;
  k.y_zero = 128;
  CHECK(check_conv(k, "u8 depthwise 5x5 x2", 8) == xnn::qvariant::qu8);
}

TEST_CASE("qconv2d int8 input to uint8 output flips the output") {
  conv_case k;
  k.x = dtype::i8;
  k.y = dtype::u8;
  k.y_zero = 128;
  CHECK(check_conv(k, "s8 in, u8 out", 9) == xnn::qvariant::qs8);
}

TEST_CASE("qconv2d int8 input with uint8 weights off 128 computes in qu8") {
  conv_case k;
  k.x = k.y = dtype::i8;
  k.w = dtype::u8;
  k.w_zero = {40};
  CHECK(check_conv(k, "s8 act, u8 w zp 40", 10) == xnn::qvariant::qu8);
}

TEST_CASE("qconv2d per-channel weight zero points that fit int8 run on qs8") {
  conv_case k;
  k.x = k.y = dtype::i8;
  k.w = dtype::u8;
  k.M = 4;
  k.w_zero = {128, 128, 128, 128};
  k.per_channel = true;
  CHECK(check_conv(k, "s8 act, u8 w per-channel zp 128", 11) == xnn::qvariant::qc8);
}

TEST_CASE("qconv2d fused Relu clamps at the output zero point") {
  conv_case k;
  k.x = k.y = dtype::i8;
  k.y_zero = -10;
  k.clamp_min = -10;
  k.per_channel = true;
  check_conv(k, "s8 + relu", 12);
  conv_case u;
  u.y_zero = 90;
  u.clamp_min = 90;
  check_conv(u, "u8 + relu", 13);
}

TEST_CASE("qconv2d rejects a weight scale count that is neither 1 nor M") {
  xnn::qconv_params p;
  p.input_shape = {1, 4, 8, 8};
  p.weights = tensor(dtype::i8, {6, 4, 3, 3});
  p.weight_scales = {0.1f, 0.2f, 0.3f};
  auto r = xnn::qconv2d::create(p);
  REQUIRE_FALSE(r.ok());
  CHECK(r.code() == errc::invalid_argument);
  CHECK(r.error().message.find("3 weight scales given, expected 1 or 6") != std::string::npos);
}

TEST_CASE("qconv2d rejects weights that do not fit the input channels") {
  xnn::qconv_params p;
  p.input_shape = {1, 4, 8, 8};
  p.weights = tensor(dtype::i8, {6, 3, 3, 3});
  p.weight_scales = {0.1f};
  auto r = xnn::qconv2d::create(p);
  REQUIRE_FALSE(r.ok());
  CHECK(r.code() == errc::invalid_argument);
  MESSAGE(r.error().message);
}

TEST_CASE("qconv2d refuses per-channel scales on uint8 weights that do not fit int8") {
  xnn::qconv_params p;
  p.input_shape = {1, 2, 4, 4};
  p.weights = tensor(dtype::u8, {2, 2, 1, 1});
  p.weights.data<std::uint8_t>()[0] = 250;
  p.weight_scales = {0.1f, 0.2f};
  p.weight_zero_points = {0};
  auto r = xnn::qconv2d::create(p);
  REQUIRE_FALSE(r.ok());
  CHECK(r.code() == errc::not_implemented);
  CHECK(r.error().message.find("per-channel") != std::string::npos);
}

namespace {

/// Runs `op` on X in buffer A (1 thread), on Y in buffer B (2 threads), then on Y copied
/// into A (1 thread). A stale input binding would make the second output equal the first;
/// buffers of different addresses and thread counts must agree; no run may allocate.
template <class Op>
void check_rebinding(Op& op, std::size_t input_bytes, std::mt19937& rng) {
  auto two = xnn::thread_pool::create(2);
  REQUIRE(two.ok());
  CHECK(two->threads() == 2);
  xnn::thread_pool one;
  std::uniform_int_distribution<int> byte(0, 255);
  std::vector<unsigned char> a(input_bytes + xnn::input_slack_bytes), b(a.size());
  // Bytes below 0x40 are valid 8-bit data and, read as float, finite values below 2.
  for (auto* buffer : {&a, &b})
    for (auto& v : *buffer) v = static_cast<unsigned char>(byte(rng) & 0x3F);
  std::vector<unsigned char> o1(op.output_bytes()), o2(op.output_bytes()), o3(op.output_bytes());
  const std::uint64_t before = xnn::allocations();
  REQUIRE(op.run(a.data(), o1.data(), one).ok());
  REQUIRE(op.run(b.data(), o2.data(), *two).ok());
  std::copy(b.begin(), b.end(), a.begin());
  REQUIRE(op.run(a.data(), o3.data(), one).ok());
  CHECK(xnn::allocations() == before);
  CHECK(o1 != o2);
  CHECK(o2 == o3);
}

}  // namespace

TEST_CASE("qconv2d rebinds buffers on every run, on 2 threads, without allocating") {
  std::mt19937 rng(21);
  for (int shape = 0; shape < 3; ++shape) {
    xnn::qconv_params p;
    const bool depthwise = shape == 2;
    p.input_shape = {2, 16, 20, 20};
    p.input_type = p.output_type = shape == 1 ? dtype::u8 : dtype::i8;  // u8: the flipped qc8 path
    p.input_scale = 0.05f;
    p.weights = random_tensor(dtype::i8, {depthwise ? 16 : 32, depthwise ? 1 : 16, 3, 3}, rng);
    p.weight_scales.assign(depthwise ? 16 : 32, 0.01f);
    p.weight_scales[3] = 0.02f;
    p.output_scale = 0.5f;
    p.pads = {1, 1, 1, 1};
    p.group = depthwise ? 16 : 1;
    p.strides = {depthwise ? 2 : 1, depthwise ? 2 : 1};
    const std::uint64_t before_create = xnn::allocations();
    auto conv = xnn::qconv2d::create(p);
    REQUIRE(conv.ok());
    CHECK(xnn::allocations() > before_create);  // the counter does see XNNPACK's allocations
    CHECK(conv->variant() == xnn::qvariant::qc8);
    INFO(conv->describe());
    check_rebinding(*conv, conv->input_bytes(), rng);
  }
}

TEST_CASE("pool2d rebinds buffers on every run, on 2 threads, without allocating") {
  std::mt19937 rng(22);
  xnn::pool_params p;
  p.input_shape = {2, 24, 15, 15};
  p.kernel = {3, 3};
  p.strides = {2, 2};
  p.pads = {1, 1, 1, 1};
  auto pool = xnn::pool2d::create(p);
  REQUIRE(pool.ok());
  check_rebinding(*pool, pool->input_bytes(), rng);
}

TEST_CASE("thread_pool rejects a thread count below 1") {
  auto r = xnn::thread_pool::create(0);
  REQUIRE_FALSE(r.ok());
  CHECK(r.code() == errc::invalid_argument);
}

// ---- QLinearMatMul / Gemm ---------------------------------------------------------------

namespace {

struct gemm_case {
  dtype a = dtype::u8, b = dtype::i8, y = dtype::u8;
  std::int64_t rows = 5, K = 37, N = 19;
  bool per_column = false;
  std::int32_t a_zero = 0, b_zero = 0, y_zero = 0;
};

xnn::qvariant check_gemm(const gemm_case& k, const std::string& label, std::uint32_t seed) {
  std::mt19937 rng(seed);
  const tensor a = random_tensor(k.a, {k.rows, k.K}, rng);
  const tensor b = random_tensor(k.b, {k.K, k.N}, rng);
  const float as = 0.04f;
  std::vector<float> bs(k.per_column ? k.N : 1);
  for (std::size_t i = 0; i < bs.size(); ++i) bs[i] = 0.01f * (1.f + 0.25f * static_cast<float>(i % 7));
  const float ys = as * 0.01f * std::sqrt(static_cast<float>(k.K)) * 74.f * 74.f / 50.f;
  onnx_model m(13);
  m.input("x", {k.rows, k.K}, onnx_type(k.a));
  add_initializer(m, "as", scalar<float>(dtype::f32, as));
  add_initializer(m, "az", zero_point(k.a, k.a_zero));
  add_initializer(m, "b", b);
  add_initializer(m, "bs", k.per_column ? floats({k.N}, bs) : scalar<float>(dtype::f32, bs[0]));
  add_initializer(m, "bz", zero_point(k.b, k.b_zero));
  add_initializer(m, "ys", scalar<float>(dtype::f32, ys));
  add_initializer(m, "yz", zero_point(k.y, k.y_zero));
  m.node("QLinearMatMul", {"x", "as", "az", "b", "bs", "bz", "ys", "yz"}, {"y"});
  add_output(m, "y", k.y);
  const tensor want = run_reference(m, a);

  xnn::qgemm_params p;
  p.rows = k.rows;
  p.input_type = k.a;
  p.input_scale = as;
  p.input_zero_point = k.a_zero;
  p.weights = b;
  p.weight_scales = bs;
  p.weight_zero_points = {k.b_zero};
  p.output_type = k.y;
  p.output_scale = ys;
  p.output_zero_point = k.y_zero;
  auto g = xnn::qgemm::create(p);
  REQUIRE_MESSAGE(g.ok(), (g.ok() ? "" : g.error().message));
  CHECK(g->in_features() == k.K);
  CHECK(g->out_features() == k.N);
  std::vector<unsigned char> in(a.bytes() + xnn::input_slack_bytes);
  std::memcpy(in.data(), a.raw(), a.bytes());
  tensor got(k.y, {k.rows, k.N});
  REQUIRE(g->run(in.data(), got.raw(), xnn::thread_pool()).ok());
  check_lsb(got, want, label + " [" + g->describe() + "]");
  return g->variant();
}

}  // namespace

TEST_CASE("qgemm uint8 activations with int8 weights matches QLinearMatMul") {
  gemm_case k;
  k.a_zero = 128;
  k.y_zero = 128;
  CHECK(check_gemm(k, "gemm u8 x s8", 31) == xnn::qvariant::qu8);
}

TEST_CASE("qgemm int8 with per-column weight scales matches QLinearMatMul") {
  gemm_case k;
  k.a = k.y = dtype::i8;
  k.per_column = true;
  k.a_zero = -3;
  k.y_zero = 5;
  CHECK(check_gemm(k, "gemm s8 per-column", 32) == xnn::qvariant::qc8);
}

TEST_CASE("qgemm uint8 weights with a zero point matches QLinearMatMul") {
  gemm_case k;
  k.b = dtype::u8;
  k.b_zero = 100;
  k.a_zero = 128;
  k.y_zero = 120;
  k.rows = 1;
  k.K = 64;
  CHECK(check_gemm(k, "gemm u8 x u8", 33) == xnn::qvariant::qu8);
}

TEST_CASE("qgemm with transposed weights and bias matches a 1x1 QLinearConv") {
  std::mt19937 rng(34);
  const std::int64_t rows = 6, K = 40, N = 10;
  const tensor a = random_tensor(dtype::i8, {rows, K}, rng);
  const tensor w = random_tensor(dtype::i8, {N, K}, rng);  // Gemm transB = 1 layout
  tensor bias(dtype::i32, {N});
  for (std::int64_t i = 0; i < N; ++i) bias.data<std::int32_t>()[i] = static_cast<std::int32_t>(i * 997 - 4000);
  const float xs = 0.05f, ws = 0.01f, ys = 0.6f;
  onnx_model m(13);
  m.input("x", {rows, K, 1, 1}, onnx_type(dtype::i8));
  add_initializer(m, "xs", scalar<float>(dtype::f32, xs));
  add_initializer(m, "xz", zero_point(dtype::i8, 2));
  add_initializer(m, "w", w.reshaped({N, K, 1, 1}));
  add_initializer(m, "ws", scalar<float>(dtype::f32, ws));
  add_initializer(m, "wz", zero_point(dtype::i8, 0));
  add_initializer(m, "ys", scalar<float>(dtype::f32, ys));
  add_initializer(m, "yz", zero_point(dtype::i8, -1));
  add_initializer(m, "b", bias);
  m.node("QLinearConv", {"x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"}, {"y"});
  add_output(m, "y", dtype::i8);
  const tensor want = run_reference(m, a.reshaped({rows, K, 1, 1}));

  xnn::qgemm_params p;
  p.rows = rows;
  p.input_type = p.output_type = dtype::i8;
  p.input_scale = xs;
  p.input_zero_point = 2;
  p.weights = w;
  p.weights_transposed = true;
  p.weight_scales = {ws};
  p.bias = bias;
  p.output_scale = ys;
  p.output_zero_point = -1;
  auto g = xnn::qgemm::create(p);
  REQUIRE(g.ok());
  CHECK(g->variant() == xnn::qvariant::qs8);
  std::vector<unsigned char> in(a.bytes() + xnn::input_slack_bytes);
  std::memcpy(in.data(), a.raw(), a.bytes());
  tensor got(dtype::i8, {rows, N, 1, 1});
  REQUIRE(g->run(in.data(), got.raw(), xnn::thread_pool()).ok());
  check_lsb(got, want, "gemm s8 transB + bias [" + g->describe() + "]");
}

TEST_CASE("qgemm rejects a bias of the wrong length with a clear message") {
  xnn::qgemm_params p;
  p.rows = 2;
  p.weights = tensor(dtype::i8, {8, 4});
  p.weight_scales = {0.1f};
  p.bias = tensor(dtype::i32, {5});
  auto g = xnn::qgemm::create(p);
  REQUIRE_FALSE(g.ok());
  CHECK(g.code() == errc::invalid_argument);
  CHECK(g.error().message.rfind("qgemm: bias must be int32 [4]", 0) == 0);
}

// ---- pooling ----------------------------------------------------------------------------

namespace {

struct pool_case {
  xnn::pool_kind kind = xnn::pool_kind::max;
  dtype type = dtype::f32;
  std::int64_t N = 2, C = 5, H = 13, W = 11;
  ints kernel{3, 3}, strides{2, 2}, dilations{1, 1}, pads{1, 1, 1, 1};
  bool ceil_mode = false, count_include_pad = false;
  float xs = 0.1f, ys = 0.07f;
  std::int32_t xz = 0, yz = 0;
};

xnn::pool_params to_params(const pool_case& k) {
  xnn::pool_params p;
  p.kind = k.kind;
  p.type = k.type;
  p.input_shape = {k.N, k.C, k.H, k.W};
  p.kernel = {k.kernel[0], k.kernel[1]};
  p.strides = {k.strides[0], k.strides[1]};
  p.dilations = {k.dilations[0], k.dilations[1]};
  p.pads = {k.pads[0], k.pads[1], k.pads[2], k.pads[3]};
  p.ceil_mode = k.ceil_mode;
  p.count_include_pad = k.count_include_pad;
  p.input_scale = k.xs;
  p.input_zero_point = k.xz;
  p.output_scale = k.ys;
  p.output_zero_point = k.yz;
  return p;
}

/// The reference: the pooling node itself, or DequantizeLinear -> pool -> QuantizeLinear for
/// quantized average pooling.
tensor reference_pool(const pool_case& k, const tensor& x) {
  onnx_model m(13);
  m.input("x", {k.N, k.C, k.H, k.W}, onnx_type(k.type));
  const bool qdq = k.type != dtype::f32 && k.kind != xnn::pool_kind::max;
  std::string in = "x", out = "y";
  if (qdq) {
    add_initializer(m, "xs", scalar<float>(dtype::f32, k.xs));
    add_initializer(m, "xz", zero_point(k.type, k.xz));
    add_initializer(m, "ys", scalar<float>(dtype::f32, k.ys));
    add_initializer(m, "yz", zero_point(k.type, k.yz));
    m.node("DequantizeLinear", {"x", "xs", "xz"}, {"xf"});
    m.node("QuantizeLinear", {"yf", "ys", "yz"}, {"y"});
    in = "xf";
    out = "yf";
  }
  if (k.kind == xnn::pool_kind::global_average) {
    m.node("GlobalAveragePool", {in}, {out});
  } else {
    auto& n = m.node(k.kind == xnn::pool_kind::max ? "MaxPool" : "AveragePool", {in}, {out});
    set_ints(n, "kernel_shape", k.kernel);
    set_ints(n, "strides", k.strides);
    set_ints(n, "pads", k.pads);
    set_int(n, "ceil_mode", k.ceil_mode ? 1 : 0);
    if (k.kind == xnn::pool_kind::max) set_ints(n, "dilations", k.dilations);
    else set_int(n, "count_include_pad", k.count_include_pad ? 1 : 0);
  }
  add_output(m, "y", k.type);
  return run_reference(m, x);
}

void check_pool(const pool_case& k, const std::string& label, std::uint32_t seed) {
  std::mt19937 rng(seed);
  const tensor x = random_tensor(k.type, {k.N, k.C, k.H, k.W}, rng);
  const tensor want = reference_pool(k, x);
  auto pool = xnn::pool2d::create(to_params(k));
  REQUIRE_MESSAGE(pool.ok(), (pool.ok() ? "" : pool.error().message));
  REQUIRE(pool->output_shape() == want.shape());
  const auto in = to_nhwc(x);
  std::vector<unsigned char> out(pool->output_bytes());
  REQUIRE(pool->run(in.data(), out.data(), xnn::thread_pool()).ok());
  const tensor got = from_nhwc(out, k.type, want.shape());
  if (k.type != dtype::f32) {
    check_lsb(got, want, label + " [" + pool->describe() + "]");
    return;
  }
  double worst = 0;
  for (std::int64_t i = 0; i < want.elements(); ++i)
    worst = std::max(worst, std::fabs(static_cast<double>(got.data<float>()[i]) - want.data<float>()[i]));
  MESSAGE(label << " [" << pool->describe() << "]: max abs difference " << worst << " over " << want.elements());
  if (k.kind == xnn::pool_kind::max) CHECK(worst == 0.0);
  else CHECK(worst <= 1e-6);
}

}  // namespace

TEST_CASE("pool2d float max pooling 3x3 stride 2 equals MaxPool exactly") {
  check_pool(pool_case{}, "max f32 3x3 s2", 41);
}

TEST_CASE("pool2d float max pooling with dilation, asymmetric pads and ceil_mode") {
  pool_case k;
  k.kernel = {2, 3};
  k.dilations = {2, 1};
  k.pads = {0, 1, 1, 0};
  k.ceil_mode = true;
  check_pool(k, "max f32 dilated ceil", 42);
}

TEST_CASE("pool2d float average pooling excluding padding matches AveragePool") {
  pool_case k;
  k.kind = xnn::pool_kind::average;
  check_pool(k, "avg f32 3x3 s2 pad 1", 43);
  k.ceil_mode = true;
  k.pads = {0, 0, 1, 0};
  check_pool(k, "avg f32 ceil", 44);
}

TEST_CASE("pool2d float average pooling without padding counting pads") {
  pool_case k;
  k.kind = xnn::pool_kind::average;
  k.pads = {0, 0, 0, 0};
  k.count_include_pad = true;
  k.kernel = {2, 2};
  check_pool(k, "avg f32 2x2 s2", 45);
}

TEST_CASE("pool2d float global average pooling matches GlobalAveragePool") {
  pool_case k;
  k.kind = xnn::pool_kind::global_average;
  check_pool(k, "global avg f32", 46);
}

TEST_CASE("pool2d uint8 and int8 max pooling equal MaxPool") {
  pool_case k;
  k.type = dtype::u8;
  check_pool(k, "max u8", 47);
  k.type = dtype::i8;
  k.pads = {1, 0, 0, 1};
  check_pool(k, "max s8", 48);
}

TEST_CASE("pool2d quantized average pooling counting padding matches the QDQ reference") {
  pool_case k;
  k.C = 16;
  k.kind = xnn::pool_kind::average;
  k.type = dtype::u8;
  k.count_include_pad = true;
  k.xz = 128;
  k.yz = 120;
  check_pool(k, "avg u8 3x3 s2 pad 1", 49);
  k.type = dtype::i8;
  k.xz = -4;
  k.yz = 9;
  check_pool(k, "avg s8 3x3 s2 pad 1", 50);
}

TEST_CASE("pool2d quantized global average pooling matches the QDQ reference") {
  pool_case k;
  k.kind = xnn::pool_kind::global_average;
  k.H = k.W = 7;
  k.C = 40;
  k.ys = 0.02f;  // averages of uniform data gather near the middle; a finer output scale spreads them
  k.type = dtype::u8;
  k.xz = 128;
  k.yz = 128;
  check_pool(k, "global avg u8", 51);
  k.type = dtype::i8;
  k.xz = 0;
  k.yz = 0;
  check_pool(k, "global avg s8", 52);
}

TEST_CASE("pool2d refuses average pooling whose padding rule XNNPACK lacks") {
  pool_case k;
  k.kind = xnn::pool_kind::average;
  k.count_include_pad = true;  // float with padding: XNNPACK excludes padding
  auto f = xnn::pool2d::create(to_params(k));
  REQUIRE_FALSE(f.ok());
  CHECK(f.code() == errc::not_implemented);
  MESSAGE(f.error().message);
  k.type = dtype::u8;
  k.count_include_pad = false;  // quantized with padding: XNNPACK counts padding
  auto q = xnn::pool2d::create(to_params(k));
  REQUIRE_FALSE(q.ok());
  CHECK(q.code() == errc::not_implemented);
  MESSAGE(q.error().message);
}

TEST_CASE("pool2d rejects a malformed input shape") {
  xnn::pool_params p;
  p.input_shape = {1, 3, 8};
  auto r = xnn::pool2d::create(p);
  REQUIRE_FALSE(r.ok());
  CHECK(r.code() == errc::invalid_argument);
}

// ---- layout -----------------------------------------------------------------------------

TEST_CASE("nchw_to_nhwc and back reproduce plain transposes for 1- and 4-byte elements") {
  std::mt19937 rng(61);
  auto two = xnn::thread_pool::create(2);
  REQUIRE(two.ok());
  for (dtype t : {dtype::u8, dtype::f32}) {
    const tensor x = random_tensor(t, {3, 37, 9, 7}, rng);  // tile-unaligned on both axes
    const xnn::image_dims dims{3, 37, 63};
    std::vector<unsigned char> nhwc(x.bytes());
    REQUIRE(xnn::nchw_to_nhwc(x.raw(), nhwc.data(), dims, size_of(t), &*two).ok());
    auto expected = to_nhwc(x);
    expected.resize(x.bytes());
    CHECK(nhwc == expected);
    tensor back(t, x.shape());
    REQUIRE(xnn::nhwc_to_nchw(nhwc.data(), back.raw(), dims, size_of(t)).ok());
    CHECK(std::memcmp(back.raw(), x.raw(), x.bytes()) == 0);
  }
}

TEST_CASE("layout conversion rejects 2-byte elements") {
  unsigned char a[8] = {}, b[8] = {};
  auto r = xnn::nchw_to_nhwc(a, b, {1, 2, 2}, 2);
  REQUIRE_FALSE(r.ok());
  CHECK(r.code() == errc::invalid_argument);
}

TEST_CASE("qconv2d refuses a requantization scale of 256 or more") {
  xnn::qconv_params p;
  p.input_shape = {1, 4, 5, 5};
  p.input_type = p.output_type = dtype::i8;
  p.weights = tensor(dtype::i8, {2, 4, 3, 3});
  p.weight_scales = {0.5f, 1.f};
  p.output_scale = 1.f / 512;
  auto r = xnn::qconv2d::create(p);
  REQUIRE_FALSE(r.ok());
  CHECK(r.code() == errc::not_implemented);
  CHECK(r.error().message.find("below 256") != std::string::npos);
}

TEST_CASE("qconv2d refuses per-channel zero points on full-range int8 weights") {
  std::mt19937 rng(71);
  xnn::qconv_params p;
  p.input_shape = {1, 4, 5, 5};
  p.input_type = p.output_type = dtype::i8;
  p.weights = random_tensor(dtype::i8, {2, 4, 3, 3}, rng);
  p.weights.data<std::int8_t>()[0] = -128;  // -128 - 3 leaves the int8 range
  p.weight_scales = {0.01f};
  p.weight_zero_points = {3, -1};
  auto r = xnn::qconv2d::create(p);
  REQUIRE_FALSE(r.ok());
  CHECK(r.code() == errc::not_implemented);
  CHECK(r.error().message.find("per-channel weight zero points") != std::string::npos);
}
