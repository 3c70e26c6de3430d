// edgert bench: throughput and latency of a model on a device through the Runner or the
// Queue API, with host time next to the simulated device time.
//
// Threads: with --api runner, 2 x workers client threads each run requests back to back;
// with --api queue, one thread submits and the main thread receives. The progress bar is
// drawn by the main thread on stderr when it is a terminal.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "cli.hpp"
#include "tensor_fill.hpp"

namespace edgert::cli {

namespace {

using steady = std::chrono::steady_clock;

struct bench_args {
  std::string model;
  std::string device = "host";
  std::string api = "runner";
  unsigned workers = 1;
  unsigned batch = 1;
  unsigned threads = 1;
  double duration_s = 0;
  std::uint64_t count = 0;
  bool json = false;
  std::vector<std::string> inject;  // --inject: faults for the device's board
  std::string profile;              // --profile: Chrome-trace JSON of every request
  bool isolate = false;             // --isolate: each unit in a worker process
};

// What every request reports: latency and device time; collected under one mutex per
// client thread (merged at the end), so recording costs no contention.
struct samples {
  std::vector<double> latency_ms;
  double device_time_ms = 0;
  std::uint64_t errors = 0;
  std::string first_error;
  std::map<std::string, std::uint64_t> errors_by_code;  // errc name -> requests
};

struct progress {
  std::atomic<std::uint64_t> done{0};
  void draw(std::uint64_t target, double fraction) const {
    const int width = 30;
    const int filled = static_cast<int>(fraction * width);
    std::fprintf(stderr, "\r[%s%s] %3d%% %llu", std::string(filled, '#').c_str(),
                 std::string(width - filled, ' ').c_str(), static_cast<int>(fraction * 100),
                 static_cast<unsigned long long>(done.load()));
    (void)target;
  }
};

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// True while the run should go on: below the count, or within the duration.
struct stop_rule {
  std::uint64_t count;
  steady::time_point end;
  bool by_count() const { return count != 0; }
  bool more(std::uint64_t started) const {
    return by_count() ? started < count : steady::now() < end;
  }
  double fraction(std::uint64_t done, steady::time_point start) const {
    if (by_count()) return std::min(1.0, static_cast<double>(done) / static_cast<double>(count));
    const auto total = std::chrono::duration<double>(end - start).count();
    return std::min(1.0, std::chrono::duration<double>(steady::now() - start).count() / total);
  }
};

void run_runner_api(Context& ctx, const Model& model, const bench_args& a, const stop_rule& rule,
                    std::vector<Tensor>& inputs, std::vector<samples>& per_thread, progress& prog) {
  RunnerOptions o;
  o.device = a.device;
  o.worker_num = a.workers;
  o.batch_size = a.batch;
  o.threads = a.threads;
  o.supervision.process_isolation = a.isolate;
  auto runner = ctx.create_runner(model, o);
  std::atomic<std::uint64_t> started{0};
  const unsigned clients = 2 * a.workers;
  per_thread.resize(clients);
  std::vector<std::thread> threads;
  for (unsigned c = 0; c < clients; ++c)
    threads.emplace_back([&, c] {
      auto& mine = per_thread[c];
      while (rule.more(started.fetch_add(1))) {
        const auto t0 = steady::now();
        auto f = runner.run_async(inputs);
        auto r = f.get();
        mine.latency_ms.push_back(std::chrono::duration<double, std::milli>(steady::now() - t0).count());
        mine.device_time_ms += static_cast<double>(r.device_time_ns) / 1e6;
        if (!r.ok()) {
          if (mine.errors++ == 0) mine.first_error = r.message;
          ++mine.errors_by_code[std::string(to_string(r.code))];
        }
        prog.done.fetch_add(1);
      }
    });
  const bool tty = isatty(STDERR_FILENO) && !a.json;
  const auto start = steady::now();
  while (prog.done.load() < (rule.by_count() ? rule.count : ~0ull) &&
         (rule.by_count() || steady::now() < rule.end)) {
    if (tty) prog.draw(rule.count, rule.fraction(prog.done.load(), start));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (auto& t : threads) t.join();
  if (tty) std::fprintf(stderr, "\r%60s\r", "");
  runner.close();
}

void run_queue_api(Context& ctx, const Model& model, const bench_args& a, const stop_rule& rule,
                   std::vector<Tensor>& inputs, std::vector<samples>& per_thread, progress& prog) {
  QueueOptions o;
  o.device = a.device;
  o.worker_num = a.workers;
  o.batch_size = a.batch;
  o.threads = a.threads;
  o.supervision.process_isolation = a.isolate;
  o.input_queue_size = 64;
  o.output_queue_size = 64;
  auto queue = ctx.create_queue(model, o);
  std::vector<steady::time_point> submitted;
  std::mutex submitted_mutex;
  std::thread producer([&] {
    for (std::uint64_t n = 0; rule.more(n); ++n) {
      auto slot = queue.submitter.allocate();
      for (std::size_t i = 0; i < inputs.size(); ++i)
        std::memcpy(slot[i].data(), inputs[i].data(), inputs[i].size_bytes());
      {
        std::lock_guard<std::mutex> g(submitted_mutex);
        submitted.push_back(steady::now());
      }
      queue.submitter.submit(std::move(slot), n);
    }
    queue.submitter.close();
  });
  per_thread.resize(1);
  auto& mine = per_thread[0];
  const bool tty = isatty(STDERR_FILENO) && !a.json;
  const auto start = steady::now();
  auto last_draw = start;
  while (auto r = queue.receiver.next(std::chrono::seconds(60))) {
    steady::time_point sent;
    {
      std::lock_guard<std::mutex> g(submitted_mutex);
      sent = submitted[r->context];
    }
    mine.latency_ms.push_back(std::chrono::duration<double, std::milli>(steady::now() - sent).count());
    mine.device_time_ms += static_cast<double>(r->result.device_time_ns) / 1e6;
    if (!r->result.ok() && mine.errors++ == 0) mine.first_error = r->result.message;
    if (!r->result.ok()) ++mine.errors_by_code[std::string(to_string(r->result.code))];
    prog.done.fetch_add(1);
    if (tty && steady::now() - last_draw > std::chrono::milliseconds(100)) {
      prog.draw(rule.count, rule.fraction(prog.done.load(), start));
      last_draw = steady::now();
    }
  }
  producer.join();
  if (tty) std::fprintf(stderr, "\r%60s\r", "");
}

int bench_command(const global_options& g, const bench_args& a) {
  if (a.api != "runner" && a.api != "queue")
    throw InvalidArgument("--api must be runner or queue, not '" + a.api + "'");
  if (a.count != 0 && a.duration_s > 0)
    throw InvalidArgument("give --duration or --count, not both");
  if (a.duration_s < 0) throw InvalidArgument("--duration must be positive");
  // Served models record their requests' spans and write them when they close.
  if (!a.profile.empty()) setenv("EDGERT_PROFILE", a.profile.c_str(), 1);
  Context ctx(g.context_options());
  auto model = ctx.load_model(a.model);
  if (!a.inject.empty()) {
    // Faults go to the board of --device ("dev:0:1" -> "dev:0").
    std::string board = a.device;
    if (board.rfind("dev:", 0) == 0) board = board.substr(0, board.find(':', 4));
    auto sim = ctx.sim();
    for (const auto& spec : a.inject) sim.inject(board, parse_fault_spec(spec));
  }
  std::vector<Tensor> inputs;
  for (std::size_t i = 0; i < model.inputs().size(); ++i) {
    auto info = model.inputs()[i];
    if (!info.shape.empty()) info.shape[0] *= a.batch;
    inputs.push_back(random_tensor(info, 0x5eed + i));
  }
  const stop_rule rule{a.count == 0 && a.duration_s <= 0 ? 0 : a.count,
                       steady::now() + std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(
                                           a.duration_s > 0 ? a.duration_s : (a.count ? 0.0 : 5.0)))};
  std::vector<samples> per_thread;
  progress prog;
  const auto start = steady::now();
  if (a.api == "runner")
    run_runner_api(ctx, model, a, rule, inputs, per_thread, prog);
  else
    run_queue_api(ctx, model, a, rule, inputs, per_thread, prog);
  const double elapsed_s = std::chrono::duration<double>(steady::now() - start).count();

  samples all;
  for (auto& s : per_thread) {
    all.latency_ms.insert(all.latency_ms.end(), s.latency_ms.begin(), s.latency_ms.end());
    all.device_time_ms += s.device_time_ms;
    all.errors += s.errors;
    if (all.first_error.empty()) all.first_error = s.first_error;
    for (auto& [code, n] : s.errors_by_code) all.errors_by_code[code] += n;
  }
  const auto count = all.latency_ms.size();
  const double p50 = percentile(all.latency_ms, 0.50), p90 = percentile(all.latency_ms, 0.90),
               p99 = percentile(all.latency_ms, 0.99);
  const double ips = elapsed_s > 0 ? static_cast<double>(count * a.batch) / elapsed_s : 0;
  const double device_ms = count ? all.device_time_ms / static_cast<double>(count) : 0;
  if (a.json) {
    print_json({{"model", model.name()}, {"device", a.device}, {"api", a.api},
                {"workers", a.workers}, {"batch", a.batch}, {"threads", a.threads},
                {"latency_ms", {{"p50", p50}, {"p90", p90}, {"p99", p99}}},
                {"throughput_ips", ips}, {"count", count}, {"errors", all.errors},
                {"errors_by_code", all.errors_by_code},
                {"device_time_ms", device_ms}});
  } else {
    std::printf("model %s on %s, %s API, %u worker(s), batch %u, %u thread(s)\n",
                model.name().c_str(), a.device.c_str(), a.api.c_str(), a.workers, a.batch, a.threads);
    std::printf("requests    %zu in %.2f s (%llu failed)\n", count, elapsed_s,
                static_cast<unsigned long long>(all.errors));
    std::printf("latency     p50 %.3f ms  p90 %.3f ms  p99 %.3f ms (host, end to end)\n", p50, p90, p99);
    std::printf("device time %.3f ms per request (simulated; host compute on the host device)\n",
                device_ms);
    std::printf("throughput  %.1f inferences/s\n", ips);
    for (auto& [code, n] : all.errors_by_code)
      std::printf("errors      %s: %llu\n", code.c_str(), static_cast<unsigned long long>(n));
    if (all.errors) std::printf("first error: %s\n", all.first_error.c_str());
  }
  return all.errors ? exit_error : exit_ok;
}

}  // namespace

void add_bench_command(CLI::App& app, const global_options& g, int& status) {
  auto* cmd = app.add_subcommand("bench", "measure latency and throughput of a model on a device");
  auto a = std::make_shared<bench_args>();
  cmd->add_option("MODEL", a->model, "the ONNX model file")->required();
  cmd->add_option("--device", a->device, "device spec (default host)");
  cmd->add_option("--api", a->api, "runner (default) or queue");
  cmd->add_option("--workers", a->workers, "execution units (default 1)")->check(CLI::Range(1, 64));
  cmd->add_option("--batch", a->batch, "batch size (default 1)")->check(CLI::Range(1, 4096));
  cmd->add_option("--threads", a->threads, "compute threads per unit (default 1)")
      ->check(CLI::Range(1, 256));
  auto* duration = cmd->add_option("--duration", a->duration_s, "seconds to run (default 5)");
  auto* count = cmd->add_option("--count", a->count, "requests to run instead of a duration");
  duration->excludes(count);
  cmd->add_flag("--json", a->json,
                "print {\"latency_ms\":{\"p50\",\"p90\",\"p99\"},\"throughput_ips\",\"count\",\"device_time_ms\"}");
  cmd->add_flag("--isolate", a->isolate,
                "process isolation: each execution unit computes in a worker process");
  cmd->add_option("--inject", a->inject,
                  "inject a fault into the --device board (repeatable): KIND@KEY=VALUE,... with "
                  "the keys of a fault script (core, at_ms, after, probability, count, code, "
                  "message, clock_mhz, duration_ms, factor), e.g. "
                  "'job_error@core=1,after=100,count=5' or 'slow_core@factor=2'; kinds: job_hang, "
                  "job_error, dma_failure, board_reset, thermal_throttle, slow_core, "
                  "config_never_settles, config_fails (see docs/scenarios.md)")
      ->allow_extra_args(false);
  cmd->add_option("--profile", a->profile,
                  "write per-request spans as Chrome-trace JSON to FILE (as EDGERT_PROFILE=FILE)");
  cmd->callback([&g, &status, a] { status = guarded([&] { return bench_command(g, *a); }); });
}

}  // namespace edgert::cli
