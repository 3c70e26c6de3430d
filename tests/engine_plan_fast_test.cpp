// The plan's fast paths (oneDNN Conv/Gemm/MatMul with fusions, the loops backend's pooling,
// Add and activations, layout conversions) against the reference interpreter, on small
// seeded random graphs; and executors running on two threads at once.
#include <doctest/doctest.h>

#include <thread>

#include "engine_plan_harness.hpp"

using namespace edgert;
using namespace edgert::engine;
using namespace edgert::test;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

struct conv_case {
  std::int64_t c = 4, m = 8, h = 9, w = 7, k = 3, group = 1;
  std::vector<std::int64_t> strides{1, 1}, pads{1, 1, 1, 1}, dilations{1, 1};
  bool bias = true;
  std::string auto_pad;
};

// Adds Conv(x) -> out to m; returns nothing. Weights/bias are seeded by `seed`.
void add_conv(onnx_model& m, const std::string& x, const std::string& out, const conv_case& c, std::uint32_t seed) {
  const std::vector<std::int64_t> wd{c.m, c.c / c.group, c.k, c.k};
  m.initializer(out + ".w", wd, random_values(count_of(wd), seed, -0.5f, 0.5f));
  std::vector<std::string> ins{x, out + ".w"};
  if (c.bias) {
    m.initializer(out + ".b", {c.m}, random_values(static_cast<std::size_t>(c.m), seed + 1));
    ins.push_back(out + ".b");
  }
  auto& n = m.node("Conv", ins, {out}, out);
  set_ints(n, "strides", c.strides);
  set_ints(n, "dilations", c.dilations);
  set_int(n, "group", c.group);
  if (c.auto_pad.empty()) set_ints(n, "pads", c.pads);
  else set_string(n, "auto_pad", c.auto_pad);
}

void add_batch_norm(onnx_model& m, const std::string& x, const std::string& out, std::int64_t channels, std::uint32_t seed) {
  const auto n = static_cast<std::size_t>(channels);
  m.initializer(out + ".scale", {channels}, random_values(n, seed, 0.5f, 1.5f));
  m.initializer(out + ".shift", {channels}, random_values(n, seed + 1));
  m.initializer(out + ".mean", {channels}, random_values(n, seed + 2));
  m.initializer(out + ".var", {channels}, random_values(n, seed + 3, 0.2f, 2.0f));
  auto& bn = m.node("BatchNormalization", {x, out + ".scale", out + ".shift", out + ".mean", out + ".var"}, {out}, out);
  set_float(bn, "epsilon", 1e-3f);
}

plan_options fast(int threads = 1) {
  plan_options o;
  o.threads = threads;
  return o;
}

// A float graph output whose shape is left to shape inference.
void output_any(onnx_model& m, const std::string& name) {
  auto* vi = m.graph().add_output();
  vi->set_name(name);
  vi->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto_DataType_FLOAT);
}

// Plans Conv(x) for one case and checks it against the oracle.
std::shared_ptr<const plan> check_conv(const conv_case& c) {
  onnx_model m;
  m.input("x", {1, c.c, c.h, c.w});
  add_conv(m, "x", "y", c, 11);
  output_any(m, "y");
  return check_against_oracle(load(m), {{"x", random_tensor({1, c.c, c.h, c.w}, 5)}}, fast());
}

}  // namespace

