// End-to-end tests of `edgert info`: each test runs the real binary as a child process
// (tests/support/process.hpp) on a committed MNIST model or a broken file and checks the
// exit code, stdout and stderr.
#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace edgert::test;
using json = nlohmann::json;

std::string model(const char* name) {
  return (std::filesystem::path(EDGERT_TEST_DATA_DIR) / "models" / name / "model.onnx").string();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Runs edgert with `args`; a hang (far above the ~50 ms a run takes) fails the test.
process_result run_edgert(const std::vector<std::string>& args) {
  auto r = run_process(edgert_binary(), args, {}, std::chrono::seconds(20));
  std::ostringstream shown;
  shown << "exit " << r.exit_code << "\n--- stdout ---\n" << r.out << "--- stderr ---\n" << r.err;
  INFO(shown.str());
  REQUIRE_FALSE(r.timed_out);
  REQUIRE(r.exit_code >= 0);
  return r;
}

}  // namespace

TEST_CASE("edgert info prints the summary of a quantized model") {
  auto r = run_edgert({"info", model("mnist_cnn_qdq")});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(contains(r.out, "mnist_cnn_qdq"));
  CHECK(contains(r.out, "int8"));
  CHECK(contains(r.out, "[1, 1, 28, 28]"));
  CHECK(contains(r.out, "NCHW"));
  CHECK(contains(r.out, "zero_point -128"));
  CHECK(contains(r.out, "Conv"));
  CHECK(contains(r.out, "791,840"));
}

TEST_CASE("edgert info --json prints one parseable document") {
  auto r = run_edgert({"info", model("mnist_cnn_qlinear"), "--json"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  auto doc = json::parse(r.out, nullptr, false);
  REQUIRE_FALSE(doc.is_discarded());
  CHECK(doc["name"] == "mnist_cnn_qlinear");
  CHECK(doc["inputs"][0]["dtype"] == "uint8");
  CHECK(doc["inputs"][0]["shape"] == json::array({1, 1, 28, 28}));
  CHECK(doc["outputs"][0]["layout"] == "NC");
  CHECK(doc["op_counts"]["QLinearMatMul"] == 1);
  CHECK(doc["macs"] == 791840);
  CHECK(doc["parameter_count"].get<std::uint64_t>() > 0);
}

TEST_CASE("edgert info exits 2 naming a missing file") {
  auto r = run_edgert({"info", "/nonexistent/model.onnx"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(contains(r.err, "/nonexistent/model.onnx"));
  CHECK(contains(r.err, "io_error"));
}

TEST_CASE("edgert info exits 2 on a corrupt model file") {
  temp_dir dir;
  const auto path = dir.path() / "broken.onnx";
  {
    std::ofstream out(path, std::ios::binary);
    out << "\x08\x07garbage that is not protobuf \xff\xff\xff";
  }
  auto r = run_edgert({"info", path.string()});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "broken.onnx"));
  CHECK(contains(r.err, "not an ONNX model"));
}

TEST_CASE("edgert info without a model is a usage error") {
  auto r = run_edgert({"info"});
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "model"));
}
