// End-to-end tests of `edgert run` and `edgert bench`: each test runs the real binary as a
// child process (tests/support/process.hpp) with its own runtime directory and the source
// tree's board files, on the committed models, and checks exit codes, output files, JSON
// and error messages.
#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "edgert/tensor.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace edgert::test;
using json = nlohmann::json;

std::filesystem::path model_dir(const char* name) {
  return std::filesystem::path(EDGERT_TEST_DATA_DIR) / "models" / name;
}
std::string model(const char* name) { return (model_dir(name) / "model.onnx").string(); }

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string shown(const process_result& r) {
  std::ostringstream text;
  text << "exit " << r.exit_code << "\n--- stdout ---\n" << r.out << "--- stderr ---\n" << r.err;
  return text.str();
}

json parsed(const std::string& text) {
  auto value = json::parse(text, nullptr, false);
  REQUIRE_MESSAGE(!value.is_discarded(), "not JSON:\n" << text);
  return value;
}

// One test's private edgert world. `system` keeps the simulated boards to what a test needs.
struct cli {
  temp_dir runtime;
  std::string system = "host";

  process_result edgert(const std::vector<std::string>& args) const {
    std::vector<std::string> all{"--board-configs", board_config_dir().string(), "--runtime-dir",
                                 runtime.path().string(), "--system", system};
    all.insert(all.end(), args.begin(), args.end());
    // Far above the ~100 ms a run takes: only a hang trips it.
    auto r = run_process(edgert_binary(), all, {}, std::chrono::seconds(30));
    REQUIRE_MESSAGE(!r.timed_out, "edgert hung and was killed\n" << shown(r));
    REQUIRE_MESSAGE(r.exit_code >= 0, "edgert did not start\n" << shown(r));
    return r;
  }
};

// Elementwise |a - b| <= atol + rtol * |b|, with b as float64 (the generator's reference).
bool close_to(const edgert::Tensor& got, const edgert::Tensor& expected, double rtol, double atol) {
  if (got.dtype() != edgert::DType::float32 || expected.dtype() != edgert::DType::float64) return false;
  if (got.elements() != expected.elements()) return false;
  const auto* g = static_cast<const float*>(got.data());
  const auto* e = static_cast<const double*>(expected.data());
  for (std::int64_t i = 0; i < got.elements(); ++i)
    if (std::abs(static_cast<double>(g[i]) - e[i]) > atol + rtol * std::abs(e[i])) return false;
  return true;
}

}  // namespace

SCENARIO("edgert run writes outputs equal to the model's expected output") {
  cli c;
  temp_dir out;
  auto r = c.edgert({"run", model("mnist_cnn"), "--input",
                     "input=" + (model_dir("mnist_cnn") / "input_0.npy").string(), "--output-dir",
                     out.path().string()});
  INFO(shown(r));
  REQUIRE(r.exit_code == 0);
  CHECK_FALSE(contains(r.err, "random"));
  CHECK(contains(r.out, "logits"));
  const auto written = out.path() / "logits.npy";
  REQUIRE(std::filesystem::exists(written));
  const auto got = edgert::load_npy(written.string());
  const auto expected = edgert::load_npy((model_dir("mnist_cnn") / "expected_output_0.npy").string());
  CHECK(got.shape() == edgert::Shape{1, 10});
  CHECK(close_to(got, expected, 1e-3, 1e-4));
}

SCENARIO("edgert run without inputs announces random values") {
  cli c;
  auto r = c.edgert({"run", model("mnist_cnn")});
  INFO(shown(r));
  CHECK(r.exit_code == 0);
  CHECK(contains(r.err, "no --input for 'input'"));
  CHECK(contains(r.err, "random"));
  CHECK(contains(r.out, "from random"));
}

SCENARIO("edgert run --json prints the model inputs and outputs as one document") {
  cli c;
  auto r = c.edgert({"run", model("mnist_cnn"), "--json"});
  INFO(shown(r));
  REQUIRE(r.exit_code == 0);
  const auto doc = parsed(r.out);
  CHECK(doc["model"] == "mnist_cnn");
  CHECK(doc["device"] == "host");
  CHECK(doc["latency_ms"].get<double>() > 0);
  REQUIRE(doc["inputs"].size() == 1);
  CHECK(doc["inputs"][0]["name"] == "input");
  CHECK(contains(doc["inputs"][0]["source"].get<std::string>(), "random"));
  REQUIRE(doc["outputs"].size() == 1);
  CHECK(doc["outputs"][0]["name"] == "logits");
  CHECK(doc["outputs"][0]["dtype"] == "float32");
  CHECK(doc["outputs"][0]["shape"] == json::array({1, 10}));
  CHECK(doc["outputs"][0]["argmax"].get<int>() >= 0);
}

