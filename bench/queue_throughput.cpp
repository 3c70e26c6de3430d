// queue_throughput: inferences per second through the Queue API with a trivial model on the
// host device: one thread allocates slots, writes the input in place and submits; another
// receives every result (checking that each context comes back exactly once). Target on a
// 2-core machine with the committed `identity` model: >= 200k inferences/s.
//
//   queue_throughput [MODEL.onnx] [--count N] [--rounds N] [--workers N] [--queue N] [--copy]
//
// --copy submits with Submitter::submit(inputs) (one copy into the slot) instead of
// allocate() + writing into the slot. Each round is timed from the first submit to the last
// result; the best and the median round are printed.
//
// Threads: a submitter thread and a receiver thread per round; the main thread waits.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "edgert/edgert.hpp"
#include "latency_stats.hpp"
#include "scratch_dir.hpp"

namespace {

struct options {
  std::string model;
  long count = 200000;
  int rounds = 5;
  unsigned workers = 1;
  unsigned queue = 64;
  bool copy = false;
};

[[noreturn]] void usage(int code) {
  std::printf("usage: queue_throughput [MODEL.onnx] [--count N] [--rounds N] [--workers N] "
              "[--queue N] [--copy]\n");
  std::exit(code);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--count" && has_value) o.count = std::atol(argv[++i]);
    else if (a == "--rounds" && has_value) o.rounds = std::atoi(argv[++i]);
    else if (a == "--workers" && has_value) o.workers = static_cast<unsigned>(std::atoi(argv[++i]));
    else if (a == "--queue" && has_value) o.queue = static_cast<unsigned>(std::atoi(argv[++i]));
    else if (a == "--copy") o.copy = true;
    else if (a == "--help" || a == "-h") usage(0);
    else if (!a.empty() && a[0] != '-') o.model = a;
    else usage(2);
  }
  if (o.model.empty()) o.model = bench::example_model(argv[0], "identity").string();
  if (o.count < 1 || o.rounds < 1 || o.workers < 1 || o.queue < 1) usage(2);
  return o;
}

struct round_result {
  double seconds = 0;
  long received = 0;
  long failed = 0;
  long duplicates = 0;
};

round_result one_round(edgert::Context& ctx, const edgert::Model& model, const options& o,
                       const std::vector<edgert::Tensor>& inputs) {
  edgert::QueueOptions qo;
  qo.device = "host";
  qo.worker_num = o.workers;
  qo.input_queue_size = o.queue;
  qo.output_queue_size = o.queue;
  auto queue = ctx.create_queue(model, qo);
  std::vector<std::uint8_t> seen(static_cast<std::size_t>(o.count), 0);
  round_result r;
  std::atomic<bool> go{false};
  const auto start_line = bench::steady::now();
  bench::steady::time_point start = start_line, end = start_line;
  std::thread submitter([&] {
    while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
    start = bench::steady::now();
    for (long n = 0; n < o.count; ++n) {
      if (o.copy) {
        queue.submitter.submit(inputs, static_cast<std::uint64_t>(n));
        continue;
      }
      auto slot = queue.submitter.allocate();
      for (std::size_t i = 0; i < inputs.size(); ++i)
        std::memcpy(slot[i].data(), inputs[i].data(), inputs[i].size_bytes());
      queue.submitter.submit(std::move(slot), static_cast<std::uint64_t>(n));
    }
    queue.submitter.close();
  });
  std::thread receiver([&] {
    while (auto got = queue.receiver.next(std::chrono::seconds(60))) {
      if (!got->result.ok()) ++r.failed;
      auto& mark = seen[static_cast<std::size_t>(got->context)];
      if (mark++) ++r.duplicates;
      ++r.received;
    }
    end = bench::steady::now();
  });
  go.store(true, std::memory_order_release);
  submitter.join();
  receiver.join();
  r.seconds = std::chrono::duration<double>(end - start).count();
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  const auto o = parse(argc, argv);
  try {
    scratch_dir runtime;
    edgert::Context ctx(host_only_options(runtime));
    auto model = ctx.load_model(o.model);
    std::vector<edgert::Tensor> inputs;
    for (auto& info : model.inputs()) {
      inputs.emplace_back(info.dtype, info.shape);
      std::memset(inputs.back().data(), 0x3c, inputs.back().size_bytes());
    }
    std::printf("model %s on the host device, %u worker(s), queues of %u, %s, %ld requests per round\n",
                model.name().c_str(), o.workers, o.queue,
                o.copy ? "submit(inputs) (one copy)" : "allocate() + write in place", o.count);
    std::vector<double> rates;
    bool exact = true;
    for (int round = 0; round < o.rounds; ++round) {
      const auto r = one_round(ctx, model, o, inputs);
      const double rate = static_cast<double>(r.received) / r.seconds;
      rates.push_back(rate);
      std::printf("round %d: %ld results in %.3f s = %.0f inferences/s (%ld failed, %ld duplicates)\n",
                  round + 1, r.received, r.seconds, rate, r.failed, r.duplicates);
      exact = exact && r.received == o.count && r.duplicates == 0 && r.failed == 0;
    }
    std::sort(rates.begin(), rates.end());
    const double median = rates[rates.size() / 2], best = rates.back();
    std::printf("throughput: median %.0f, best %.0f inferences/s\n", median, best);
    std::printf("target: >= 200000 inferences/s (median): %s\n", median >= 200000 ? "met" : "MISSED");
    if (!exact) {
      std::printf("ERROR: not every request was received exactly once without error\n");
      return 1;
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "queue_throughput: %s\n", e.what());
    return 1;
  }
}
