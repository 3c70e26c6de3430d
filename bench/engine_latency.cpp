// engine_latency: single-inference latency of one ONNX model through the engine, at batch 1,
// the way bench/compare_ort measures ONNX Runtime.
//
// What is timed: only the run call. With the planned engine (default) that is
// executor::run() on preallocated input and output buffers; with --reference it is the
// reference interpreter's run(), which allocates its results. Loading, planning, the first
// run and the warm-up runs are outside the samples.
//
// Input: --input FILE.npy (once per graph input, in order), else the sample files named by
// the manifest.json beside the model, else zeros. Output: --output FILE.npy receives the
// first graph output of the last run.
//
// Memory: VmHWM (peak resident set) of this process, read from /proc/self/status at the end,
// and VmRSS before the model was loaded, both in KiB.
//
// --serve: after loading and warming up, prints one JSON line {"ready": true, ...} and then
// reads commands from stdin, one per line, so a driver can interleave this process with
// another runtime: "run N" times N runs and prints {"times_ms": [...]}; "quit" writes the
// output file, prints {"vmhwm_kib": ...} and exits.
//
// Threads: the main thread drives every run; --threads sets the plan's compute threads.
//
// Usage: engine_latency MODEL.onnx [--threads N] [--count N] [--warmup N] [--json]
//                       [--input FILE.npy]... [--output FILE.npy] [--reference] [--serve]
//                       [--describe]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/interpreter.hpp"
#include "engine/manifest.hpp"
#include "engine/npy.hpp"
#include "engine/onnx_loader.hpp"
#include "engine/plan.hpp"

using namespace edgert;
using namespace edgert::engine;
using clock_type = std::chrono::steady_clock;
using json = nlohmann::ordered_json;

namespace {

struct options {
  std::string model;
  int threads = 1;
  int count = 50;
  int warmup = 5;
  bool json_out = false;
  bool reference = false;
  bool serve = false;
  bool describe = false;
  std::vector<std::string> inputs;
  std::string output;
};

[[noreturn]] void die(const std::string& message, int code = 1) {
  std::cerr << "engine_latency: " << message << "\n";
  std::exit(code);
}

void usage() {
  std::cout << "usage: engine_latency MODEL.onnx [--threads N] [--count N] [--warmup N] [--json]\n"
               "                      [--input FILE.npy]... [--output FILE.npy] [--reference]\n"
               "                      [--serve] [--describe]\n"
               "Times executor::run (or the reference interpreter with --reference) at batch 1.\n";
}

int positive(const std::string& flag, const char* text, int minimum) {
  char* end = nullptr;
  long v = std::strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || v < minimum || v > 1000000)
    die(flag + " needs an integer >= " + std::to_string(minimum) + ", not '" + text + "'", 2);
  return static_cast<int>(v);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) die(a + " needs a value", 2);
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      usage();
      std::exit(0);
    } else if (a == "--threads") o.threads = positive(a, value(), 1);
    else if (a == "--count") o.count = positive(a, value(), 1);
    else if (a == "--warmup") o.warmup = positive(a, value(), 0);
    else if (a == "--json") o.json_out = true;
    else if (a == "--reference") o.reference = true;
    else if (a == "--serve") o.serve = true;
    else if (a == "--describe") o.describe = true;
    else if (a == "--input") o.inputs.push_back(value());
    else if (a == "--output") o.output = value();
    else if (!a.empty() && a[0] == '-') die("unknown option " + a, 2);
    else if (o.model.empty()) o.model = a;
    else die("more than one model given", 2);
  }
  if (o.model.empty()) {
    usage();
    std::exit(2);
  }
  return o;
}

// A "VmHWM:" style field of /proc/self/status in KiB; -1 when unavailable.
long status_kib(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string key = std::string(field) + ":";
  while (std::getline(in, line))
    if (line.compare(0, key.size(), key) == 0) return std::strtol(line.c_str() + key.size(), nullptr, 10);
  return -1;
}

