// The ONNX backend test runner: comparison rules, test discovery, per-test outcomes with a
// registry of the test's own, crash isolation, the CLI command, and finally the whole
// libonnx-testdata suite through the built-in reference kernels.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/conformance.hpp"
#include "engine_onnx_builder.hpp"
#include "support/temp_dir.hpp"

using namespace edgert;
using namespace edgert::engine;

namespace {

/// Tests of the libonnx-testdata suite that pass with the built-in kernels. It may only go
/// up: raise it when kernels improve, never lower it to make a regression pass.
constexpr std::size_t pinned_pass_count = 844;

const std::filesystem::path suite_root = "/usr/share/libonnx-testdata/data";

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

tensor floats(shape_t shape, std::vector<float> values) {
  tensor t(dtype::f32, std::move(shape));
  for (std::size_t i = 0; i < values.size(); ++i) t.data<float>()[i] = values[i];
  return t;
}

// Writes a backend test "folder/name" under root: y = Neg(x) on [3] floats, one data set
// with x = {1, -2, 3} and the given expected y.
std::filesystem::path write_neg_test(const std::filesystem::path& root, const std::string& name,
                                     const std::vector<float>& expected,
                                     const std::string& op = "Neg") {
  auto dir = root / "node" / name;
  std::filesystem::create_directories(dir / "test_data_set_0");
  test::onnx_model m;
  m.input("x", {3});
  m.output("y", {3});
  m.node(op, {"x"}, {"y"}, "n");
  m.save(dir / "model.onnx");
  test::save_proto(test::float_tensor("x", {3}, {1, -2, 3}), dir / "test_data_set_0" / "input_0.pb");
  test::save_proto(test::float_tensor("y", {3}, expected), dir / "test_data_set_0" / "output_0.pb");
  return dir;
}

result<void> neg_kernel(kernel_context& ctx) {
  const tensor& x = ctx.input(0);
  tensor y(dtype::f32, x.shape());
  for (std::int64_t i = 0; i < x.elements(); ++i) y.data<float>()[i] = -x.data<float>()[i];
  ctx.outputs[0] = y;
  return {};
}

const kernel_registry& test_kernels() {
  static const kernel_registry r = [] {
    kernel_registry k;
    k.add("", "Neg", neg_kernel);
    k.add("", "Crash", [](kernel_context&) -> result<void> {
      ::raise(SIGSEGV);
      return {};
    });
    k.add("", "Hang", [](kernel_context&) -> result<void> {
      ::sleep(30);
      return {};
    });
    return k;
  }();
  return r;
}

// Runs the edgert CLI with a shell command line; returns its exit status and stdout.
std::pair<int, std::string> run_cli(const std::string& args) {
  std::string command = (std::filesystem::path(EDGERT_TEST_BIN_DIR) / "edgert").string() + " " + args + " 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return {-1, ""};
  std::string out;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace

SCENARIO("float outputs compare with rtol 1e-3 and atol 1e-7") {
  tensor expected = floats({4}, {1.0f, 100.0f, 0.0f, -5.0f});
  CHECK(compare_tensors(expected, floats({4}, {1.0009f, 100.09f, 0.0f, -5.0f})).empty());
  auto diff = compare_tensors(expected, floats({4}, {1.0f, 100.2f, 0.0f, -5.0f}));
  CHECK(contains(diff, "element 1 (index [1]): expected 100, got 100.1999"));
  CHECK(contains(diff, "1 of 4 elements differ"));
  CHECK_FALSE(compare_tensors(expected, floats({4}, {1.0f, 100.0f, 1e-6f, -5.0f})).empty());
  CHECK(compare_tensors(expected, floats({4}, {1.0f, 100.0f, 5e-8f, -5.0f})).empty());
}

SCENARIO("NaN equals NaN and infinities must match exactly") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(compare_tensors(floats({2}, {nan, inf}), floats({2}, {nan, inf})).empty());
  CHECK_FALSE(compare_tensors(floats({1}, {nan}), floats({1}, {0})).empty());
  CHECK_FALSE(compare_tensors(floats({1}, {inf}), floats({1}, {-inf})).empty());
  CHECK_FALSE(compare_tensors(floats({1}, {1}), floats({1}, {nan})).empty());
}

SCENARIO("integers and booleans compare exactly and types and shapes must match") {
  tensor a(dtype::i64, {2, 2});
  tensor b = a.clone();
  CHECK(compare_tensors(a, b).empty());
  b.data<std::int64_t>()[3] = 1;
  CHECK(compare_tensors(a, b) == "element 3 (index [1, 1]): expected 0, got 1; 1 of 4 elements differ");
  tensor t(dtype::boolean, {1});
  tensor f = t.clone();
  t.data<std::uint8_t>()[0] = 1;
  CHECK(contains(compare_tensors(t, f), "expected true, got false"));
  CHECK(compare_tensors(a, tensor(dtype::i32, {2, 2})) == "type: expected int64, got int32");
  CHECK(compare_tensors(a, tensor(dtype::i64, {4})) == "shape: expected [2, 2], got [4]");
}

SCENARIO("test directories are listed as folder and test name") {
  test::temp_dir dir;
  write_neg_test(dir.path(), "test_b", {-1, 2, -3});
  write_neg_test(dir.path(), "test_a", {-1, 2, -3});
  std::filesystem::create_directories(dir.path() / "node" / "not_a_test");
  GIVEN("the data root") {
    auto tests = list_backend_tests({dir.path()});
    REQUIRE(tests.ok());
    REQUIRE(tests->size() == 2);
    CHECK(tests->at(0).name == "node/test_a");
    CHECK(tests->at(1).name == "node/test_b");
  }
  GIVEN("a folder with a trailing slash") {
    auto tests = list_backend_tests({(dir.path() / "node").string() + "/"});
    REQUIRE(tests.ok());
    CHECK(tests->size() == 2);
  }
  GIVEN("a single test") {
    auto tests = list_backend_tests({dir.path() / "node" / "test_b"});
    REQUIRE(tests.ok());
    REQUIRE(tests->size() == 1);
    CHECK(tests->at(0).name == "node/test_b");
  }
  GIVEN("a missing directory") {
    auto tests = list_backend_tests({dir.path() / "nowhere"});
    REQUIRE_FALSE(tests.ok());
    CHECK(tests.code() == errc::io_error);
  }
}

SCENARIO("a backend test passes fails or is unsupported") {
  test::temp_dir dir;
  auto good = write_neg_test(dir.path(), "test_good", {-1, 2, -3});
  auto bad = write_neg_test(dir.path(), "test_bad", {-1, 2, 3});
  auto unknown = write_neg_test(dir.path(), "test_unknown", {-1, 2, -3}, "Unknown");
  auto pass = run_backend_test({"node/test_good", good}, test_kernels());
  CHECK(pass.status == test_status::pass);
  CHECK(pass.reason.empty());
  auto failed = run_backend_test({"node/test_bad", bad}, test_kernels());
  CHECK(failed.status == test_status::fail);
  CHECK(failed.reason == "output 'y': element 2 (index [2]): expected 3, got -3; 1 of 3 elements differ, max abs diff 6");
  auto unsupported = run_backend_test({"node/test_unknown", unknown}, test_kernels());
  CHECK(unsupported.status == test_status::unsupported);
  CHECK(contains(unsupported.reason, "op Unknown (domain ai.onnx, opset 13) in node 'n'"));
}

SCENARIO("a broken test directory fails without stopping the run") {
  test::temp_dir dir;
  write_neg_test(dir.path(), "test_good", {-1, 2, -3});
  auto broken = write_neg_test(dir.path(), "test_broken", {-1, 2, -3});
  std::ofstream(broken / "model.onnx", std::ios::trunc) << "garbage";
  auto tests = list_backend_tests({dir.path()});
  REQUIRE(tests.ok());
  auto summary = run_conformance(*tests, {}, test_kernels());
  REQUIRE(summary.ok());
  CHECK(summary->passed == 1);
  CHECK(summary->failed == 1);
  CHECK(contains(summary->tests.at(0).reason, "is not an ONNX model"));
}

SCENARIO("the filter selects tests by regex") {
  test::temp_dir dir;
  write_neg_test(dir.path(), "test_one", {-1, 2, -3});
  write_neg_test(dir.path(), "test_two", {-1, 2, -3});
  auto tests = list_backend_tests({dir.path()});
  REQUIRE(tests.ok());
  conformance_options options;
  options.filter = "_two$";
  auto summary = run_conformance(*tests, options, test_kernels());
  REQUIRE(summary.ok());
  REQUIRE(summary->tests.size() == 1);
  CHECK(summary->tests[0].name == "node/test_two");
  options.filter = "([";
  CHECK(run_conformance(*tests, options, test_kernels()).code() == errc::invalid_argument);
}

SCENARIO("isolated runs turn a crashing or hanging kernel into a failed test") {
  test::temp_dir dir;
  write_neg_test(dir.path(), "test_crash", {-1, 2, -3}, "Crash");
  write_neg_test(dir.path(), "test_hang", {-1, 2, -3}, "Hang");
  write_neg_test(dir.path(), "test_ok", {-1, 2, -3});
  auto tests = list_backend_tests({dir.path()});
  REQUIRE(tests.ok());
  conformance_options options;
  options.isolate = true;
  options.child_timeout_seconds = 1;
  auto summary = run_conformance(*tests, options, test_kernels());
  REQUIRE(summary.ok());
  REQUIRE(summary->tests.size() == 3);
  CHECK(summary->tests[0].status == test_status::fail);
  CHECK(contains(summary->tests[0].reason, "crashed with signal 11"));
  CHECK(summary->tests[1].status == test_status::fail);
  CHECK(contains(summary->tests[1].reason, "timed out"));
  CHECK(summary->tests[2].status == test_status::pass);
}

SCENARIO("the conformance command prints JSON and uses its exit codes") {
  test::temp_dir dir;
  write_neg_test(dir.path(), "test_unknown", {-1, 2, -3}, "Unknown");
  auto [code, out] = run_cli("conformance '" + dir.path().string() + "' --json");
  CHECK(code == 0);
  auto json = nlohmann::json::parse(out, nullptr, false);
  REQUIRE_FALSE(json.is_discarded());
  CHECK(json["passed"] == 0);
  CHECK(json["failed"] == 0);
  CHECK(json["unsupported"] == 1);
  REQUIRE(json["tests"].size() == 1);
  CHECK(json["tests"][0]["name"] == "node/test_unknown");
  CHECK(json["tests"][0]["status"] == "unsupported");

  auto [text_code, text] = run_cli("conformance '" + dir.path().string() + "'");
  CHECK(text_code == 0);
  CHECK(contains(text, "UNSUPPORTED node/test_unknown: "));
  CHECK(contains(text, "passed 0, failed 0, unsupported 1"));

  CHECK(run_cli("conformance '" + (dir.path() / "missing").string() + "'").first == 1);
  CHECK(run_cli("conformance '" + dir.path().string() + "' --filter '(['").first == 2);
  CHECK(run_cli("conformance --no-such-flag").first == 2);
}

SCENARIO("the ONNX backend test suite passes at least the pinned count") {
  REQUIRE_MESSAGE(std::filesystem::is_directory(suite_root),
                  "libonnx-testdata is not installed at " << suite_root);
  std::vector<std::filesystem::path> roots;
  for (const char* folder : {"node", "pytorch-converted", "pytorch-operator", "simple"})
    roots.push_back(suite_root / folder);
  auto tests = list_backend_tests(roots);
  REQUIRE(tests.ok());
  CHECK(tests->size() == 1072);

  auto summary = run_conformance(*tests);
  REQUIRE(summary.ok());
  std::size_t crashes = 0;
  for (const auto& t : summary->tests) {
    const bool crashed = contains(t.reason, "the kernel threw") || t.reason.rfind("exception", 0) == 0 ||
                         t.reason == "unknown exception";
    if (crashed) {
      ++crashes;
      MESSAGE(t.name << " crashed: " << t.reason);
    }
  }
  std::cout << "ONNX backend tests: passed " << summary->passed << ", failed " << summary->failed
            << ", unsupported " << summary->unsupported << " (pinned pass count " << pinned_pass_count
            << ")\n";
  CHECK(crashes == 0);
  CHECK(summary->passed >= pinned_pass_count);
  CHECK(summary->passed + summary->failed + summary->unsupported == tests->size());
}
