// Per-request profiling: the data-path service stamps each request and its trace recorder
// writes Chrome-trace JSON with six ordered spans per request. The service tests use a fake
// job runner that reports when it computed; the last test goes through the public Runner
// with EDGERT_PROFILE set, as the CLI's --profile does.
#include <doctest/doctest.h>
#include <stdlib.h>

#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "actors/exec/service.hpp"
#include "actors/exec/trace.hpp"
#include "edgert/edgert.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace edgert;
using namespace edgert::exec;
using namespace std::chrono_literals;
using json = nlohmann::json;

const char* span_order[] = {"submit", "queue wait", "host-to-device", "execute", "device-to-host",
                            "receive"};

// Copies its 4-byte input to its output and says when it did.
class echo_runner final : public job_runner {
 public:
  result<job_report> run(const std::vector<const void*>& in, const std::vector<void*>& out) override {
    job_report report;
    report.compute_begin_ns = stamp_now();
    std::memcpy(out[0], in[0], 4);
    report.compute_end_ns = stamp_now();
    report.device_time_ns = 2500;
    return report;
  }
};

std::unique_ptr<service> traced_service(std::shared_ptr<trace_recorder> recorder) {
  std::vector<std::unique_ptr<job_runner>> runners;
  runners.push_back(std::make_unique<echo_runner>());
  service_options options;
  options.slot_count = 4;
  options.max_queued = 4;
  options.name = "traced model";
  options.trace = std::move(recorder);
  auto made = service::create({4}, {4}, std::move(runners), options);
  REQUIRE(made.ok());
  return std::move(*made);
}

json read_json(const std::filesystem::path& file) {
  std::ifstream in(file);
  REQUIRE_MESSAGE(in.good(), "no profile at " << file);
  std::stringstream text;
  text << in.rdbuf();
  auto doc = json::parse(text.str(), nullptr, false);
  REQUIRE_MESSAGE(!doc.is_discarded(), "not JSON:\n" << text.str());
  return doc;
}

// The "X" events of a profile grouped by request, each request's spans by name.
std::map<std::uint64_t, std::map<std::string, json>> spans_by_request(const json& doc) {
  std::map<std::uint64_t, std::map<std::string, json>> requests;
  for (const auto& e : doc.at("traceEvents")) {
    if (e.at("ph") != "X") continue;
    requests[e.at("args").at("request").get<std::uint64_t>()][e.at("name").get<std::string>()] = e;
  }
  return requests;
}

// Every span is there, has a pid, tid, ts and dur, and starts no earlier than the previous ends.
void check_ordered_spans(const std::map<std::string, json>& spans) {
  double previous_end = -1;
  for (const char* name : span_order) {
    INFO("span " << name);
    REQUIRE(spans.count(name) == 1);
    const auto& e = spans.at(name);
    CHECK(e.contains("pid"));
    CHECK(e.contains("tid"));
    const double ts = e.at("ts").get<double>(), dur = e.at("dur").get<double>();
    CHECK(dur >= 0);
    CHECK(ts >= previous_end - 0.0015);
    previous_end = ts + dur;
  }
}

}  // namespace

SCENARIO("a profiled service writes six ordered spans for every request") {
  test::temp_dir dir;
  const auto file = dir.path() / "profile.json";
  auto recorder = std::make_shared<trace_recorder>("traced model", file);
  {
    auto s = traced_service(recorder);
    for (int i = 0; i < 3; ++i) {  // the Runner's route: wait for the slot, read, release
      auto id = s->acquire(clock::now() + 5s);
      REQUIRE(id.ok());
      std::memcpy(s->at(*id).inputs[0], &i, 4);
      s->submit(*id, 0, completion_route::wait);
      REQUIRE(s->wait(*id, clock::now() + 5s));
      s->release(*id);
    }
    for (int i = 0; i < 2; ++i) {  // the Queue's route: results on the completion ring
      auto id = s->acquire(clock::now() + 5s);
      REQUIRE(id.ok());
      s->submit(*id, 100 + i, completion_route::ring);
    }
    for (int i = 0; i < 2; ++i) {
      auto t = s->pop_completion(clock::now() + 5s);
      REQUIRE(t.ok());
      s->release(*t);
    }
    CHECK(recorder->size() == 5);
  }  // the service goes: the profile is written

  const auto doc = read_json(file);
  const auto requests = spans_by_request(doc);
  REQUIRE(requests.size() == 5);
  for (const auto& [sequence, spans] : requests) {
    INFO("request " << sequence);
    check_ordered_spans(spans);
    CHECK(spans.at("execute").at("args").at("device_time_us").get<double>() == doctest::Approx(2.5));
    CHECK(spans.at("execute").at("tid") == 1);  // worker 0
    CHECK(spans.at("submit").at("tid").get<int>() >= 1000);  // a slot's track
  }
  bool named = false;
  for (const auto& e : doc.at("traceEvents"))
    if (e.at("ph") == "M" && e.at("name") == "process_name")
      named = named || e.at("args").at("name") == "traced model";
  CHECK(named);
}

