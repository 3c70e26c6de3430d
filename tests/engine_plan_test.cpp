// engine::plan plumbing: arena layout, the reference-only (oracle) path through the arena,
// constant folding, run-time-shaped outputs, errors, cost and describe(), threads, and the
// executor's heap allocations during run (counted by replacing the global operator new in
// this test executable).
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <dlfcn.h>
#include <new>
#include <thread>

#include "engine/plan/arena.hpp"
#include "engine_plan_harness.hpp"

using namespace edgert;
using namespace edgert::engine;
using namespace edgert::test;

// ---- allocation counting ---------------------------------------------------------------
//
// Every operator new in this executable (and in the libraries it loads) goes through this
// replacement. While `counting` is set, it counts allocations and whether the caller's code
// lies inside libdnnl (oneDNN's execute builds a small argument map per call, which the
// engine cannot avoid through the library's public API).
namespace {
std::atomic<bool> counting{false};
std::atomic<long> allocations{0};
std::atomic<long> onednn_allocations{0};
thread_local bool inside_hook = false;

bool called_from_onednn(void* return_address) {
  Dl_info info;
  if (!dladdr(return_address, &info) || !info.dli_fname) return false;
  return std::string(info.dli_fname).find("libdnnl") != std::string::npos;
}

void* counted_allocation(std::size_t n, void* caller) {
  if (counting.load(std::memory_order_relaxed) && !inside_hook) {
    inside_hook = true;
    if (called_from_onednn(caller)) ++onednn_allocations;
    else ++allocations;
    inside_hook = false;
  }
  void* p = std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t n) { return counted_allocation(n, __builtin_return_address(0)); }
void* operator new[](std::size_t n) { return counted_allocation(n, __builtin_return_address(0)); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

plan_options reference_only() {
  plan_options o;
  o.fast_kernels = false;
  return o;
}

// x[1,3,8,8] -> Conv(4, 3x3, pad 1) -> Relu -> (+ x2 via 1x1 Conv) -> MaxPool -> Flatten -> Gemm(5)
onnx_model small_cnn() {
  onnx_model m;
  m.input("x", {1, 3, 8, 8});
  m.initializer("w1", {4, 3, 3, 3}, random_values(4 * 3 * 9, 1));
  m.initializer("b1", {4}, random_values(4, 2));
  m.initializer("w2", {4, 3, 1, 1}, random_values(12, 3));
  m.initializer("fc", {5, 64}, random_values(5 * 64, 4));
  m.initializer("fcb", {5}, random_values(5, 5));
  auto& c1 = m.node("Conv", {"x", "w1", "b1"}, {"c1"}, "conv1");
  set_ints(c1, "pads", {1, 1, 1, 1});
  m.node("Relu", {"c1"}, {"r1"}, "relu1");
  m.node("Conv", {"x", "w2"}, {"c2"}, "conv2");
  m.node("Add", {"r1", "c2"}, {"s"}, "add");
  auto& mp = m.node("MaxPool", {"s"}, {"p"}, "pool");
  set_ints(mp, "kernel_shape", {2, 2});
  set_ints(mp, "strides", {2, 2});
  m.node("Flatten", {"p"}, {"f"}, "flatten");
  auto& fc = m.node("Gemm", {"f", "fc", "fcb"}, {"y"}, "fc");
  set_int(fc, "transB", 1);
  m.output("y", {1, 5});
  return m;
}

}  // namespace

TEST_CASE("the arena gives blocks alive at the same time disjoint bytes") {
  using planning::arena_request;
  std::vector<arena_request> r{{1000, 0, 2}, {500, 1, 3}, {1000, 3, 4}, {64, 0, 4}, {700, 4, 5}};
  auto placed = planning::assign_offsets(r);
  CHECK(planning::layout_is_valid(r, placed));
  for (auto off : placed.offsets) CHECK(off % 64 == 0);
}

TEST_CASE("the arena reuses the bytes of blocks whose lifetimes do not overlap") {
  using planning::arena_request;
  std::vector<arena_request> chain;
  for (int i = 0; i < 10; ++i) chain.push_back({4096, i, i + 1});
  auto placed = planning::assign_offsets(chain);
  CHECK(planning::layout_is_valid(chain, placed));
  CHECK(placed.total == 2 * 4096);
}

TEST_CASE("a reference-only plan reproduces the interpreter through the arena") {
  auto g = load(small_cnn());
  auto p = check_against_oracle(g, {{"x", random_tensor({1, 3, 8, 8}, 7)}}, reference_only(), 0.0);
  CHECK(p->arena_bytes() > 0);
  CHECK(contains(p->describe(), "conv1  Conv  reference"));
}

TEST_CASE("describe prints one line per step") {
  auto g = load(small_cnn());
  auto p = plan::create(g, reference_only());
  REQUIRE(p.ok());
  const std::string text = (*p)->describe();
  CHECK(std::count(text.begin(), text.end(), '\n') == 7);
  CHECK(contains(text, "[1, 5] nc"));
}

TEST_CASE("cost counts multiply-accumulates and bytes at plan time") {
  auto g = load(small_cnn());
  auto p = plan::create(g, reference_only());
  REQUIRE(p.ok());
  const plan_cost& c = (*p)->cost();
  const std::uint64_t conv1 = 4 * 8 * 8 * 3 * 9, conv2 = 4 * 8 * 8 * 3, fc = 5 * 64;
  CHECK(c.macs == conv1 + conv2 + fc);
  CHECK(c.input_bytes == 3 * 8 * 8 * 4);
  CHECK(c.output_bytes == 5 * 4);
  CHECK(c.weight_bytes == (108 + 4 + 12 + 320 + 5) * 4);
}

TEST_CASE("constant subgraphs are folded once at plan time") {
  // shape = Concat(Shape(x)[0:1], [-1]) is computable from static shapes; w2 = w * 2 from constants.
  onnx_model m;
  m.input("x", {2, 3, 4});
  m.initializer("w", {12}, random_values(12, 9));
  m.initializer("two", {}, {2.0f});
  auto* minus_one = m.graph().add_initializer();
  minus_one->set_name("minus_one");
  minus_one->set_data_type(onnx::TensorProto_DataType_INT64);
  minus_one->add_dims(1);
  minus_one->add_int64_data(-1);
  auto& sh = m.node("Shape", {"x"}, {"sh"}, "shape");
  set_int(sh, "end", 1);
  auto& cat = m.node("Concat", {"sh", "minus_one"}, {"target"}, "concat");
  set_int(cat, "axis", 0);
  m.node("Reshape", {"x", "target"}, {"flat"}, "reshape");
  m.node("Mul", {"w", "two"}, {"w2"}, "scale");
  m.node("Add", {"flat", "w2"}, {"y"}, "add");
  m.output("y", {2, 12});
  auto g = load(m);
  auto p = check_against_oracle(g, {{"x", random_tensor({2, 3, 4}, 3)}}, reference_only(), 0.0);
  const std::string text = p->describe();
  CHECK_FALSE(contains(text, "shape  Shape"));
  CHECK_FALSE(contains(text, "scale  Mul"));
  CHECK(contains(text, "add  Add"));
}

TEST_CASE("an output whose shape depends on the data comes back from run with names") {
  onnx_model m;
  m.input("x", {6});
  m.node("NonZero", {"x"}, {"nz"}, "nonzero");
  m.output("nz", {1, dyn}, onnx::TensorProto_DataType_INT64);
  auto g = load(m);
  tensor x(dtype::f32, {6});
  x.data<float>()[1] = 1;
  x.data<float>()[4] = 2;
  for (bool fast : {false, true}) {
    plan_options o;
    o.fast_kernels = fast;
    check_against_oracle(g, {{"x", x}}, o, 0.0);
  }
}

TEST_CASE("a graph output that is also a graph input or a constant is copied out") {
  onnx_model m;
  m.input("x", {3});
  m.initializer("c", {2}, {1.5f, -2.0f});
  m.node("Neg", {"x"}, {"y"}, "neg");
  m.output("x", {3});
  m.output("c", {2});
  m.output("y", {3});
  auto g = load(m);
  for (bool fast : {false, true}) {
    plan_options o;
    o.fast_kernels = fast;
    check_against_oracle(g, {{"x", random_tensor({3}, 4)}}, o, 0.0);
  }
}

TEST_CASE("plan creation rejects input dimensions unknown at plan time") {
  onnx_model m;
  m.input("x", {dyn, 4});
  m.node("Relu", {"x"}, {"y"});
  m.output("y", {dyn, 4});
  auto p = plan::create(load(m));
  REQUIRE_FALSE(p.ok());
  CHECK(p.code() == errc::invalid_argument);
  CHECK(contains(p.error().message, "'x'"));
}

TEST_CASE("plan creation fails like the interpreter on an op without a kernel") {
  onnx_model m;
  m.input("x", {4});
  m.node("NoSuchOp", {"x"}, {"y"}, "mystery");
  m.output("y", {4});
  auto g = engine::load_onnx_bytes(m.bytes(), ".");
  if (!g.ok()) {
    CHECK(g.code() != errc::ok);  // the loader may already refuse an unknown op
    return;
  }
  auto shared = std::make_shared<const graph>(std::move(*g));
  auto p = plan::create(shared);
  auto ip = interpreter::create(shared);
  REQUIRE_FALSE(p.ok());
  REQUIRE_FALSE(ip.ok());
  CHECK(p.code() == ip.code());
  CHECK(p.error().message == ip.error().message);
}

TEST_CASE("run with names rejects unknown names and wrong shapes") {
  auto p = plan::create(load(small_cnn()), reference_only());
  REQUIRE(p.ok());
  auto e = (*p)->make_executor();
  REQUIRE(e.ok());
  auto wrong_name = (*e)->run({{"nope", random_tensor({1, 3, 8, 8}, 1)}});
  CHECK(wrong_name.code() == errc::invalid_argument);
  auto wrong_shape = (*e)->run({{"x", random_tensor({1, 3, 8, 9}, 1)}});
  CHECK(wrong_shape.code() == errc::invalid_argument);
  auto none = (*e)->run(std::vector<const void*>{}, std::vector<void*>{nullptr});
  CHECK(none.code() == errc::invalid_argument);
}

TEST_CASE("a plan rejects a thread count below one") {
  plan_options o;
  o.threads = 0;
  auto p = plan::create(load(small_cnn()), o);
  CHECK(p.code() == errc::invalid_argument);
}

TEST_CASE("a fast-path run makes no heap allocation outside oneDNN's execute") {
  // x -> Conv+BN+Relu (r) -> Conv (c2) -> Add(c2, r)+Relu -> GlobalAveragePool -> Flatten -> Gemm
  onnx_model m;
  m.input("x", {1, 8, 12, 12});
  m.initializer("w1", {16, 8, 3, 3}, random_values(16 * 8 * 9, 21, -0.3f, 0.3f));
  m.initializer("s", {16}, random_values(16, 22, 0.5f, 1.5f));
  m.initializer("t", {16}, random_values(16, 23));
  m.initializer("mu", {16}, random_values(16, 24));
  m.initializer("var", {16}, random_values(16, 25, 0.5f, 1.5f));
  m.initializer("w2", {16, 16, 1, 1}, random_values(256, 26, -0.3f, 0.3f));
  m.initializer("fc", {10, 16}, random_values(160, 27));
  m.initializer("fcb", {10}, random_values(10, 28));
  auto& c1 = m.node("Conv", {"x", "w1"}, {"c1"}, "conv1");
  set_ints(c1, "pads", {1, 1, 1, 1});
  m.node("BatchNormalization", {"c1", "s", "t", "mu", "var"}, {"bn"}, "bn1");
  m.node("Relu", {"bn"}, {"r"}, "relu1");
  m.node("Conv", {"r", "w2"}, {"c2"}, "conv2");
  m.node("Add", {"c2", "r"}, {"sum"}, "add");
  m.node("Relu", {"sum"}, {"rs"}, "relu2");
  m.node("GlobalAveragePool", {"rs"}, {"gap"}, "gap");
  m.node("Flatten", {"gap"}, {"flat"}, "flatten");
  auto& fc = m.node("Gemm", {"flat", "fc", "fcb"}, {"y"}, "fc");
  set_int(fc, "transB", 1);
  m.output("y", {1, 10});
  auto g = load(m);
  auto p = check_against_oracle(g, {{"x", random_tensor({1, 8, 12, 12}, 29)}}, plan_options{});
  INFO(p->describe());
  CHECK_FALSE(contains(p->describe(), "reference"));

  auto e = p->make_executor();
  REQUIRE(e.ok());
  tensor x = random_tensor({1, 8, 12, 12}, 30);
  tensor y(dtype::f32, {1, 10});
  const std::vector<const void*> ins{x.raw()};
  const std::vector<void*> outs{y.raw()};
  REQUIRE((*e)->run(ins, outs).ok());  // the first run may set up threads
  allocations = 0;
  onednn_allocations = 0;
  counting = true;
  auto r = (*e)->run(ins, outs);
  counting = false;
  REQUIRE(r.ok());
  MESSAGE("allocations inside oneDNN's execute during one run: " << onednn_allocations.load());
  CHECK(allocations.load() == 0);
}

TEST_CASE("the allocation counter sees allocations made during a run") {
  // The reference path allocates its kernels' outputs; the counter must notice.
  auto p = plan::create(load(small_cnn()), reference_only());
  REQUIRE(p.ok());
  auto e = (*p)->make_executor();
  REQUIRE(e.ok());
  tensor x = random_tensor({1, 3, 8, 8}, 31);
  tensor y(dtype::f32, {1, 5});
  const std::vector<const void*> ins{x.raw()};
  const std::vector<void*> outs{y.raw()};
  REQUIRE((*e)->run(ins, outs).ok());
  allocations = 0;
  counting = true;
  auto r = (*e)->run(ins, outs);
  counting = false;
  REQUIRE(r.ok());
  CHECK(allocations.load() > 0);
}
