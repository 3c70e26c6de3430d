// soak_run: a bounded soak of the serving path under random, seeded faults of every kind,
// shared by bench/soak.cpp (>= 100,000 requests, prints numbers) and tests/soak_test.cpp
// (a few thousand, asserts the counts).
//
// Three models on two simulated boards (m2: models a and b on cores 0 and 1; devboard:
// model c on core 0, computing in a worker process: process isolation), jobs paced "fast"
// on the real clock. Now and then (seeded) a job of c crashes its worker process. Each board gets a fault script
// with a probability trigger for every job fault kind and the configuration fault kinds;
// the soak reconfigures the boards now and then so configuration faults have events, and
// resets a board whose configuration has not settled by the next reconfiguration (what an
// operator would do). Requests go round robin to the models with room (at most
// `in_flight` outstanding each), so a stalled model does not stop the others.
//
// Threads: the calling thread submits and reconfigures; completions are counted on the
// serving workers' threads with atomics only.
#pragma once

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "edgert/edgert.hpp"

namespace edgert::soak {

struct soak_options {
  std::uint64_t requests = 100'000;
  std::uint64_t seed = 42;
  unsigned in_flight = 16;                                  // per model
  std::uint64_t crash_one_in = 1000;  // requests per injected worker crash of model c, on average
  std::chrono::milliseconds drain{std::chrono::seconds(5)};  // wait for the last completions
  std::string board_configs;                                // empty: the default
  std::string runtime_dir;                                  // empty: the default
  std::filesystem::path models_dir;  // holds mnist_cnn, mnist_cnn_qdq, mnist_cnn_qlinear
};

struct soak_report {
  std::uint64_t submitted = 0;
  std::uint64_t results = 0;
  std::map<std::string, std::uint64_t> errors;  // by errc name
  std::map<std::string, std::string> first_message;  // by errc name
  std::map<std::string, std::uint64_t> messages;      // "model: message" -> count
  std::map<std::string, std::uint64_t> results_by_model;
  std::vector<std::string> device_states;  // at the end, before the clean-up resets
  std::uint64_t duplicates = 0;
  std::uint64_t hangs = 0;  // submitted and never completed within the drain time
  std::uint64_t reconfigurations = 0;
  std::uint64_t operator_resets = 0;
  std::uint64_t worker_crashes = 0;  // injected into model c's worker processes
  std::uint64_t rss_after_warmup_kib = 0;
  std::uint64_t rss_end_kib = 0;
  double seconds = 0;
  std::uint64_t errors_total() const {
    std::uint64_t n = 0;
    for (auto& [code, count] : errors) n += count;
    return n;
  }
};

inline std::uint64_t resident_kib() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)) / 1024;
}

inline FaultScript soak_faults(std::uint64_t seed) {
  auto with_p = [](FaultKind kind, double p) {
    Fault f;
    f.kind = kind;
    f.trigger = FaultTrigger::with_probability(p);
    return f;
  };
  FaultScript s;
  s.seed = seed;
  auto error = with_p(FaultKind::job_error, 0.004);
  error.count = 2;
  s.faults.push_back(error);
  auto timeout_error = with_p(FaultKind::job_error, 0.001);
  timeout_error.code = errc::timeout;
  s.faults.push_back(timeout_error);
  s.faults.push_back(with_p(FaultKind::dma_failure, 0.003));
  s.faults.push_back(with_p(FaultKind::board_reset, 0.0005));
  s.faults.push_back(with_p(FaultKind::job_hang, 0.0002));
  auto throttle = with_p(FaultKind::thermal_throttle, 0.002);
  throttle.clock_mhz = 300;
  throttle.duration = std::chrono::milliseconds(5);
  s.faults.push_back(throttle);
  auto slow = with_p(FaultKind::slow_core, 0.002);
  slow.factor = 3;
  slow.duration = std::chrono::milliseconds(5);
  s.faults.push_back(slow);
  auto config_fails = with_p(FaultKind::config_fails, 0.2);
  s.faults.push_back(config_fails);
  s.faults.push_back(with_p(FaultKind::config_never_settles, 0.1));
  return s;
}