SCENARIO("spans of a request that never ran are ordered and not negative") {
  request_record r;
  r.sequence = 7;
  r.code = errc::closed;
  r.at[static_cast<std::size_t>(stamp::queued)] = 5'000'000;
  r.at[static_cast<std::size_t>(stamp::started)] = 1'000'000;  // stale, from an earlier request
  r.at[static_cast<std::size_t>(stamp::finished)] = 6'000'000;
  r.at[static_cast<std::size_t>(stamp::released)] = 7'000'000;
  const auto doc = json::parse(chrome_trace_json({{1, "m", {r}}}, 0));
  const auto requests = spans_by_request(doc);
  REQUIRE(requests.count(7) == 1);
  check_ordered_spans(requests.at(7));
  CHECK(requests.at(7).at("execute").at("args").at("error") == "closed");
}

SCENARIO("no recorder is made when EDGERT_PROFILE is unset") {
  unsetenv(profile_environment_variable);
  CHECK(trace_recorder_from_environment("m") == nullptr);
}

SCENARIO("a Runner with EDGERT_PROFILE set writes its requests' spans when it goes") {
  test::temp_dir dir;
  const auto file = dir.path() / "runner.json";
  setenv(profile_environment_variable, file.c_str(), 1);
  {
    ContextOptions options;
    options.system = "host";
    options.board_config_dir = test::board_config_dir().string();
    options.runtime_dir = (dir.path() / "runtime").string();
    Context ctx(options);
    auto model =
        ctx.load_model(std::filesystem::path(EDGERT_TEST_DATA_DIR) / "models" / "identity" / "model.onnx");
    auto runner = ctx.create_runner(model);
    Tensor input(model.inputs()[0].dtype, model.inputs()[0].shape);
    std::memset(input.data(), 0, input.size_bytes());
    for (int i = 0; i < 4; ++i) runner.run({input});
    runner.close();
  }
  unsetenv(profile_environment_variable);
  const auto doc = read_json(file);
  const auto requests = spans_by_request(doc);
  REQUIRE(requests.size() == 4);
  for (const auto& [sequence, spans] : requests) {
    INFO("request " << sequence);
    check_ordered_spans(spans);
  }
}

SCENARIO("a model instance's device profiling writes only the device spans of its jobs") {
  unsetenv(profile_environment_variable);
  test::temp_dir dir;
  const auto file = dir.path() / "instance.json";
  {
    ContextOptions options;
    options.system = "m2";
    options.board_config_dir = test::board_config_dir().string();
    options.runtime_dir = (dir.path() / "runtime").string();
    Context ctx(options);
    auto model =
        ctx.load_model(std::filesystem::path(EDGERT_TEST_DATA_DIR) / "models" / "identity" / "model.onnx");
    auto connection = ctx.device_connect("m2", 1);
    ModelInstanceOptions mo;
    mo.device_profiling = true;
    mo.profile_file = file.string();
    auto instance = connection.load_model_instance(model, mo);
    Tensor input(model.inputs()[0].dtype, model.inputs()[0].shape);
    std::memset(input.data(), 0, input.size_bytes());
    std::vector<Tensor> outputs{Tensor(model.outputs()[0].dtype, model.outputs()[0].shape)};
    for (int i = 0; i < 3; ++i) instance.run({input}, outputs);
    instance.close();
  }
  const auto requests = spans_by_request(read_json(file));
  REQUIRE(requests.size() == 3);
  for (const auto& [sequence, spans] : requests) {
    INFO("request " << sequence);
    CHECK(spans.size() == 3);
    CHECK(spans.count("execute") == 1);
    CHECK(spans.count("host-to-device") == 1);
    CHECK(spans.count("submit") == 0);
    CHECK(spans.at("execute").at("args").at("device_time_us").get<double>() > 0);
  }
}