double ms_since(clock_type::time_point start) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - start).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  // Nearest rank on the sorted samples.
  std::size_t rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size()) + 0.999999);
  rank = std::clamp<std::size_t>(rank, 1, v.size());
  return v[rank - 1];
}

// The model's inputs: the files given, else the manifest's samples, else zeros.
std::vector<tensor> load_inputs(const options& o, const graph& g) {
  std::vector<std::string> files = o.inputs;
  if (files.empty()) {
    auto manifest = find_manifest_for(o.model);
    if (!manifest) die(manifest.error().message);
    if (*manifest)
      for (const auto& v : g.inputs)
        if (const auto* m = (*manifest)->find_input(v.name); m && !m->file.empty())
          files.push_back(m->file.string());
    if (files.size() != g.inputs.size()) files.clear();
  }
  if (!files.empty() && files.size() != g.inputs.size())
    die("the model has " + std::to_string(g.inputs.size()) + " inputs but " +
            std::to_string(files.size()) + " --input files were given", 2);
  std::vector<tensor> out;
  for (std::size_t i = 0; i < g.inputs.size(); ++i) {
    const auto& v = g.inputs[i];
    if (!files.empty()) {
      auto t = read_npy(files[i]);
      if (!t) die(files[i] + ": " + t.error().message, 2);
      out.push_back(std::move(*t));
      continue;
    }
    if (!v.shape) die("input '" + v.name + "' has no static shape; give --input", 2);
    for (auto d : *v.shape)
      if (d < 0) die("input '" + v.name + "' has a run-time dimension; give --input", 2);
    out.emplace_back(v.type, *v.shape);
  }
  return out;
}

// One way of running the model; run() is what the samples time.
class runner {
 public:
  virtual ~runner() = default;
  virtual void run() = 0;
  virtual const tensor& first_output() const = 0;
  virtual std::string mode() const = 0;
};

class plan_runner : public runner {
 public:
  plan_runner(std::shared_ptr<const graph> g, const std::vector<tensor>& inputs, int threads, bool describe) {
    plan_options po;
    po.threads = threads;
    auto made = plan::create(std::move(g), po);
    if (!made) die("planning failed: " + made.error().message);
    plan_ = *made;
    if (describe) std::cerr << plan_->describe();
    auto ex = plan_->make_executor();
    if (!ex) die("executor: " + ex.error().message);
    executor_ = std::move(*ex);
    const auto& ins = plan_->inputs();
    if (ins.size() != inputs.size()) die("input count mismatch");
    for (std::size_t i = 0; i < ins.size(); ++i) {
      if (inputs[i].type() != ins[i].type || !ins[i].shape || inputs[i].shape() != *ins[i].shape)
        die("input '" + ins[i].name + "' must be " + std::string(to_string(ins[i].type)) + " " +
                (ins[i].shape ? to_string(*ins[i].shape) : std::string("?")) + ", the file holds " +
                std::string(to_string(inputs[i].type())) + " " + to_string(inputs[i].shape()), 2);
      in_ptrs_.push_back(inputs[i].raw());
    }
    for (const auto& v : plan_->outputs()) {
      outputs_.emplace_back(v.type, v.shape.value_or(shape_t{}));
      out_ptrs_.push_back(outputs_.back().raw());
    }
  }
  void run() override {
    auto r = executor_->run(in_ptrs_, out_ptrs_);
    if (!r) die("run failed: " + r.error().message);
  }
  const tensor& first_output() const override { return outputs_.at(0); }
  std::string mode() const override { return "plan"; }

 private:
  std::shared_ptr<const plan> plan_;
  std::unique_ptr<executor> executor_;
  std::vector<const void*> in_ptrs_;
  std::vector<tensor> outputs_;
  std::vector<void*> out_ptrs_;
};

