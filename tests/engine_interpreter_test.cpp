// The interpreter, over graphs built directly as engine::graph and a small kernel registry
// of the test's own (so it does not depend on the reference kernels).
#include <doctest/doctest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "engine/interpreter.hpp"

using namespace edgert;
using namespace edgert::engine;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

tensor floats(shape_t shape, std::vector<float> values) {
  tensor t(dtype::f32, std::move(shape));
  for (std::size_t i = 0; i < values.size(); ++i) t.data<float>()[i] = values[i];
  return t;
}

std::vector<float> values_of(const tensor& t) {
  return std::vector<float>(t.data<float>(), t.data<float>() + t.elements());
}

// Elementwise float kernels over same-shaped inputs: enough to build test graphs.
result<void> neg(kernel_context& ctx) {
  const tensor& x = ctx.input(0);
  tensor y(dtype::f32, x.shape());
  for (std::int64_t i = 0; i < x.elements(); ++i) y.data<float>()[i] = -x.data<float>()[i];
  ctx.outputs[0] = y;
  return {};
}

result<void> add(kernel_context& ctx) {
  const tensor& a = ctx.input(0);
  const tensor& b = ctx.input(1);
  if (a.shape() != b.shape()) return ctx.invalid("shapes differ");
  tensor y(dtype::f32, a.shape());
  for (std::int64_t i = 0; i < a.elements(); ++i)
    y.data<float>()[i] = a.data<float>()[i] + b.data<float>()[i];
  ctx.outputs[0] = y;
  return {};
}

const kernel_registry& test_kernels() {
  static const kernel_registry r = [] {
    kernel_registry k;
    k.add("", "Neg", neg);
    k.add("", "Add", add);
    k.add("", "NewOp", neg, 20);
    k.add("", "Fails", [](kernel_context& ctx) -> result<void> {
      return ctx.error(errc::device_fault, "deliberate failure");
    });
    k.add("", "Throws", [](kernel_context&) -> result<void> { throw std::runtime_error("boom"); });
    k.add("", "BadAlloc", [](kernel_context&) -> result<void> { throw std::bad_alloc(); });
    k.add("", "Lazy", [](kernel_context&) -> result<void> { return {}; });
    // Writes the opset it was given, whether input 1 was present, and fills only the
    // outputs that have names.
    k.add("", "Probe", [](kernel_context& ctx) -> result<void> {
      for (std::size_t i = 0; i < ctx.outputs.size(); ++i) {
        if (ctx.n.outputs[i].empty()) continue;
        tensor t(dtype::f32, {2});
        t.data<float>()[0] = static_cast<float>(ctx.opset);
        t.data<float>()[1] = ctx.has_input(1) ? 1.0f : 0.0f;
        ctx.outputs[i] = t;
      }
      return {};
    });
    k.add("", "If", neg);
    return k;
  }();
  return r;
}

node make_node(const std::string& op, std::vector<std::string> in, std::vector<std::string> out,
               const std::string& name) {
  node n;
  n.op_type = op;
  n.name = name;
  n.inputs = std::move(in);
  n.outputs = std::move(out);
  return n;
}

value_info f32_value(const std::string& name, std::optional<shape_t> shape) {
  return value_info{name, dtype::f32, std::move(shape)};
}

// x -> Neg -> a; y = a + a consumed twice, z = Neg(a) + x: "a" has three consumers.
std::shared_ptr<graph> diamond_graph() {
  auto g = std::make_shared<graph>();
  g->opsets[""] = 13;
  g->inputs = {f32_value("x", shape_t{-1, 2})};
  g->outputs = {f32_value("y", std::nullopt), f32_value("z", std::nullopt)};
  g->nodes = {make_node("Neg", {"x"}, {"a"}, "n0"), make_node("Add", {"a", "a"}, {"y"}, "n1"),
              make_node("Neg", {"a"}, {"b"}, "n2"), make_node("Add", {"b", "x"}, {"z"}, "n3")};
  return g;
}

std::shared_ptr<graph> single_node_graph(const std::string& op) {
  auto g = std::make_shared<graph>();
  g->opsets[""] = 13;
  g->inputs = {f32_value("x", shape_t{2})};
  g->outputs = {f32_value("y", std::nullopt)};
  g->nodes = {make_node(op, {"x"}, {"y"}, "the_node")};
  return g;
}

}  // namespace

