// serving_overhead: what the serving path adds to a model's own compute time on the host
// device. Side by side in one process it times single inferences of the same model
//
//   engine   the engine's plan executor run directly on preallocated buffers (compute only)
//   runner   Runner::run(inputs, outputs): validation, slot, ring, worker thread, wait, copy out
//   runner*  Runner::run(inputs): the same, returning freshly allocated output tensors
//
// in alternating rounds (so machine noise lands on all alike) and prints p50/p90/p99 of each
// and the overhead, runner minus engine. The default model is the committed `identity`
// (a copy of 64 bytes), so the overhead is nearly the whole latency. Target: p50 <= 10 us.
//
//   serving_overhead [MODEL.onnx] [--rounds N] [--count N]
//
// Threads: the main thread times everything; the Runner's one worker thread computes.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "edgert/edgert.hpp"
#include "engine/onnx_loader.hpp"
#include "engine/plan.hpp"
#include "latency_stats.hpp"
#include "scratch_dir.hpp"

namespace {

struct options {
  std::string model;
  int rounds = 20;
  int count = 2000;  // timed runs per side per round
};

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--rounds" && i + 1 < argc) o.rounds = std::atoi(argv[++i]);
    else if (a == "--count" && i + 1 < argc) o.count = std::atoi(argv[++i]);
    else if (a == "--help" || a == "-h") {
      std::printf("usage: serving_overhead [MODEL.onnx] [--rounds N] [--count N]\n");
      std::exit(0);
    } else if (!a.empty() && a[0] != '-') o.model = a;
    else {
      std::fprintf(stderr, "serving_overhead: unknown argument '%s'\n", a.c_str());
      std::exit(2);
    }
  }
  if (o.model.empty()) o.model = bench::example_model(argv[0], "identity").string();
  if (o.rounds < 1 || o.count < 1) {
    std::fprintf(stderr, "serving_overhead: --rounds and --count must be positive\n");
    std::exit(2);
  }
  return o;
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "serving_overhead: %s\n", what.c_str());
  std::exit(1);
}

// The engine side: one executor over buffers holding the same input bytes.
struct engine_side {
  std::shared_ptr<const edgert::engine::plan> plan;
  std::unique_ptr<edgert::engine::executor> executor;
  std::vector<std::vector<std::byte>> in, out;
  std::vector<const void*> in_ptrs;
  std::vector<void*> out_ptrs;

  engine_side(const std::string& path, const std::vector<edgert::Tensor>& inputs,
              const std::vector<edgert::TensorInfo>& outputs) {
    using namespace edgert::engine;
    auto loaded = load_onnx_file(path);
    if (!loaded) die(loaded.error().message);
    plan_options po;
    po.threads = 1;
    auto made = plan::create(std::make_shared<const graph>(std::move(*loaded)), po);
    if (!made) die(made.error().message);
    plan = *made;
    auto ex = plan->make_executor();
    if (!ex) die(ex.error().message);
    executor = std::move(*ex);
    for (auto& t : inputs) {
      in.emplace_back(t.size_bytes());
      std::memcpy(in.back().data(), t.data(), t.size_bytes());
      in_ptrs.push_back(in.back().data());
    }
    for (auto& t : outputs) {
      out.emplace_back(t.size_bytes());
      out_ptrs.push_back(out.back().data());
    }
  }
  void run() {
    auto r = executor->run(in_ptrs, out_ptrs);
    if (!r) die(r.error().message);
  }
};

template <class F>
void time_runs(int count, std::vector<double>& samples, F&& body) {
  for (int i = 0; i < count; ++i) {
    const auto t0 = bench::steady::now();
    body();
    samples.push_back(bench::micros(bench::steady::now() - t0));
  }
}

void print_row(const char* name, const bench::summary& s) {
  std::printf("%-10s %9.2f %9.2f %9.2f\n", name, s.p50, s.p90, s.p99);
}

}  // namespace

int main(int argc, char** argv) {
  const auto o = parse(argc, argv);
  try {
    scratch_dir runtime;
    edgert::Context ctx(host_only_options(runtime));
    auto model = ctx.load_model(o.model);
    std::vector<edgert::Tensor> inputs, outputs;
    for (auto& info : model.inputs()) {
      edgert::Tensor t(info.dtype, info.shape);
      auto* bytes = static_cast<unsigned char*>(t.data());
      for (std::size_t i = 0; i < t.size_bytes(); ++i) bytes[i] = static_cast<unsigned char>(i * 7 % 61);
      inputs.push_back(std::move(t));
    }
    for (auto& info : model.outputs()) outputs.emplace_back(info.dtype, info.shape);
    engine_side engine(o.model, inputs, model.outputs());
    edgert::RunnerOptions ro;
    ro.device = "host";
    auto runner = ctx.create_runner(model, ro);

    // Warm up both sides (caches, page faults, the worker's first wake-up).
    for (int i = 0; i < 500; ++i) {
      engine.run();
      runner.run(inputs, outputs);
    }
    std::vector<double> engine_us, runner_us, alloc_us;
    const auto per_round = static_cast<std::size_t>(o.count) * static_cast<std::size_t>(o.rounds);
    engine_us.reserve(per_round);
    runner_us.reserve(per_round);
    alloc_us.reserve(per_round);
    for (int round = 0; round < o.rounds; ++round) {
      if (round % 2 == 0) time_runs(o.count, engine_us, [&] { engine.run(); });
      time_runs(o.count, runner_us, [&] { runner.run(inputs, outputs); });
      time_runs(o.count, alloc_us, [&] { auto out = runner.run(inputs); });
      if (round % 2 == 1) time_runs(o.count, engine_us, [&] { engine.run(); });
    }
    runner.close();

    const auto e = bench::summarize(engine_us), r = bench::summarize(runner_us),
               a = bench::summarize(alloc_us);
    std::printf("model %s on the host device, 1 worker; %d rounds x %d runs per side\n",
                model.name().c_str(), o.rounds, o.count);
    std::printf("%-10s %9s %9s %9s   (microseconds per inference)\n", "", "p50", "p90", "p99");
    print_row("engine", e);
    print_row("runner", r);
    print_row("runner*", a);
    print_row("overhead", {r.p50 - e.p50, r.p90 - e.p90, r.p99 - e.p99});
    print_row("overhead*", {a.p50 - e.p50, a.p90 - e.p90, a.p99 - e.p99});
    std::printf("runner = Runner::run(inputs, outputs); runner* = Runner::run(inputs) (allocates outputs)\n");
    std::printf("target: p50 overhead <= 10 us: %s (%.2f us)\n", r.p50 - e.p50 <= 10.0 ? "met" : "MISSED",
                r.p50 - e.p50);
    return 0;
  } catch (const std::exception& e) {
    die(e.what());
  }
}