TEST_CASE("fast convolutions match the interpreter across strides, pads, dilations and groups") {
  std::vector<conv_case> cases;
  conv_case base;
  cases.push_back(base);
  conv_case strided = base;
  strided.strides = {2, 2};
  cases.push_back(strided);
  conv_case asymmetric = base;
  asymmetric.pads = {0, 1, 2, 0};
  cases.push_back(asymmetric);
  conv_case dilated = base;
  dilated.dilations = {2, 2};
  dilated.pads = {2, 2, 2, 2};
  cases.push_back(dilated);
  conv_case grouped = base;
  grouped.group = 2;
  cases.push_back(grouped);
  conv_case depthwise = base;
  depthwise.c = depthwise.m = depthwise.group = 16;
  cases.push_back(depthwise);
  conv_case depthwise_strided = depthwise;
  depthwise_strided.strides = {2, 1};
  cases.push_back(depthwise_strided);
  conv_case pointwise = base;
  pointwise.k = 1;
  pointwise.pads = {0, 0, 0, 0};
  pointwise.bias = false;
  cases.push_back(pointwise);
  conv_case same = base;
  same.auto_pad = "SAME_UPPER";
  same.strides = {2, 2};
  cases.push_back(same);
  conv_case wide = base;
  wide.c = 3;
  wide.m = 20;
  wide.k = 5;
  wide.pads = {2, 2, 2, 2};
  cases.push_back(wide);
  for (std::size_t i = 0; i < cases.size(); ++i) {
    INFO("case " << i);
    auto p = check_conv(cases[i]);
    CHECK(contains(p->describe(), "onednn"));
  }
}

TEST_CASE("Winograd convolutions match the interpreter and can be turned off") {
  // Two 3x3 stride-1 layers with 32 channels (Winograd-sized) and a residual Add.
  onnx_model m;
  conv_case c;
  c.c = c.m = 32;
  c.h = c.w = 12;
  m.input("x", {1, 32, 12, 12});
  add_conv(m, "x", "a", c, 35);
  m.node("Relu", {"a"}, {"ra"}, "relu_a");
  add_conv(m, "ra", "b", c, 36);
  m.node("Add", {"b", "x"}, {"s"}, "add");
  m.node("Relu", {"s"}, {"y"}, "relu");
  m.output("y", {1, 32, 12, 12});
  auto g = load(m);
  const std::map<std::string, tensor> inputs{{"x", random_tensor({1, 32, 12, 12}, 37)}};
  for (bool winograd : {true, false}) {
    INFO("winograd " << winograd);
    plan_options o;
    o.winograd = winograd;
    auto p = check_against_oracle(g, inputs, o);
    INFO(p->describe());
    CHECK(contains(p->describe(), "wino") == winograd);
  }
}

TEST_CASE("each activation fuses into a convolution and matches the interpreter") {
  const std::vector<std::string> ops{"Relu", "LeakyRelu", "Clip", "Sigmoid", "Tanh", "Elu", "HardSigmoid", "HardSwish", "Softplus"};
  for (const auto& op : ops) {
    INFO(op);
    onnx_model m(14);
    m.input("x", {1, 4, 6, 6});
    add_conv(m, "x", "conv", conv_case{}, 21);
    std::vector<std::string> ins{"conv"};
    if (op == "Clip") {
      m.initializer("lo", {}, {0.0f});
      m.initializer("hi", {}, {0.4f});
      ins = {"conv", "lo", "hi"};
    }
    auto& act = m.node(op, ins, {"y"}, "act");
    if (op == "LeakyRelu") set_float(act, "alpha", 0.2f);
    if (op == "Elu") set_float(act, "alpha", 0.7f);
    m.output("y", {1, 8, 6, 6});
    auto p = check_against_oracle(load(m), {{"x", random_tensor({1, 4, 6, 6}, 8)}}, fast());
    CHECK(contains(p->describe(), "conv+act  Conv+" + op + "  onednn"));
  }
}

TEST_CASE("BatchNormalization folds into the convolution before it") {
  onnx_model m;
  m.input("x", {1, 4, 8, 8});
  add_conv(m, "x", "conv", conv_case{}, 31);
  add_batch_norm(m, "conv", "bn", 8, 33);
  m.node("Relu", {"bn"}, {"y"}, "relu");
  m.output("y", {1, 8, 8, 8});
  auto p = check_against_oracle(load(m), {{"x", random_tensor({1, 4, 8, 8}, 9)}}, fast());
  CHECK(contains(p->describe(), "conv+bn+relu  Conv+BatchNormalization+Relu  onednn"));
}