SCENARIO("a graph with a value used by several nodes computes every output") {
  auto ip = interpreter::create(diamond_graph(), test_kernels());
  REQUIRE(ip.ok());
  auto out = ip->run({{"x", floats({1, 2}, {1, -2})}});
  REQUIRE(out.ok());
  REQUIRE(out->size() == 2);
  CHECK(values_of(out->at("y")) == std::vector<float>{-2, 4});
  CHECK(values_of(out->at("z")) == std::vector<float>{2, -4});
}

SCENARIO("a graph output that a later node also reads is kept") {
  auto g = std::make_shared<graph>();
  g->opsets[""] = 13;
  g->inputs = {f32_value("x", shape_t{2})};
  g->outputs = {f32_value("a", std::nullopt), f32_value("c", std::nullopt)};
  g->nodes = {make_node("Neg", {"x"}, {"a"}, "n0"), make_node("Neg", {"a"}, {"b"}, "n1"),
              make_node("Neg", {"b"}, {"c"}, "n2")};
  auto ip = interpreter::create(g, test_kernels());
  REQUIRE(ip.ok());
  auto out = ip->run({{"x", floats({2}, {3, 4})}});
  REQUIRE(out.ok());
  CHECK(values_of(out->at("a")) == std::vector<float>{-3, -4});
  CHECK(values_of(out->at("c")) == std::vector<float>{-3, -4});
}

SCENARIO("initializers and a graph input passed straight through are outputs") {
  auto g = std::make_shared<graph>();
  g->opsets[""] = 13;
  g->initializers["w"] = floats({2}, {10, 20});
  g->inputs = {f32_value("x", shape_t{2})};
  g->outputs = {f32_value("y", std::nullopt), f32_value("x", std::nullopt)};
  g->nodes = {make_node("Add", {"x", "w"}, {"y"}, "n0")};
  auto ip = interpreter::create(g, test_kernels());
  REQUIRE(ip.ok());
  for (int repeat = 0; repeat < 2; ++repeat) {
    auto out = ip->run({{"x", floats({2}, {1, 2})}});
    REQUIRE(out.ok());
    CHECK(values_of(out->at("y")) == std::vector<float>{11, 22});
    CHECK(values_of(out->at("x")) == std::vector<float>{1, 2});
  }
}

SCENARIO("unknown ops are all listed once each") {
  auto g = diamond_graph();
  g->nodes.push_back(make_node("Mystery", {"x"}, {"m1"}, "first_mystery"));
  g->nodes.push_back(make_node("Mystery", {"x"}, {"m2"}, "second_mystery"));
  g->nodes.push_back(make_node("Enigma", {"x"}, {"m3"}, ""));
  g->nodes.back().domain = "com.example";
  g->opsets["com.example"] = 3;
  auto ip = interpreter::create(g, test_kernels());
  REQUIRE_FALSE(ip.ok());
  CHECK(ip.code() == errc::not_implemented);
  const auto& m = ip.error().message;
  CHECK(contains(m, "op Mystery (domain ai.onnx, opset 13) in node 'first_mystery'"));
  CHECK_FALSE(contains(m, "second_mystery"));
  CHECK(contains(m, "op Enigma (domain com.example, opset 3) in node #6"));
}

SCENARIO("a kernel newer than the model's opset is unsupported") {
  auto ip = interpreter::create(single_node_graph("NewOp"), test_kernels());
  REQUIRE_FALSE(ip.ok());
  CHECK(ip.code() == errc::not_implemented);
  CHECK(contains(ip.error().message, "op NewOp (domain ai.onnx, opset 13) in node 'the_node'"));
  CHECK(contains(ip.error().message, "opset 20 and later"));
}

SCENARIO("a node with a subgraph attribute is unsupported even with a kernel") {
  auto g = single_node_graph("If");
  g->nodes[0].attributes["then_branch"].type = attribute::kind::graph;
  auto ip = interpreter::create(g, test_kernels());
  REQUIRE_FALSE(ip.ok());
  CHECK(ip.code() == errc::not_implemented);
  CHECK(contains(ip.error().message, "subgraphs"));
}