SCENARIO("edgert run fails clearly on a missing input file") {
  cli c;
  auto r = c.edgert({"run", model("mnist_cnn"), "--input", "input=/nonexistent/x.npy"});
  INFO(shown(r));
  CHECK(r.exit_code != 0);
  CHECK(contains(r.err, "/nonexistent/x.npy"));
}

SCENARIO("edgert run fails clearly on an input name the model lacks") {
  cli c;
  auto r = c.edgert({"run", model("mnist_cnn"), "--input",
                     "bogus=" + (model_dir("mnist_cnn") / "input_0.npy").string()});
  INFO(shown(r));
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "invalid_argument"));
  CHECK(contains(r.err, "no input named 'bogus'"));
}

SCENARIO("edgert run fails clearly on an input of the wrong shape") {
  cli c;
  // identity's sample is float32 [1, 16]; the MNIST CNN takes [1, 1, 28, 28].
  auto r = c.edgert({"run", model("mnist_cnn"), "--input",
                     "input=" + (model_dir("identity") / "input_0.npy").string()});
  INFO(shown(r));
  CHECK(r.exit_code == 2);
  CHECK(contains(r.err, "invalid_argument"));
  CHECK(contains(r.err, "shape"));
  CHECK(contains(r.err, "[1,1,28,28]"));
}

SCENARIO("edgert run --profile writes the request's spans as Chrome-trace JSON") {
  cli c;
  temp_dir out;
  const auto file = out.path() / "trace.json";
  auto r = c.edgert({"run", model("identity"), "--profile", file.string()});
  INFO(shown(r));
  REQUIRE(r.exit_code == 0);
  std::ifstream in(file);
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  const auto doc = parsed(text.str());
  int spans = 0;
  for (const auto& e : doc["traceEvents"]) spans += e["ph"] == "X" ? 1 : 0;
  CHECK(spans == 6);
}

SCENARIO("edgert bench --count --json on the host device reports every key") {
  cli c;
  auto r = c.edgert({"bench", model("mnist_cnn"), "--count", "40", "--json"});
  INFO(shown(r));
  REQUIRE(r.exit_code == 0);
  const auto doc = parsed(r.out);
  CHECK(doc["count"] == 40);
  const auto& latency = doc["latency_ms"];
  CHECK(latency["p50"].get<double>() > 0);
  CHECK(latency["p90"].get<double>() >= latency["p50"].get<double>());
  CHECK(latency["p99"].get<double>() >= latency["p90"].get<double>());
  CHECK(doc["throughput_ips"].get<double>() > 0);
  CHECK(doc["device_time_ms"].get<double>() > 0);
}

SCENARIO("edgert bench --count --json on a simulated board reports its device time") {
  cli c;
  c.system = "sbc";
  auto r = c.edgert({"bench", model("mnist_cnn"), "--device", "dev:0", "--count", "12", "--json"});
  INFO(shown(r));
  REQUIRE(r.exit_code == 0);
  const auto doc = parsed(r.out);
  CHECK(doc["count"] == 12);
  CHECK(doc["device"] == "dev:0");
  CHECK(doc["latency_ms"]["p50"].get<double>() > 0);
  CHECK(doc["throughput_ips"].get<double>() > 0);
  // The SBC's launch cost alone is 150 us per job.
  CHECK(doc["device_time_ms"].get<double>() >= 0.15);
}

SCENARIO("edgert bench --api queue --count --json runs exactly the count") {
  cli c;
  auto r = c.edgert({"bench", model("identity"), "--api", "queue", "--count", "100", "--json"});
  INFO(shown(r));
  REQUIRE(r.exit_code == 0);
  const auto doc = parsed(r.out);
  CHECK(doc["count"] == 100);
  CHECK(doc["errors"] == 0);
}