TEST_CASE("a residual Add fuses into the convolution as an in-place sum") {
  // x -> a -> relu (ra) -> b -> relu -> c -> bn -> (+ ra) -> relu -> maxpool -> gap
  onnx_model m;
  conv_case c;
  c.c = c.m = 8;
  m.input("x", {1, 8, 10, 10});
  add_conv(m, "x", "a", c, 41);
  m.node("Relu", {"a"}, {"ra"}, "relu_a");
  add_conv(m, "ra", "b", c, 42);
  m.node("Relu", {"b"}, {"rb"}, "relu_b");
  add_conv(m, "rb", "c", c, 43);
  add_batch_norm(m, "c", "bn", 8, 45);
  m.node("Add", {"bn", "ra"}, {"s"}, "add");
  m.node("Relu", {"s"}, {"rs"}, "relu_s");
  auto& mp = m.node("MaxPool", {"rs"}, {"p"}, "pool");
  set_ints(mp, "kernel_shape", {3, 3});
  set_ints(mp, "strides", {2, 2});
  set_ints(mp, "pads", {1, 1, 1, 1});
  m.node("GlobalAveragePool", {"p"}, {"y"}, "gap");
  m.output("y", {1, 8, 1, 1});
  auto p = check_against_oracle(load(m), {{"x", random_tensor({1, 8, 10, 10}, 10)}}, fast());
  const std::string text = p->describe();
  CHECK(contains(text, "c+bn+add+relu_s  Conv+BatchNormalization+Add+Relu  onednn"));
  CHECK(contains(text, "pool  MaxPool  loops"));
  CHECK(contains(text, "gap  GlobalAveragePool  loops"));
}

TEST_CASE("a residual Add whose operand the convolution itself reads is not done in place") {
  // ra feeds both the convolution and the Add: overwriting it would corrupt the convolution's input.
  onnx_model m;
  conv_case c;
  c.c = c.m = 8;
  m.input("x", {1, 8, 6, 6});
  add_conv(m, "x", "a", c, 47);
  m.node("Relu", {"a"}, {"ra"}, "relu_a");
  add_conv(m, "ra", "b", c, 48);
  m.node("Add", {"b", "ra"}, {"y"}, "add");
  m.output("y", {1, 8, 6, 6});
  auto p = check_against_oracle(load(m), {{"x", random_tensor({1, 8, 6, 6}, 15)}}, fast());
  CHECK(contains(p->describe(), "add  Add  loops"));
}

TEST_CASE("pooling on planned layouts matches the interpreter") {
  struct pool_case {
    const char* op;
    std::vector<std::int64_t> kernel, strides, pads, dilations;
    int ceil = 0, include_pad = 0;
  };
  const std::vector<pool_case> cases{
      {"MaxPool", {3, 3}, {2, 2}, {1, 1, 1, 1}, {}, 0, 0},   {"MaxPool", {2, 2}, {2, 2}, {0, 0, 0, 0}, {}, 1, 0},
      {"MaxPool", {3, 2}, {1, 2}, {0, 1, 1, 0}, {2, 1}, 0, 0}, {"AveragePool", {3, 3}, {2, 2}, {1, 1, 1, 1}, {}, 0, 0},
      {"AveragePool", {3, 3}, {2, 2}, {1, 1, 1, 1}, {}, 1, 1}, {"AveragePool", {2, 3}, {1, 1}, {0, 0, 1, 1}, {}, 0, 1},
  };
  for (bool after_conv : {true, false}) {
    for (std::size_t i = 0; i < cases.size(); ++i) {
      INFO("case " << i << (after_conv ? " after a conv" : " on the graph input"));
      const auto& pc = cases[i];
      onnx_model m;
      m.input("x", {1, 12, 9, 11});
      std::string src = "x";
      if (after_conv) {
        conv_case c;
        c.c = c.m = 12;
        add_conv(m, "x", "conv", c, 51);
        src = "conv";
      }
      auto& n = m.node(pc.op, {src}, {"p"}, "pool");
      set_ints(n, "kernel_shape", pc.kernel);
      set_ints(n, "strides", pc.strides);
      set_ints(n, "pads", pc.pads);
      if (!pc.dilations.empty()) set_ints(n, "dilations", pc.dilations);
      set_int(n, "ceil_mode", pc.ceil);
      if (std::string(pc.op) == "AveragePool") set_int(n, "count_include_pad", pc.include_pad);
      m.node("GlobalMaxPool", {"p"}, {"g"}, "gmp");
      output_any(m, "p");
      output_any(m, "g");
      auto p = check_against_oracle(load(m), {{"x", random_tensor({1, 12, 9, 11}, 12)}}, fast());
      CHECK(contains(p->describe(), "pool  " + std::string(pc.op) + "  loops"));
    }
  }
}

