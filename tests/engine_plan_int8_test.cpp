// The int8 backend of engine::plan (engine/plan/int8/): quantized groups run as integer
// kernels and give exactly the ONNX result. Planned QLinearConv / QLinearMatMul graphs are
// compared bit for bit with the interpreter's reference kernels (exact requantization), QDQ
// groups with the equivalent QLinear graph, and the committed MNIST models with their
// generator's exact outputs.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "engine/npy.hpp"
#include "engine/plan/int8/exact_scale.hpp"
#include "engine_plan_harness.hpp"

using namespace edgert;
using namespace edgert::engine;
using edgert::test::onnx_model;

namespace {

onnx::TensorProto& int_initializer(onnx_model& m, const std::string& name, const std::vector<std::int64_t>& dims,
                                   int type, const std::vector<std::int32_t>& values) {
  auto* t = m.graph().add_initializer();
  t->set_name(name);
  t->set_data_type(type);
  for (auto d : dims) t->add_dims(d);
  std::string raw;
  for (auto v : values) {
    if (type == onnx::TensorProto_DataType_INT32) raw.append(reinterpret_cast<const char*>(&v), 4);
    else raw.push_back(static_cast<char>(v));
  }
  t->set_raw_data(raw);
  return *t;
}

std::vector<std::int32_t> random_ints(std::size_t n, std::int32_t lo, std::int32_t hi, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::int32_t> d(lo, hi);
  std::vector<std::int32_t> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

tensor random_q8(dtype t, const shape_t& shape, std::uint32_t seed) {
  tensor x(t, shape);
  auto v = random_ints(static_cast<std::size_t>(x.elements()), t == dtype::i8 ? -128 : 0, t == dtype::i8 ? 127 : 255, seed);
  for (std::int64_t i = 0; i < x.elements(); ++i) static_cast<std::uint8_t*>(x.raw())[i] = static_cast<std::uint8_t>(v[i]);
  return x;
}

int onnx_type(dtype t) { return t == dtype::i8 ? onnx::TensorProto_DataType_INT8 : onnx::TensorProto_DataType_UINT8; }

struct conv_case {
  dtype act = dtype::u8;
  std::int64_t C = 8, M = 8, H = 9, W = 9, k = 3, group = 1, stride = 1, pad = 1;
  bool per_channel = true;
  bool bias = true;
  std::uint32_t seed = 1;
};

// Parameters shared by the QLinearConv and the QDQ form of one convolution.
struct conv_params {
  std::vector<std::int32_t> w, b;
  std::vector<float> ws;
  // Scales with few significant bits, as quantizers emit them: xs * ws[m] is exact in float32,
  // so the QDQ bias scale equals the accumulator scale.
  float xs = 11.0f / 512.0f, ys = 0.173f;
  std::int32_t xz = 0, yz = 0;
};

conv_params make_params(const conv_case& c) {
  conv_params p;
  const std::int64_t per = c.C / c.group * c.k * c.k;
  p.w = random_ints(static_cast<std::size_t>(c.M * per), -128, 127, c.seed);  // full range
  for (std::int64_t m = 0; m < c.M; ++m) p.w[static_cast<std::size_t>(m * per)] = m % 2 ? 127 : -128;
  p.b = random_ints(static_cast<std::size_t>(c.M), -20000, 20000, c.seed + 1);
  for (std::int64_t m = 0; m < (c.per_channel ? c.M : 1); ++m) p.ws.push_back(static_cast<float>(25 + 3 * m) / 8192.0f);
  p.xz = c.act == dtype::i8 ? -7 : 121;
  p.yz = c.act == dtype::i8 ? 5 : 131;
  return p;
}

void conv_attributes(onnx::NodeProto& n, const conv_case& c) {
  test::set_ints(n, "kernel_shape", {c.k, c.k});
  test::set_ints(n, "strides", {c.stride, c.stride});
  test::set_ints(n, "pads", {c.pad, c.pad, c.pad, c.pad});
  test::set_int(n, "group", c.group);
}

std::int64_t out_extent(const conv_case& c, std::int64_t in) { return (in + 2 * c.pad - c.k) / c.stride + 1; }

onnx_model qlinear_conv_model(const conv_case& c, const conv_params& p) {
  onnx_model m;
  const int t = onnx_type(c.act);
  m.input("x", {1, c.C, c.H, c.W}, t);
  m.initializer("xs", {}, {p.xs});
  int_initializer(m, "xz", {}, t, {p.xz});
  int_initializer(m, "w", {c.M, c.C / c.group, c.k, c.k}, onnx::TensorProto_DataType_INT8, p.w);
  m.initializer("ws", {static_cast<std::int64_t>(p.ws.size())}, p.ws);
  m.initializer("ys", {}, {p.ys});
  int_initializer(m, "yz", {}, t, {p.yz});
  std::vector<std::string> ins{"x", "xs", "xz", "w", "ws", "", "ys", "yz"};
  if (c.bias) {
    int_initializer(m, "b", {c.M}, onnx::TensorProto_DataType_INT32, p.b);
    ins.push_back("b");
  }
  conv_attributes(m.node("QLinearConv", ins, {"y"}, "qconv"), c);
  m.output("y", {1, c.M, out_extent(c, c.H), out_extent(c, c.W)}, t);
  return m;
}

// DequantizeLinear -> Conv -> QuantizeLinear with the same numbers (bias scale xs * ws[m]).
onnx_model qdq_conv_model(const conv_case& c, const conv_params& p) {
  onnx_model m;
  const int t = onnx_type(c.act);
  m.input("x", {1, c.C, c.H, c.W}, t);
  m.initializer("xs", {}, {p.xs});
  int_initializer(m, "xz", {}, t, {p.xz});
  m.node("DequantizeLinear", {"x", "xs", "xz"}, {"xf"});
  int_initializer(m, "w", {c.M, c.C / c.group, c.k, c.k}, onnx::TensorProto_DataType_INT8, p.w);
  m.initializer("ws", {static_cast<std::int64_t>(p.ws.size())}, p.ws);
  auto& dw = m.node("DequantizeLinear", {"w", "ws"}, {"wf"});
  if (p.ws.size() > 1) test::set_int(dw, "axis", 0);
  std::vector<std::string> conv_ins{"xf", "wf"};
  if (c.bias) {
    int_initializer(m, "b", {c.M}, onnx::TensorProto_DataType_INT32, p.b);
    std::vector<float> bs;
    for (std::int64_t i = 0; i < c.M; ++i) bs.push_back(p.xs * p.ws[p.ws.size() == 1 ? 0 : static_cast<std::size_t>(i)]);
    m.initializer("bs", {c.M}, bs);
    auto& db = m.node("DequantizeLinear", {"b", "bs"}, {"bf"});
    test::set_int(db, "axis", 0);
    conv_ins.push_back("bf");
  }
  conv_attributes(m.node("Conv", conv_ins, {"yf"}, "conv"), c);
  m.initializer("ys", {}, {p.ys});
  int_initializer(m, "yz", {}, t, {p.yz});
  m.node("QuantizeLinear", {"yf", "ys", "yz"}, {"y"});
  m.output("y", {1, c.M, out_extent(c, c.H), out_extent(c, c.W)}, t);
  return m;
}

void check_qlinear_conv(const conv_case& c) {
  const conv_params p = make_params(c);
  auto g = test::load(qlinear_conv_model(c, p));
  std::map<std::string, tensor> in{{"x", random_q8(c.act, {1, c.C, c.H, c.W}, c.seed + 7)}};
  // Both convolution paths, whichever the CPU would pick: oneDNN's native int8 (on VNNI)
  // and the float accumulation that EDGERT_INT8_NATIVE=0 forces.
  for (bool native_allowed : {true, false}) {
    if (native_allowed)
      unsetenv("EDGERT_INT8_NATIVE");
    else
      setenv("EDGERT_INT8_NATIVE", "0", 1);
    for (int threads : {1, 2}) {
      INFO("native allowed: " << native_allowed << " threads: " << threads);
      plan_options o;
      o.threads = threads;
      auto planned = test::check_against_oracle(g, in, o);
      CHECK(planned->describe().find("int8:onednn") != std::string::npos);
      if (!native_allowed) CHECK(planned->describe().find("int8:onednn-s8") == std::string::npos);
    }
  }
  unsetenv("EDGERT_INT8_NATIVE");
}

bool same_bytes(const tensor& a, const tensor& b) {
  return a.type() == b.type() && a.shape() == b.shape() && std::memcmp(a.raw(), b.raw(), a.bytes()) == 0;
}

}  // namespace

TEST_CASE("exact_scale rounds half to even and agrees with 128-bit arithmetic") {
  auto half = planning::int8::exact_scale::make({0.5f}, {1.0f});
  REQUIRE(half);
  CHECK(half->rescale(1) == 0);
  CHECK(half->rescale(3) == 2);
  CHECK(half->rescale(-3) == -2);
  CHECK(half->rescale(5) == 2);
  auto s = planning::int8::exact_scale::make({0.0215f, 0.00347f}, {0.173f});
  REQUIRE(s);
  for (std::int64_t v = -3000000; v <= 3000000; v += 997) CHECK(s->rescale(v) == s->exact(v));
}

TEST_CASE("exact_scale falls back to float64 rounding when a product is too wide for 128 bits") {
  // Four scales with full 24-bit mantissas: a numerator of about 96 bits.
  auto wide = planning::int8::exact_scale::make({0.7071067f, 0.5773502f, 0.3183098f, 0.4342944f}, {1.0f});
  REQUIRE(wide);
  for (std::int64_t v : {std::int64_t{1} << 35, -(std::int64_t{1} << 35) - 12345}) {
    const double t = static_cast<double>(v) * wide->approx();
    const std::int64_t expected = t >= 4194304.0 ? 4194304 : t <= -4194304.0 ? -4194304 : std::llrint(t);
    CHECK(wide->exact(v) == expected);
    CHECK(wide->rescale(v) == expected);
  }
  CHECK(wide->exact(1000) == std::llrint(1000.0 * wide->approx()));
}

TEST_CASE("planned QLinearConv is bit exact for uint8 and int8 activations with per-channel weights and bias") {
  for (dtype act : {dtype::u8, dtype::i8}) {
    conv_case c;
    c.act = act;
    check_qlinear_conv(c);
  }
}

TEST_CASE("planned QLinearConv is bit exact for depthwise grouped strided and per-tensor convolutions") {
  conv_case dw;
  dw.C = dw.M = 16;
  dw.group = 16;
  dw.act = dtype::i8;
  check_qlinear_conv(dw);
  conv_case grouped;
  grouped.C = 8;
  grouped.M = 12;
  grouped.group = 2;
  grouped.stride = 2;
  grouped.bias = false;
  check_qlinear_conv(grouped);
  conv_case tensor_scale;
  tensor_scale.per_channel = false;
  tensor_scale.k = 1;
  tensor_scale.pad = 0;
  check_qlinear_conv(tensor_scale);
}

TEST_CASE("planned QLinearConv is bit exact when the weights must be split for float accumulation") {
  conv_case wide;  // 64 x 3 x 3 full-range weights: sum |w| * 255 exceeds 2^24
  wide.C = 64;
  wide.M = 16;
  wide.H = wide.W = 6;
  check_qlinear_conv(wide);
}

TEST_CASE("a planned QDQ convolution equals the QLinearConv reference bit for bit") {
  for (dtype act : {dtype::u8, dtype::i8}) {
    conv_case c;
    c.act = act;
    c.seed = 11;
    const conv_params p = make_params(c);
    std::map<std::string, tensor> in{{"x", random_q8(act, {1, c.C, c.H, c.W}, 5)}};
    auto oracle = interpreter::create(test::load(qlinear_conv_model(c, p)));
    REQUIRE(oracle.ok());
    auto want = oracle->run(in);
    REQUIRE(want.ok());
    auto planned = plan::create(test::load(qdq_conv_model(c, p)));
    REQUIRE_MESSAGE(planned.ok(), planned.error().message);
    INFO((*planned)->describe());
    CHECK((*planned)->describe().find("reference") == std::string::npos);
    auto e = (*planned)->make_executor();
    REQUIRE(e.ok());
    auto got = (*e)->run(in);
    REQUIRE(got.ok());
    CHECK(same_bytes(got->at("y"), want->at("y")));
  }
}

TEST_CASE("planned QLinearMatMul with per-column scales is bit exact") {
  onnx_model m;
  const std::int64_t K = 40, N = 12;
  m.input("a", {3, K}, onnx::TensorProto_DataType_UINT8);
  m.initializer("as", {}, {0.0173f});
  int_initializer(m, "az", {}, onnx::TensorProto_DataType_UINT8, {117});
  int_initializer(m, "b", {K, N}, onnx::TensorProto_DataType_INT8, random_ints(K * N, -128, 127, 3));
  std::vector<float> bs;
  for (std::int64_t j = 0; j < N; ++j) bs.push_back(0.002f + 0.0003f * static_cast<float>(j));
  m.initializer("bs", {N}, bs);
  int_initializer(m, "bz", {}, onnx::TensorProto_DataType_INT8, {0});
  m.initializer("ys", {}, {0.0411f});
  int_initializer(m, "yz", {}, onnx::TensorProto_DataType_UINT8, {128});
  m.node("QLinearMatMul", {"a", "as", "az", "b", "bs", "bz", "ys", "yz"}, {"y"});
  m.output("y", {3, N}, onnx::TensorProto_DataType_UINT8);
  auto planned = test::check_against_oracle(test::load(m), {{"a", random_q8(dtype::u8, {3, K}, 9)}}, plan_options{});
  CHECK(planned->describe().find("int8:loops") != std::string::npos);
}

// DequantizeLinear(a) + DequantizeLinear(b) -> QuantizeLinear with scales a power of two
// apart, so the exact result is integer arithmetic the test can do itself:
// y = zy + round_half_even(((a - za) + 2 (b - zb)) / divisor), saturated.
void check_qdq_add(dtype t, float ys, std::int32_t divisor) {
  onnx_model m;
  const int type = onnx_type(t);
  const shape_t shape{1, 4, 8, 8};
  const std::int32_t za = t == dtype::i8 ? -3 : 125, zb = t == dtype::i8 ? 6 : 130, zy = t == dtype::i8 ? -1 : 127;
  m.input("a", shape, type);
  m.input("b", shape, type);
  m.initializer("as", {}, {0.25f});
  m.initializer("bs", {}, {0.5f});
  m.initializer("ys", {}, {ys});
  int_initializer(m, "az", {}, type, {za});
  int_initializer(m, "bz", {}, type, {zb});
  int_initializer(m, "yz", {}, type, {zy});
  m.node("DequantizeLinear", {"a", "as", "az"}, {"af"});
  m.node("DequantizeLinear", {"b", "bs", "bz"}, {"bf"});
  m.node("Add", {"af", "bf"}, {"sum"});
  m.node("QuantizeLinear", {"sum", "ys", "yz"}, {"y"});
  m.output("y", shape, type);
  const tensor a = random_q8(t, shape, 21), b = random_q8(t, shape, 22);
  auto planned = plan::create(test::load(m));
  REQUIRE(planned.ok());
  CHECK((*planned)->describe().find("int8:loops") != std::string::npos);
  auto e = (*planned)->make_executor();
  REQUIRE(e.ok());
  auto out = (*e)->run({{"a", a}, {"b", b}});
  REQUIRE(out.ok());
  const tensor& y = out->at("y");
  const bool is_signed = t == dtype::i8;
  auto value = [&](const tensor& x, std::int64_t i) -> std::int32_t {
    const std::uint8_t byte = static_cast<const std::uint8_t*>(x.raw())[i];
    return is_signed ? static_cast<std::int8_t>(byte) : byte;
  };
  std::int64_t ties = 0, wrong = 0;
  for (std::int64_t i = 0; i < y.elements(); ++i) {
    const std::int32_t n = (value(a, i) - za) + 2 * (value(b, i) - zb);
    std::int32_t q = n / divisor, r = n % divisor;
    if (r < 0) { q -= 1; r += divisor; }  // floor division
    if (2 * r > divisor || (2 * r == divisor && (q & 1))) q += 1;
    ties += 2 * r == divisor;
    const std::int32_t want = std::clamp(q + zy, is_signed ? -128 : 0, is_signed ? 127 : 255);
    wrong += value(y, i) != want;
  }
  INFO("ties: " << ties);
  CHECK(wrong == 0);
  if (divisor == 2) CHECK(ties > 0);  // the tie path was taken
}

TEST_CASE("a planned QDQ Add is exact at rounding ties and away from them") {
  for (dtype t : {dtype::u8, dtype::i8}) {
    check_qdq_add(t, 0.5f, 2);   // y = n / 2: every odd n is a tie
    check_qdq_add(t, 0.75f, 3);  // y = n / 3: never a tie
  }
}

TEST_CASE("the committed quantized MNIST models run on int8 kernels and are exact at 1 and 2 threads") {
  for (const char* name : {"mnist_cnn_qdq", "mnist_cnn_qlinear"}) {
    const auto dir = std::filesystem::path(EDGERT_TEST_DATA_DIR) / "models" / name;
    auto g = load_onnx_file(dir / "model.onnx");
    REQUIRE(g.ok());
    auto shared = std::make_shared<const graph>(std::move(*g));
    auto input = read_npy(dir / "input_0.npy");
    auto expected = read_npy(dir / "expected_output_0.npy");
    REQUIRE((input.ok() && expected.ok()));
    for (int threads : {1, 2}) {
      INFO(name << " threads " << threads);
      plan_options o;
      o.threads = threads;
      auto p = plan::create(shared, o);
      REQUIRE(p.ok());
      const std::string d = (*p)->describe();
      CHECK(d.find("int8:onednn") != std::string::npos);
      CHECK(d.find("Conv  reference") == std::string::npos);
      auto e = (*p)->make_executor();
      REQUIRE(e.ok());
      auto out = (*e)->run({{(*p)->inputs().at(0).name, *input}});
      REQUIRE(out.ok());
      CHECK(same_bytes(out->begin()->second, *expected));
    }
  }
}