SCENARIO("run checks the inputs against the graph") {
  auto ip = interpreter::create(diamond_graph(), test_kernels());
  REQUIRE(ip.ok());
  GIVEN("a missing input") {
    auto out = ip->run({});
    REQUIRE_FALSE(out.ok());
    CHECK(out.code() == errc::invalid_argument);
    CHECK(contains(out.error().message, "missing input 'x'"));
  }
  GIVEN("an extra name") {
    auto out = ip->run({{"x", floats({1, 2}, {1, 2})}, {"extra", floats({1}, {0})}});
    REQUIRE_FALSE(out.ok());
    CHECK(out.code() == errc::invalid_argument);
    CHECK(contains(out.error().message, "'extra' is not an input of the model"));
  }
  GIVEN("the wrong dtype") {
    auto out = ip->run({{"x", tensor(dtype::f64, {1, 2})}});
    REQUIRE_FALSE(out.ok());
    CHECK(out.code() == errc::invalid_argument);
    CHECK(contains(out.error().message, "has type float64, the model expects float32"));
  }
  GIVEN("the wrong rank") {
    auto out = ip->run({{"x", floats({2}, {1, 2})}});
    REQUIRE_FALSE(out.ok());
    CHECK(contains(out.error().message, "has shape [2], the model expects [?, 2]"));
  }
  GIVEN("a wrong static dimension") {
    auto out = ip->run({{"x", floats({1, 3}, {1, 2, 3})}});
    REQUIRE_FALSE(out.ok());
    CHECK(out.code() == errc::invalid_argument);
  }
  GIVEN("any size in the dynamic dimension") {
    auto out = ip->run({{"x", floats({3, 2}, {1, 2, 3, 4, 5, 6})}});
    REQUIRE(out.ok());
    CHECK(out->at("y").shape() == shape_t{3, 2});
  }
}

SCENARIO("kernel failures come back unchanged") {
  auto ip = interpreter::create(single_node_graph("Fails"), test_kernels());
  REQUIRE(ip.ok());
  auto out = ip->run({{"x", floats({2}, {1, 2})}});
  REQUIRE_FALSE(out.ok());
  CHECK(out.code() == errc::device_fault);
  CHECK(out.error().message == "Fails (node 'the_node'): deliberate failure");
}

SCENARIO("exceptions from kernels become errors") {
  auto thrown = interpreter::create(single_node_graph("Throws"), test_kernels());
  REQUIRE(thrown.ok());
  auto out = thrown->run({{"x", floats({2}, {1, 2})}});
  REQUIRE_FALSE(out.ok());
  CHECK(out.code() == errc::internal_error);
  CHECK(contains(out.error().message, "boom"));

  auto oom = interpreter::create(single_node_graph("BadAlloc"), test_kernels());
  REQUIRE(oom.ok());
  CHECK(oom->run({{"x", floats({2}, {1, 2})}}).code() == errc::out_of_memory);
}

SCENARIO("a kernel that leaves an output empty is an internal error") {
  auto ip = interpreter::create(single_node_graph("Lazy"), test_kernels());
  REQUIRE(ip.ok());
  auto out = ip->run({{"x", floats({2}, {1, 2})}});
  REQUIRE_FALSE(out.ok());
  CHECK(out.code() == errc::internal_error);
  CHECK(contains(out.error().message, "did not produce output 'y'"));
}

SCENARIO("kernels see the opset and omitted optional inputs and outputs") {
  auto g = std::make_shared<graph>();
  g->opsets[""] = 11;
  g->inputs = {f32_value("x", shape_t{2})};
  g->outputs = {f32_value("y", std::nullopt)};
  g->nodes = {make_node("Probe", {"x", ""}, {"", "y"}, "probe")};
  auto ip = interpreter::create(g, test_kernels());
  REQUIRE(ip.ok());
  auto out = ip->run({{"x", floats({2}, {0, 0})}});
  REQUIRE(out.ok());
  CHECK(values_of(out->at("y")) == std::vector<float>{11, 0});
}

SCENARIO("a graph that uses a value before defining it is rejected") {
  auto g = diamond_graph();
  std::swap(g->nodes[0], g->nodes[1]);
  auto ip = interpreter::create(g, test_kernels());
  REQUIRE_FALSE(ip.ok());
  CHECK(ip.code() == errc::invalid_argument);
  CHECK(contains(ip.error().message, "uses 'a' before"));
}

SCENARIO("run may be called from several threads at once") {
  auto ip = interpreter::create(diamond_graph(), test_kernels());
  REQUIRE(ip.ok());
  const interpreter& shared = *ip;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        float v = static_cast<float>(t * 1000 + i);
        auto out = shared.run({{"x", floats({1, 2}, {v, 1})}});
        if (!out.ok() || out->at("y").data<float>()[0] != -2 * v || out->at("z").data<float>()[0] != 2 * v)
          ++wrong;
      }
    });
  for (auto& th : threads) th.join();
  CHECK(wrong.load() == 0);
}