TEST_CASE("Gemm on oneDNN matches the interpreter for every transpose, alpha, beta and bias shape") {
  struct gemm_case {
    int ta, tb;
    float alpha, beta;
    std::vector<std::int64_t> c;  // empty: no C
    bool constant_b;
  };
  const std::vector<gemm_case> cases{
      {0, 1, 1.0f, 1.0f, {6}, true},     {0, 0, 0.5f, 2.0f, {1, 6}, true}, {1, 0, 1.0f, 1.0f, {3, 6}, true},
      {1, 1, 2.0f, 0.5f, {3, 1}, true},  {0, 0, 1.0f, 1.0f, {}, true},     {0, 1, 1.0f, 1.0f, {6}, false},
      {1, 0, 1.0f, 3.0f, {1}, false},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    INFO("case " << i);
    const auto& gc = cases[i];
    const std::int64_t M = 3, K = 5, N = 6;
    onnx_model m;
    m.input("a", gc.ta ? std::vector<std::int64_t>{K, M} : std::vector<std::int64_t>{M, K});
    const std::vector<std::int64_t> bd = gc.tb ? std::vector<std::int64_t>{N, K} : std::vector<std::int64_t>{K, N};
    if (gc.constant_b) m.initializer("b", bd, random_values(count_of(bd), 61));
    else m.input("b", bd);
    std::vector<std::string> ins{"a", "b"};
    if (!gc.c.empty()) {
      m.initializer("c", gc.c, random_values(count_of(gc.c), 62));
      ins.push_back("c");
    }
    auto& n = m.node("Gemm", ins, {"g"}, "gemm");
    set_int(n, "transA", gc.ta);
    set_int(n, "transB", gc.tb);
    set_float(n, "alpha", gc.alpha);
    set_float(n, "beta", gc.beta);
    m.node("Relu", {"g"}, {"y"}, "relu");
    m.output("y", {M, N});
    std::map<std::string, tensor> inputs{{"a", random_tensor(gc.ta ? shape_t{K, M} : shape_t{M, K}, 63)}};
    if (!gc.constant_b) inputs["b"] = random_tensor(shape_t(bd.begin(), bd.end()), 64);
    auto p = check_against_oracle(load(m), inputs, fast());
    INFO(p->describe());
    CHECK(contains(p->describe(), "gemm+relu  Gemm+Relu  onednn"));
  }
}

TEST_CASE("MatMul on oneDNN matches the interpreter for 2-D, batched and broadcast operands with a bias") {
  struct matmul_case {
    std::vector<std::int64_t> a, b;
    bool constant_b, bias;
  };
  const std::vector<matmul_case> cases{
      {{4, 5}, {5, 3}, true, true},         {{2, 4, 5}, {5, 3}, true, true},  {{2, 4, 5}, {2, 5, 3}, false, false},
      {{3, 1, 4, 5}, {2, 5, 3}, false, true}, {{4, 5}, {2, 5, 3}, true, false},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    INFO("case " << i);
    const auto& mc = cases[i];
    onnx_model m;
    m.input("a", mc.a);
    if (mc.constant_b) m.initializer("b", mc.b, random_values(count_of(mc.b), 71));
    else m.input("b", mc.b);
    m.node("MatMul", {"a", "b"}, {"mm"}, "matmul");
    std::string last = "mm";
    if (mc.bias) {
      m.initializer("bias", {3}, random_values(3, 72));
      m.node("Add", {"mm", "bias"}, {"biased"}, "bias_add");
      last = "biased";
    }
    m.node("Tanh", {last}, {"y"}, "tanh");
    output_any(m, "y");
    std::map<std::string, tensor> inputs{{"a", random_tensor(shape_t(mc.a.begin(), mc.a.end()), 73)}};
    if (!mc.constant_b) inputs["b"] = random_tensor(shape_t(mc.b.begin(), mc.b.end()), 74);
    auto p = check_against_oracle(load(m), inputs, fast());
    CHECK(contains(p->describe(), "onednn"));
  }
}