class reference_runner : public runner {
 public:
  reference_runner(std::shared_ptr<const graph> g, const std::vector<tensor>& inputs) {
    auto made = interpreter::create(g);
    if (!made) die("interpreter: " + made.error().message);
    interp_ = std::make_unique<interpreter>(std::move(*made));
    for (std::size_t i = 0; i < inputs.size(); ++i) feeds_[g->inputs[i].name] = inputs[i];
    output_name_ = g->outputs.at(0).name;
  }
  void run() override {
    auto r = interp_->run(feeds_);
    if (!r) die("run failed: " + r.error().message);
    last_ = r->at(output_name_);
  }
  const tensor& first_output() const override { return last_; }
  std::string mode() const override { return "reference"; }

 private:
  std::unique_ptr<interpreter> interp_;
  std::map<std::string, tensor> feeds_;
  std::string output_name_;
  tensor last_;
};

std::vector<double> timed_runs(runner& r, int count) {
  std::vector<double> times;
  times.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    auto start = clock_type::now();
    r.run();
    times.push_back(ms_since(start));
  }
  return times;
}

void write_output(const options& o, const runner& r) {
  if (o.output.empty()) return;
  auto w = write_npy(o.output, r.first_output());
  if (!w) die(o.output + ": " + w.error().message);
}

int serve(const options& o, runner& r, json ready) {
  ready["ready"] = true;
  std::cout << ready.dump() << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream words(line);
    std::string command;
    words >> command;
    if (command == "run") {
      int n = 0;
      if (!(words >> n) || n < 1) die("serve: 'run N' needs N >= 1", 2);
      json reply;
      reply["times_ms"] = timed_runs(r, n);
      std::cout << reply.dump() << std::endl;
    } else if (command == "quit") {
      write_output(o, r);
      json reply;
      reply["vmhwm_kib"] = status_kib("VmHWM");
      std::cout << reply.dump() << std::endl;
      return 0;
    } else if (!command.empty()) {
      die("serve: unknown command '" + command + "'", 2);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  const long rss_start = status_kib("VmRSS");

  auto start = clock_type::now();
  auto loaded = load_onnx_file(o.model);
  if (!loaded) die(loaded.error().message, 2);
  auto g = std::make_shared<const graph>(std::move(*loaded));
  const double load_ms = ms_since(start);
  const auto inputs = load_inputs(o, *g);

  start = clock_type::now();
  std::unique_ptr<runner> r;
  if (o.reference) r = std::make_unique<reference_runner>(g, inputs);
  else r = std::make_unique<plan_runner>(g, inputs, o.threads, o.describe);
  const double prepare_ms = ms_since(start);

  start = clock_type::now();
  r->run();
  const double first_ms = ms_since(start);
  timed_runs(*r, o.warmup);

  json doc;
  doc["runtime"] = "edgert";
  doc["model"] = o.model;
  doc["mode"] = r->mode();
  doc["threads"] = o.reference ? 1 : o.threads;
  doc["load_ms"] = load_ms;
  doc["prepare_ms"] = prepare_ms;
  doc["first_run_ms"] = first_ms;
  doc["vmrss_start_kib"] = rss_start;
  if (o.serve) return serve(o, *r, doc);

  const auto times = timed_runs(*r, o.count);
  write_output(o, *r);
  const double median = percentile(times, 50), p90 = percentile(times, 90);
  const double min = *std::min_element(times.begin(), times.end());
  const long hwm = status_kib("VmHWM");
  if (o.json_out) {
    doc["count"] = o.count;
    doc["median_ms"] = median;
    doc["p90_ms"] = p90;
    doc["min_ms"] = min;
    doc["times_ms"] = times;
    doc["vmhwm_kib"] = hwm;
    std::cout << doc.dump(2) << std::endl;
  } else {
    std::printf("%s  mode %s  threads %d  runs %d\n", o.model.c_str(), r->mode().c_str(),
                o.reference ? 1 : o.threads, o.count);
    std::printf("median %.3f ms  p90 %.3f ms  min %.3f ms\n", median, p90, min);
    std::printf("load %.1f ms  prepare %.1f ms  first run %.3f ms  peak RSS %.1f MiB (%.1f MiB at start)\n",
                load_ms, prepare_ms, first_ms, static_cast<double>(hwm) / 1024.0,
                static_cast<double>(rss_start) / 1024.0);
  }
  return 0;
}