/// Runs the soak; throws the facade's exceptions when the system cannot be set up.
inline soak_report run_soak(const soak_options& o) {
  using steady = std::chrono::steady_clock;
  ::setenv("EDGERT_SIM_PACING", "fast", 0);  // completions as fast as the host computes
  ContextOptions co;
  co.system = "m2,devboard";
  co.board_config_dir = o.board_configs;
  co.runtime_dir = o.runtime_dir;
  Context ctx(co);
  auto sim = ctx.sim();
  const std::vector<std::string> boards = {"dev:0", "dev:1"};
  for (std::size_t b = 0; b < boards.size(); ++b) sim.install(boards[b], soak_faults(o.seed + b));

  // Declared before the models: their workers may still report while they close.
  // One completion counter per request: a second completion is a duplicate.
  std::vector<std::atomic<std::uint8_t>> completions(o.requests);
  std::atomic<std::uint64_t> results{0}, duplicates{0};
  std::mutex errors_mutex;
  soak_report report;

  struct served {
    std::string name;
    std::optional<Runner> runner;
    std::vector<Tensor> inputs;
    std::atomic<std::uint64_t> outstanding{0};
  };
  const std::vector<std::pair<std::string, std::string>> placements = {
      {"a", "dev:0"}, {"b", "dev:0"}, {"c", "dev:1"}};  // leased in order: cores 0, 1, 0
  const std::vector<std::string> model_dirs = {"mnist_cnn", "mnist_cnn_qdq", "mnist_cnn_qlinear"};
  std::vector<std::unique_ptr<served>> models;
  for (std::size_t i = 0; i < placements.size(); ++i) {
    auto s = std::make_unique<served>();
    s->name = placements[i].first;
    auto model = ctx.load_model(o.models_dir / model_dirs[i] / "model.onnx");
    for (auto& info : model.inputs()) {
      Tensor t(info.dtype, info.shape);
      std::fill_n(static_cast<std::uint8_t*>(t.data()), t.size_bytes(), std::uint8_t{1});
      s->inputs.push_back(std::move(t));
    }
    RunnerOptions ro;
    ro.device = placements[i].second;
    ro.max_in_flight = o.in_flight;
    // The soak counts how requests complete under a stream of faults; a restart budget
    // would (rightly) retire each model after a few of them and turn the rest of the run
    // into instant refusals, so it is set out of reach here.
    ro.supervision.max_restarts = 1'000'000;
    ro.supervision.process_isolation = s->name == "c";
    s->runner.emplace(ctx.create_runner(model, ro));
    models.push_back(std::move(s));
  }

  const auto started = steady::now();
  const std::uint64_t warmup = o.requests / 10;
  const std::uint64_t reconfigure_every = std::max<std::uint64_t>(o.requests / 50, 100);
  std::map<std::string, bool> pending_config;
  const std::int64_t profiles[2][3] = {{400, 600, 800}, {500, 700, 800}};
  std::size_t next_model = 0;
  std::mt19937_64 crash_dice(o.seed);
  for (std::uint64_t id = 0; id < o.requests; ++id) {
    if (o.crash_one_in > 0 && crash_dice() % o.crash_one_in == 0) {
      sim.crash_worker(*models[2]->runner);  // c's next job kills its worker
      ++report.worker_crashes;
    }
    if (id == warmup) report.rss_after_warmup_kib = resident_kib();
    if (id > 0 && id % reconfigure_every == 0) {
      for (std::size_t b = 0; b < boards.size(); ++b) {
        try {
          if (pending_config[boards[b]] && !ctx.device_ready(boards[b])) {
            ctx.reset_device(boards[b]);  // the configuration never settled
            ++report.operator_resets;
          }
          const auto profile = profiles[b][(id / reconfigure_every) % 3];
          pending_config[boards[b]] = !ctx.configure_device(boards[b], {{"clock_profile", profile}});
          ++report.reconfigurations;
        } catch (const Error&) {
          // Injected configuration failures and refusals while faulted are expected.
        }
      }
    }
    // The next model with room; wait (briefly) while none has any.
    while (true) {
      bool found = false;
      for (std::size_t k = 0; k < models.size(); ++k) {
        auto& m = *models[(next_model + k) % models.size()];
        if (m.outstanding.load() < o.in_flight) {
          next_model = (next_model + k + 1) % models.size();
          found = true;
          ++m.outstanding;
          ++report.submitted;
          auto* mp = &m;
          auto on_done = [&, mp, id](RunResult r) {
            if (completions[id].fetch_add(1) != 0) {
              ++duplicates;
              return;
            }
            if (r.ok()) {
              ++results;
              std::lock_guard<std::mutex> lock(errors_mutex);
              ++report.results_by_model[mp->name];
            } else {
              std::lock_guard<std::mutex> lock(errors_mutex);
              ++report.errors[std::string(to_string(r.code))];
              report.first_message.emplace(std::string(to_string(r.code)), mp->name + ": " + r.message);
              ++report.messages[mp->name + ": " + r.message.substr(0, 90)];
            }
            --mp->outstanding;
          };
          try {
            m.runner->run_async(m.inputs, on_done);
          } catch (const Error& e) {
            RunResult r;
            r.code = e.code();
            on_done(r);
          }
          break;
        }
      }
      if (found) break;
      std::this_thread::sleep_for(std::chrono::microseconds(50));
      if (steady::now() - started > std::chrono::minutes(10)) break;
    }
  }
  // Drain: whatever has not completed by then is a hang.
  const auto drain_end = steady::now() + o.drain;
  auto outstanding = [&] {
    std::uint64_t n = 0;
    for (auto& m : models) n += m->outstanding.load();
    return n;
  };
  while (outstanding() > 0 && steady::now() < drain_end)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  report.hangs = outstanding();
  report.seconds = std::chrono::duration<double>(steady::now() - started).count();
  report.rss_end_kib = resident_kib();
  report.results = results.load();
  report.duplicates = duplicates.load();
  for (auto& b : boards) {
    try {
      auto info = ctx.device_info(b);
      report.device_states.push_back(b + " " + std::string(to_string(info.state)) +
                                     (info.fault.empty() ? "" : " (" + info.fault + ")"));
    } catch (const Error& e) {
      report.device_states.push_back(b + " " + e.what());
    }
  }
  soak_report final_report;  // a snapshot: completions after the resets below do not count
  {
    std::lock_guard<std::mutex> lock(errors_mutex);
    final_report = report;
  }
  // Free hung jobs so the runners can close: faults off, boards reset.
  for (auto& b : boards) {
    try {
      sim.clear(b);
      ctx.reset_device(b);
    } catch (const Error&) {
    }
  }
  for (auto& m : models) m->runner->close(std::chrono::seconds(5));
  return final_report;
}

}  // namespace edgert::soak