TEST_CASE("values in a blocked layout are converted for reference consumers and graph outputs") {
  // conv -> (Softmax over channels: reference) and conv -> graph output directly.
  onnx_model m;
  m.input("x", {1, 4, 5, 5});
  add_conv(m, "x", "conv", conv_case{}, 81);
  auto& sm = m.node("Softmax", {"conv"}, {"sm"}, "softmax");
  set_int(sm, "axis", 1);
  m.node("Sigmoid", {"conv"}, {"sg"}, "sigmoid");
  m.node("Add", {"sg", "conv"}, {"sum"}, "add");
  m.output("conv", {1, 8, 5, 5});
  m.output("sm", {1, 8, 5, 5});
  m.output("sum", {1, 8, 5, 5});
  auto p = check_against_oracle(load(m), {{"x", random_tensor({1, 4, 5, 5}, 13)}}, fast());
  const std::string text = p->describe();
  CHECK(contains(text, "softmax  Softmax  reference"));
  CHECK(contains(text, "sigmoid  Sigmoid  loops"));
  CHECK(contains(text, "add  Add  loops"));
}

TEST_CASE("a plan with two threads matches the interpreter") {
  conv_case c;
  c.c = 16;
  c.m = 32;
  c.h = c.w = 20;
  onnx_model m;
  m.input("x", {1, 16, 20, 20});
  add_conv(m, "x", "conv", c, 91);
  m.node("Relu", {"conv"}, {"r"}, "relu");
  m.node("GlobalAveragePool", {"r"}, {"y"}, "gap");
  m.output("y", {1, 32, 1, 1});
  check_against_oracle(load(m), {{"x", random_tensor({1, 16, 20, 20}, 14)}}, fast(2));
}

TEST_CASE("two executors of one plan run at the same time on two threads") {
  conv_case c;
  c.c = 8;
  c.m = 16;
  c.h = c.w = 16;
  onnx_model m;
  m.input("x", {1, 8, 16, 16});
  add_conv(m, "x", "conv", c, 95);
  m.node("Relu", {"conv"}, {"r"}, "relu");
  add_conv(m, "r", "conv2", [] {
    conv_case d;
    d.c = d.m = 16;
    d.h = d.w = 16;
    return d;
  }(), 97);
  m.node("GlobalAveragePool", {"conv2"}, {"y"}, "gap");
  m.output("y", {1, 16, 1, 1});
  auto g = load(m);
  auto oracle = interpreter::create(g);
  REQUIRE(oracle.ok());
  for (int threads : {1, 2}) {
    INFO("threads " << threads);
    auto p = plan::create(g, fast(threads));
    REQUIRE(p.ok());
    std::vector<double> worst(2, 0.0);
    std::vector<bool> ok(2, true);
    auto work = [&](int who) {
      auto e = (*p)->make_executor();
      if (!e.ok()) {
        ok[static_cast<std::size_t>(who)] = false;
        return;
      }
      for (int i = 0; i < 20; ++i) {
        std::map<std::string, tensor> in{{"x", random_tensor({1, 8, 16, 16}, static_cast<std::uint32_t>(100 + who * 50 + i))}};
        auto want = oracle->run(in);
        auto got = (*e)->run(in);
        if (!want.ok() || !got.ok()) {
          ok[static_cast<std::size_t>(who)] = false;
          return;
        }
        worst[static_cast<std::size_t>(who)] =
            std::max(worst[static_cast<std::size_t>(who)], max_relative_error(got->at("y"), want->at("y")));
      }
    };
    std::thread a(work, 0), b(work, 1);
    a.join();
    b.join();
    CHECK(ok[0]);
    CHECK(ok[1]);
    CHECK(worst[0] <= 1e-4);
    CHECK(worst[1] <= 1e-4);
  }
}
