// fault_isolation: how much a faulty model disturbs a healthy one on the same board.
//
// Two runners of one model on two cores of one simulated M.2 board (real time, paced):
// the healthy one on core 0 runs requests back to back and its latency is measured; the
// neighbour on core 1 is, in turn, absent, failing every job (job_error: restarts, no
// board reset), or hanging now and then (job_hang: watchdog timeout, board reset, and the
// healthy model's jobs in flight during the reset fail with DeviceFault). Prints the
// healthy model's p50/p99 latency and error count per phase, and what the neighbour saw.
//
//   fault_isolation [--model FILE.onnx] [--requests N] [--watchdog-ms N]
// (run from the repository root, or give --model).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "scratch_dir.hpp"
#include "edgert/edgert.hpp"
#include "edgert/sim_control.hpp"

using namespace edgert;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

struct options {
  std::string model = "tests/data/models/mnist_cnn/model.onnx";  // from the repository root
  int requests = 2000;
  int watchdog_ms = 20;
};

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--model") o.model = next();
    else if (a == "--requests") o.requests = std::atoi(next().c_str());
    else if (a == "--watchdog-ms") o.watchdog_ms = std::atoi(next().c_str());
    else {
      std::fprintf(stderr, "usage: fault_isolation [--model FILE] [--requests N] [--watchdog-ms N]\n");
      std::exit(2);
    }
  }
  return o;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

struct neighbour_counts {
  std::atomic<long> ok{0}, timeout{0}, device_fault{0}, other{0};
};

void phase(const char* name, Context& ctx, Runner& healthy, Runner* neighbour, const Tensor& input,
           int requests) {
  std::atomic<bool> stop{false};
  neighbour_counts seen;
  std::thread noise;
  if (neighbour)
    noise = std::thread([&] {
      while (!stop.load()) {
        auto r = neighbour->run_async({input}).get();
        if (r.ok()) ++seen.ok;
        else if (r.code == errc::timeout) ++seen.timeout;
        else if (r.code == errc::device_fault) ++seen.device_fault;
        else ++seen.other;
      }
    });
  std::vector<double> latency_us;
  std::map<std::string, int> errors;
  for (int i = 0; i < requests; ++i) {
    const auto start = steady::now();
    auto r = healthy.run_async({input}).get();
    const double us = std::chrono::duration<double, std::micro>(steady::now() - start).count();
    if (r.ok())
      latency_us.push_back(us);
    else
      ++errors[std::string(to_string(r.code))];
  }
  stop = true;
  if (noise.joinable()) noise.join();
  int failed = 0;
  for (auto& [code, n] : errors) failed += n;
  std::printf("%-26s healthy: p50 %8.1f us  p99 %8.1f us  ok %5zu  errors %3d", name,
              percentile(latency_us, 0.50), percentile(latency_us, 0.99), latency_us.size(), failed);
  for (auto& [code, n] : errors) std::printf(" (%s %d)", code.c_str(), n);
  std::printf("\n");
  if (neighbour) {
    auto h = neighbour->health();
    std::printf("%-26s neighbour: ok %ld  timeout %ld  device_fault %ld  other %ld  restarts %llu  state %s\n",
                "", seen.ok.load(), seen.timeout.load(), seen.device_fault.load(), seen.other.load(),
                static_cast<unsigned long long>(h.restarts_total), std::string(to_string(h.state)).c_str());
  }
  auto d = ctx.device_health("dev:0");
  std::printf("%-26s device: %s, recoveries %llu\n", "", std::string(to_string(d.state)).c_str(),
              static_cast<unsigned long long>(d.recoveries));
}

}  // namespace

int main(int argc, char** argv) {
  const options o = parse(argc, argv);
  scratch_dir scratch;
  ContextOptions co;
  co.system = "m2";
  co.runtime_dir = scratch.path().string();
  Context ctx(co);
  auto model = ctx.load_model(o.model);
  std::vector<Tensor> inputs;
  for (auto& t : model.inputs()) inputs.emplace_back(t.dtype, t.shape);
  const Tensor& input = inputs.front();

  RunnerOptions healthy_options;
  healthy_options.device = "dev:0";
  auto healthy = ctx.create_runner(model, healthy_options);  // core 0
  RunnerOptions faulty_options;
  faulty_options.device = "dev:0";
  faulty_options.supervision.watchdog = std::chrono::milliseconds(o.watchdog_ms);
  faulty_options.supervision.max_restarts = 1'000'000;  // keeps failing, never given up
  faulty_options.supervision.restart_window = 1ms;
  auto faulty = ctx.create_runner(model, faulty_options);  // core 1

  for (int i = 0; i < 50; ++i) healthy.run({input});  // warm-up
  std::printf("fault_isolation: %s, %d requests per phase, neighbour watchdog %d ms\n",
              o.model.c_str(), o.requests, o.watchdog_ms);
  phase("alone", ctx, healthy, nullptr, input, o.requests);
  phase("neighbour healthy, busy", ctx, healthy, &faulty, input, o.requests);

  Fault error;
  error.kind = FaultKind::job_error;
  error.core = 1;
  error.trigger = FaultTrigger::with_probability(1.0);
  error.message = "injected ECC error";
  ctx.sim().inject("dev:0", error);
  phase("neighbour failing", ctx, healthy, &faulty, input, o.requests);
  ctx.sim().clear("dev:0");

  Fault hang;
  hang.kind = FaultKind::job_hang;
  hang.core = 1;
  hang.trigger = FaultTrigger::with_probability(0.2);
  ctx.sim().inject("dev:0", hang);
  phase("neighbour hanging", ctx, healthy, &faulty, input, o.requests);
  ctx.sim().clear("dev:0");
  return 0;
}
