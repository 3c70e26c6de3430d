// sim_scaling: on a simulated board, (1) throughput with two sub-devices against one on a
// compute-bound model, and (2) simulated device time at a clock profile twice as high.
//
// The board is the devboard (3 NPU cores, 1024 MACs/cycle/core); the model the committed
// MNIST CNN with --batch images per job (0.79 M MACs each). The cores' MVM utilisation is
// limited to --utilisation % (default 1) so the board's compute, not the host's, bounds a
// job: device time = MACs / (MACs per cycle x utilisation x clock) + DMA + launch cost, and
// the host computes the same outputs several times faster. Jobs complete paced to that
// device time (a real clock; EDGERT_SIM_PACING=paced unless the environment says other).
// Targets: 2 sub-devices >= 1.8x the throughput of 1; doubling the clock halves device
// time within 5 %.
//
//   sim_scaling [--batch N] [--count N] [--utilisation PCT] [--clock MHZ]
//
// Threads: 2 client threads per execution unit run requests back to back; the main thread
// configures the board and prints.
#include <stdlib.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "edgert/edgert.hpp"
#include "latency_stats.hpp"
#include "scratch_dir.hpp"

namespace {

struct options {
  unsigned batch = 32;
  long count = 80;  // jobs per measurement
  unsigned utilisation = 1;
  unsigned clock = 300;  // MHz; the doubled profile is twice this
};

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--batch" && has_value) o.batch = static_cast<unsigned>(std::atoi(argv[++i]));
    else if (a == "--count" && has_value) o.count = std::atol(argv[++i]);
    else if (a == "--utilisation" && has_value) o.utilisation = static_cast<unsigned>(std::atoi(argv[++i]));
    else if (a == "--clock" && has_value) o.clock = static_cast<unsigned>(std::atoi(argv[++i]));
    else {
      std::printf("usage: sim_scaling [--batch N] [--count N] [--utilisation PCT] [--clock MHZ]\n");
      std::exit(a == "--help" || a == "-h" ? 0 : 2);
    }
  }
  if (o.batch < 1 || o.count < 2 || o.utilisation < 1 || o.utilisation > 100 || o.clock < 1) {
    std::fprintf(stderr, "sim_scaling: bad option values\n");
    std::exit(2);
  }
  return o;
}

const char* board = "dev:0";

// Applies settings and waits (bounded) until the board has settled.
void configure(edgert::Context& ctx, const edgert::DeviceSettings& settings) {
  if (!ctx.configure_device(board, settings) &&
      !ctx.wait_device_ready(board, std::chrono::seconds(10)))
    throw std::runtime_error("the board did not settle in 10 s");
}

struct measured {
  double inferences_per_s = 0;
  double device_ms = 0;  // mean simulated device time per job
  long failed = 0;
};

measured serve(edgert::Context& ctx, const edgert::Model& model, const options& o, unsigned units) {
  edgert::RunnerOptions ro;
  ro.device = board;
  ro.worker_num = units;
  ro.batch_size = o.batch;
  auto runner = ctx.create_runner(model, ro);
  std::vector<edgert::Tensor> inputs;
  for (auto& info : runner.inputs()) {
    inputs.emplace_back(info.dtype, info.shape);
    auto* f = static_cast<float*>(inputs.back().data());
    for (std::size_t i = 0; i < inputs.back().size_bytes() / 4; ++i) f[i] = static_cast<float>(i % 255) / 255.f;
  }
  runner.run(inputs);  // warm-up: first job of each unit
  std::atomic<long> next{0}, failed{0};
  std::atomic<std::uint64_t> device_ns{0};
  const auto t0 = bench::steady::now();
  std::vector<std::thread> clients;
  for (unsigned c = 0; c < 2 * units; ++c)
    clients.emplace_back([&] {
      while (next.fetch_add(1) < o.count) {
        auto r = runner.run_async(inputs).get();
        if (!r.ok()) ++failed;
        device_ns += r.device_time_ns;
      }
    });
  for (auto& t : clients) t.join();
  const double s = std::chrono::duration<double>(bench::steady::now() - t0).count();
  measured m;
  m.inferences_per_s = static_cast<double>(o.count) * o.batch / s;
  m.device_ms = static_cast<double>(device_ns.load()) / 1e6 / static_cast<double>(o.count);
  m.failed = failed.load();
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  const auto o = parse(argc, argv);
  try {
    if (!std::getenv("EDGERT_SIM_PACING")) setenv("EDGERT_SIM_PACING", "paced", 1);
    scratch_dir runtime;
    edgert::ContextOptions co;
    co.system = "devboard";
    co.runtime_dir = runtime.path().string();
    edgert::Context ctx(co);
    auto model = ctx.load_model(bench::example_model(argv[0], "mnist_cnn"));
    edgert::DeviceSettings limits{{"clock_profile", o.clock}};
    for (int core = 0; core < 3; ++core)
      limits["mvm_utilisation_core_" + std::to_string(core)] = o.utilisation;
    configure(ctx, limits);
    std::printf("devboard (sim, %s pacing), %s x batch %u = %.2f M MACs per job, "
                "MVM utilisation %u %%, %ld jobs per measurement\n",
                std::getenv("EDGERT_SIM_PACING"), model.name().c_str(), o.batch,
                0.79184 * o.batch, o.utilisation, o.count);

    const auto one = serve(ctx, model, o, 1);
    const auto two = serve(ctx, model, o, 2);
    const double scaling = two.inferences_per_s / one.inferences_per_s;
    std::printf("1 sub-device : %8.1f inferences/s, device time %.3f ms per job at %u MHz\n",
                one.inferences_per_s, one.device_ms, o.clock);
    std::printf("2 sub-devices: %8.1f inferences/s, device time %.3f ms per job at %u MHz\n",
                two.inferences_per_s, two.device_ms, o.clock);
    std::printf("throughput ratio 2/1: %.3fx (target >= 1.8x: %s)\n", scaling,
                scaling >= 1.8 ? "met" : "MISSED");

    configure(ctx, {{"clock_profile", 2 * o.clock}});
    const auto fast = serve(ctx, model, o, 1);
    const double halving = one.device_ms / fast.device_ms;
    std::printf("clock %u MHz: device time %.3f ms per job; %u MHz: %.3f ms; ratio %.3f "
                "(target 2 within 5 %%: %s)\n",
                o.clock, one.device_ms, 2 * o.clock, fast.device_ms, halving,
                std::abs(halving / 2 - 1) <= 0.05 ? "met" : "MISSED");
    const long failed = one.failed + two.failed + fast.failed;
    if (failed) {
      std::printf("ERROR: %ld jobs failed\n", failed);
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sim_scaling: %s\n", e.what());
    return 1;
  }
}
