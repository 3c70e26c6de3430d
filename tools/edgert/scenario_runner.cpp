#include "scenario_runner.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "scenario_holder.hpp"
#include "tensor_fill.hpp"

namespace edgert::cli {

namespace {

using ns = std::chrono::nanoseconds;
using steady = std::chrono::steady_clock;

ns from_ms(double ms) { return ns(std::llround(ms * 1e6)); }

std::string fault_text(const Fault& f) {
  std::ostringstream s;
  s.precision(12);
  s << to_string(f.kind);
  char sep = '@';
  auto key = [&](const std::string& k, const auto& v) {
    s << sep << k << '=' << v;
    sep = ',';
  };
  if (f.core) key("core", *f.core);
  switch (f.trigger.kind) {
    case FaultTrigger::Kind::after_events: key("after", f.trigger.events); break;
    case FaultTrigger::Kind::at_time: key("at_ms", static_cast<double>(f.trigger.at.count()) / 1e6); break;
    case FaultTrigger::Kind::probability: key("probability", f.trigger.probability); break;
  }
  switch (f.kind) {
    case FaultKind::job_error:
    case FaultKind::config_fails:
      key("count", f.count);
      key("code", to_string(f.code));
      break;
    case FaultKind::dma_failure: key("count", f.count); break;
    case FaultKind::thermal_throttle:
      key("clock_mhz", f.clock_mhz);
      key("duration_ms", static_cast<double>(f.duration.count()) / 1e6);
      break;
    case FaultKind::slow_core:
      key("factor", f.factor);
      key("duration_ms", static_cast<double>(f.duration.count()) / 1e6);
      break;
    default: break;
  }
  return s.str();
}

// A completion as a worker thread (or the queue drain) reported it.
struct completion {
  ns at{0};
  std::size_t model = 0;
  std::uint64_t seq = 0;
  errc code = errc::ok;
  std::string message;
  ns latency{0};
  bool duplicate = false;
};

// One served model. Fields marked "guarded" are shared with worker threads under the
// run's mutex; the rest belong to the controlling thread.
struct model_run {
  const scenario_model* spec = nullptr;
  std::size_t index = 0;
  std::optional<Runner> runner;
  std::optional<Queue> queue;
  std::vector<Tensor> inputs;
  std::uint64_t next_seq = 1;
  std::map<std::uint64_t, ns> submitted_at;  // guarded: requests not completed yet
  std::uint64_t outstanding = 0;             // guarded
  model_outcomes outcomes;
  std::map<std::string, std::string> first_message;  // per error code
};

// A process holding a lease (spawn_holder), by device.
struct holder_process {
  pid_t pid = -1;
};

class scenario_run {
 public:
  scenario_run(const scenario& sc, const scenario_options& options, scenario_result& out)
      : sc_(sc), options_(options), out_(out) {}

  void run();

 private:
  void start();
  void execute(const scenario_step& step, std::size_t index);
  void teardown();

  void submit_one(model_run& m);
  void record(model_run& m, std::uint64_t seq, const RunResult& r);  // any thread
  std::size_t drain_queues();
  void settle();
  void flush();
  void advance_to(ns target);
  void wait_idle(ns limit);
  std::uint64_t outstanding();

  void fail(std::size_t index, const scenario_step& step, const std::string& summary,
            std::vector<expectation_diff> diffs);
  void note(const std::string& text) { out_.trace.add(sim().now(), text); }
  SimControl& sim() { return *sim_; }
  model_run& model(const std::string& name);
  std::string spawn_holder(const scenario_step& step);
  void kill_holder(const std::string& device);

  const scenario& sc_;
  const scenario_options& options_;
  scenario_result& out_;
  std::filesystem::path runtime_dir_;
  bool own_runtime_dir_ = false;
  std::unique_ptr<Context> ctx_;
  std::optional<SimControl> sim_;
  std::vector<std::string> sim_devices_;
  std::vector<std::unique_ptr<model_run>> models_;
  std::map<std::string, std::vector<Connection>> connections_;
  std::map<std::string, holder_process> holders_;
  std::vector<ns> breakpoints_;  // at_time faults: time stops there on the way

  std::mutex mutex_;                // guards pending_ and the guarded model fields
  std::vector<completion> pending_;  // reported, not yet flushed into the trace
  std::uint64_t duplicates_ = 0;
};

model_run& scenario_run::model(const std::string& name) {
  for (auto& m : models_)
    if (m->spec->name == name) return *m;
  throw InternalError("no model named '" + name + "'");
}

void scenario_run::fail(std::size_t index, const scenario_step& step, const std::string& summary,
                        std::vector<expectation_diff> diffs) {
  expectation_failure f;
  f.step = index + 1;
  f.line = step.line;
  f.summary = summary;
  f.diffs = std::move(diffs);
  out_.failures.push_back(std::move(f));
}

void scenario_run::record(model_run& m, std::uint64_t seq, const RunResult& r) {
  const ns now = sim_->now();
  std::lock_guard<std::mutex> lock(mutex_);
  completion c;
  c.at = now;
  c.model = m.index;
  c.seq = seq;
  c.code = r.code;
  c.message = r.message;
  auto found = m.submitted_at.find(seq);
  if (found == m.submitted_at.end()) {
    c.duplicate = true;  // completed twice, or never submitted
  } else {
    c.latency = now - found->second;
    m.submitted_at.erase(found);
    --m.outstanding;
  }
  pending_.push_back(std::move(c));
}

void scenario_run::flush() {
  std::vector<completion> batch;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    batch.swap(pending_);
  }
  std::sort(batch.begin(), batch.end(), [](const completion& a, const completion& b) {
    if (a.at != b.at) return a.at < b.at;
    if (a.model != b.model) return a.model < b.model;
    if (a.seq != b.seq) return a.seq < b.seq;
    return a.duplicate < b.duplicate;
  });
  for (auto& c : batch) {
    auto& m = *models_[c.model];
    std::string line = "result " + m.spec->name + "#" + std::to_string(c.seq) + " ";
    if (c.duplicate) {
      ++duplicates_;
      out_.trace.add(c.at, line + "DUPLICATE " + std::string(to_string(c.code)));
      continue;
    }
    if (c.code == errc::ok) {
      ++m.outcomes.results;
      const auto l = c.latency.count();
      if (!m.outcomes.latency_min_ns || l < *m.outcomes.latency_min_ns) m.outcomes.latency_min_ns = l;
      if (!m.outcomes.latency_max_ns || l > *m.outcomes.latency_max_ns) m.outcomes.latency_max_ns = l;
      m.outcomes.latencies_ns.emplace_back((c.at - c.latency).count(), l);
      line += "ok";
    } else {
      const std::string code(to_string(c.code));
      ++m.outcomes.errors[code];
      m.first_message.emplace(code, c.message);
      line += code;
    }
    out_.trace.add(c.at, line + " latency=" + scenario_trace::format_time(c.latency));
  }
}

std::size_t scenario_run::drain_queues() {
  std::size_t drained = 0;
  for (auto& m : models_) {
    if (!m->queue) continue;
    while (true) {
      try {
        auto r = m->queue->receiver.recv(std::chrono::milliseconds(0));
        record(*m, r.context, r.result);
        ++drained;
      } catch (const Timeout&) {
        break;
      } catch (const Closed&) {
        break;
      }
    }
  }
  return drained;
}

std::uint64_t scenario_run::outstanding() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::uint64_t n = 0;
  for (auto& m : models_) n += m->outstanding;
  return n;
}

// Waits until the runtime has settled at the current simulated time: every completion due
// now has been reported, and each model has as many jobs on its board as it has requests
// to run, up to its worker count.
void scenario_run::settle() {
  const auto deadline = steady::now() + std::chrono::seconds(20);
  auto busy_target = [&] {
    std::lock_guard<std::mutex> lock(mutex_);
    std::uint64_t n = 0;
    for (auto& m : models_) n += std::min<std::uint64_t>(m->outstanding, m->spec->workers);
    return n;
  };
  std::uint64_t last_jobs = ~std::uint64_t{0};
  int unchanged = 0;
  while (true) {
    drain_queues();
    const auto before = busy_target();
    const auto jobs = sim().jobs_in_flight();
    const auto after = busy_target();
    // A queue's completion sits on its ring until drained, and its worker may have started
    // the next request already: drain once more before calling the runtime settled.
    if (before == after && jobs == after && drain_queues() == 0) break;
    // Jobs that no request waits for any more (a hung job whose request was failed by a
    // watchdog) keep the count above the target; accept that once it stops changing.
    if (before == after && jobs > after) {
      if (jobs == last_jobs && ++unchanged > 200) break;
    } else {
      unchanged = 0;
    }
    last_jobs = jobs;
    if (steady::now() > deadline)
      throw InternalError("scenario: the runtime did not settle at " +
                          scenario_trace::format_time(sim().now()) + " (" + std::to_string(jobs) +
                          " job(s) on the boards, " + std::to_string(after) + " expected)");
    std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
  flush();
}

void scenario_run::advance_to(ns target) {
  while (sim().now() < target) {
    ns limit = target;
    for (ns b : breakpoints_)
      if (b > sim().now() && b < limit) limit = b;
    sim().step(limit);
    settle();
  }
}

void scenario_run::wait_idle(ns limit) {
  while (outstanding() > 0 && sim().now() < limit) {
    ns stop = limit;
    for (ns b : breakpoints_)
      if (b > sim().now() && b < stop) stop = b;
    sim().step(stop);
    settle();
  }
}

void scenario_run::submit_one(model_run& m) {
  const auto seq = m.next_seq++;
  ++m.outcomes.submitted;
  const ns now = sim().now();
  out_.trace.add(now, "submit " + m.spec->name + "#" + std::to_string(seq));
  {
    std::lock_guard<std::mutex> lock(mutex_);
    m.submitted_at[seq] = now;
    ++m.outstanding;
  }
  try {
    if (m.runner)
      m.runner->run_async(m.inputs, [this, &m, seq](RunResult r) { record(m, seq, r); });
    else
      m.queue->submitter.submit(m.inputs, seq);
  } catch (const Error& e) {
    RunResult r;
    r.code = e.code();
    r.message = e.what();
    record(m, seq, r);
  }
  settle();
}

void scenario_run::start() {
  if (options_.runtime_dir.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "edgert-scenario-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw IoError("cannot create a temporary runtime directory");
    runtime_dir_ = pattern;
    own_runtime_dir_ = true;
  } else {
    runtime_dir_ = options_.runtime_dir;
  }
  ContextOptions o;
  o.system = sc_.system;
  o.board_config_dir = options_.board_configs.empty() ? sc_.board_configs : options_.board_configs;
  o.runtime_dir = runtime_dir_.string();
  o.virtual_time = true;
  ctx_ = std::make_unique<Context>(o);
  sim_.emplace(ctx_->sim());
  out_.trace.add(ns{0}, "scenario " + sc_.name + " seed " + std::to_string(out_.seed) +
                            " system " + sc_.system);
  for (auto& d : ctx_->list_devices()) {
    if (d.board_type == BoardType::host) continue;
    sim_devices_.push_back(d.name);
    FaultScript seeded;
    seeded.seed = out_.seed;
    sim().install(d.name, seeded);
  }
  for (std::size_t i = 0; i < sc_.models.size(); ++i) {
    auto m = std::make_unique<model_run>();
    m->spec = &sc_.models[i];
    m->index = i;
    auto loaded = ctx_->load_model(m->spec->path);
    for (std::size_t k = 0; k < loaded.inputs().size(); ++k)
      m->inputs.push_back(random_tensor(loaded.inputs()[k], out_.seed * 1000 + i * 10 + k));
    if (m->spec->api == "runner") {
      RunnerOptions ro;
      ro.device = m->spec->device;
      ro.worker_num = m->spec->workers;
      ro.max_in_flight = m->spec->max_in_flight;
      ro.supervision.process_isolation = m->spec->isolate;
      m->runner.emplace(ctx_->create_runner(loaded, ro));
    } else {
      QueueOptions qo;
      qo.device = m->spec->device;
      qo.worker_num = m->spec->workers;
      qo.input_queue_size = m->spec->input_queue_size;
      qo.output_queue_size = m->spec->output_queue_size;
      qo.overflow = m->spec->overflow;
      qo.timeout = m->spec->submit_timeout;
      qo.supervision.process_isolation = m->spec->isolate;
      m->queue.emplace(ctx_->create_queue(loaded, qo));
    }
    out_.trace.add(ns{0}, "serve " + m->spec->name + " on " + m->spec->device + " (" +
                              m->spec->api + ", " + std::to_string(m->spec->workers) + " worker(s)" +
                              (m->spec->isolate ? ", isolated" : "") + ")");
    models_.push_back(std::move(m));
  }
}

std::string scenario_run::spawn_holder(const scenario_step& step) {
  holder_command command;
  command.system = sc_.system;
  command.runtime_dir = runtime_dir_.string();
  command.board_configs = options_.board_configs.empty() ? sc_.board_configs : options_.board_configs;
  command.device = step.device;
  command.sub_devices = step.sub_devices;
  pid_t pid = -1;
  auto outcome = spawn_lease_holder(command, pid);
  if (outcome == "ok") holders_[step.device].pid = pid;
  return outcome;
}

void scenario_run::kill_holder(const std::string& device) {
  auto found = holders_.find(device);
  if (found == holders_.end()) return;
  kill_lease_holder(found->second.pid);
  holders_.erase(found);
}

void scenario_run::execute(const scenario_step& step, std::size_t index) {
  const std::string name = to_string(step.kind);
  if (step.at_ms) {
    const ns at = from_ms(*step.at_ms);
    if (at < sim().now())
      throw InvalidConfiguration(sc_.file.string() + ":" + std::to_string(step.line) + ": step " +
                                 std::to_string(index + 1) + " is at " +
                                 scenario_trace::format_time(at) + ", but the scenario is at " +
                                 scenario_trace::format_time(sim().now()) + " already");
    advance_to(at);
  }
  auto outcome_of = [](const auto& action) -> std::pair<std::string, std::string> {
    try {
      return {action(), ""};
    } catch (const Error& e) {
      return {std::string(to_string(e.code())), e.what()};
    }
  };
  auto check_outcome = [&](const std::string& summary, const std::string& expected,
                           const std::pair<std::string, std::string>& got) {
    note(summary + " -> " + got.first);
    if (got.first != expected)
      fail(index, step, summary,
           {{"outcome", expected, got.first + (got.second.empty() ? "" : " (" + got.second + ")")}});
  };
  switch (step.kind) {
    case step_kind::configure: {
      std::string summary = "configure " + step.device;
      for (auto& [k, v] : step.settings) summary += " " + k + "=" + std::to_string(v);
      auto got = outcome_of([&] {
        return std::string(ctx_->configure_device(step.device, step.settings) ? "complete" : "pending");
      });
      settle();
      check_outcome(summary, step.expect, got);
      break;
    }
    case step_kind::expect_pending:
    case step_kind::expect_ready: {
      const bool want = step.kind == step_kind::expect_ready;
      auto got = outcome_of([&] { return std::string(ctx_->device_ready(step.device) ? "ready" : "pending"); });
      check_outcome(name + " " + step.device, want ? "ready" : "pending", got);
      break;
    }
    case step_kind::advance:
      advance_to(sim().now() + from_ms(step.ms));
      note("advanced " + scenario_trace::format_time(from_ms(step.ms)));
      break;
    case step_kind::wait: {
      wait_idle(sim().now() + from_ms(step.ms));
      note("waited, " + std::to_string(outstanding()) + " request(s) outstanding");
      break;
    }
    case step_kind::submit: {
      for (std::uint64_t i = 0; i < step.count; ++i) {
        if (i > 0 && step.interval_ms > 0) advance_to(sim().now() + from_ms(step.interval_ms));
        for (auto& name : step.models) submit_one(model(name));
      }
      break;
    }
    case step_kind::inject: {
      const std::string summary = "inject " + step.device + " " + fault_text(step.fault);
      auto got = outcome_of([&] {
        sim().inject(step.device, step.fault);
        return std::string("ok");
      });
      if (step.fault.trigger.kind == FaultTrigger::Kind::at_time) breakpoints_.push_back(step.fault.trigger.at);
      settle();
      check_outcome(summary, "ok", got);
      break;
    }
    case step_kind::clear_faults: {
      auto got = outcome_of([&] {
        sim().clear(step.device);
        return std::string("ok");
      });
      check_outcome("clear_faults " + step.device, "ok", got);
      break;
    }
    case step_kind::reset: {
      auto got = outcome_of([&] {
        ctx_->reset_device(step.device);
        return std::string("ok");
      });
      settle();
      check_outcome("reset " + step.device, "ok", got);
      break;
    }
    case step_kind::connect: {
      const bool names_sub_devices = step.device.find(':') != step.device.rfind(':');
      const unsigned count = step.sub_devices ? step.sub_devices : (names_sub_devices ? 0 : 1);
      auto got = outcome_of([&] {
        connections_[step.device].push_back(ctx_->device_connect(step.device, count));
        return std::string("ok");
      });
      check_outcome("connect " + step.device, step.expect, got);
      break;
    }
    case step_kind::release:
      connections_.erase(step.device);
      note("release " + step.device);
      break;
    case step_kind::spawn_holder:
      check_outcome("spawn_holder " + step.device, step.expect, {spawn_holder(step), ""});
      break;
    case step_kind::kill_holder:
      kill_holder(step.device);
      note("kill_holder " + step.device);
      break;
    case step_kind::expect: {
      auto& m = model(step.model);
      auto diffs = check(step.model_expect, m.outcomes);
      std::string line = "expect " + step.model + " -> " + (diffs.empty() ? "ok" : "FAILED:");
      for (auto& d : diffs) line += " " + d.what + " expected " + d.expected + " got " + d.actual + ";";
      note(line);
      if (!diffs.empty()) {
        for (auto& [code, message] : m.first_message)
          diffs.push_back({"first " + code + ":", "", message});
        fail(index, step, "expect " + step.model, std::move(diffs));
      }
      break;
    }
    case step_kind::crash_worker: {
      auto& m = model(step.model);
      auto got = outcome_of([&] {
        if (m.runner)
          sim().crash_worker(*m.runner);
        else
          sim().crash_worker(m.queue->submitter);
        return std::string("ok");
      });
      check_outcome("crash_worker " + step.model, "ok", got);
      break;
    }
    case step_kind::expect_device: {
      device_snapshot snap;
      const auto& e = step.device_expect;
      try {
        auto info = ctx_->device_info(step.device);
        snap.state = std::string(to_string(info.state));
        snap.in_use = info.in_use;
      } catch (const Error& err) {
        snap.state = std::string("error: ") + err.what();
      }
      if (e.ready) {
        try {
          snap.ready = ctx_->device_ready(step.device);
        } catch (const Error&) {
          snap.ready = false;
        }
      }
      if (e.health) {
        try {
          for (auto& h : sim().health(step.device)) snap.health.push_back(std::string(to_string(h.state)));
        } catch (const Error& err) {
          snap.health.push_back("error: " + std::string(to_string(err.code())));
        }
      }
      if (e.configuration) {
        try {
          auto config = ctx_->read_device_configuration(step.device);
          snap.configuration = std::map<std::string, std::string>(config.begin(), config.end());
        } catch (const Error&) {
        }
      }
      auto diffs = check(e, snap);
      std::string line = "expect_device " + step.device + " -> " + (diffs.empty() ? "ok" : "FAILED:");
      for (auto& d : diffs) line += " " + d.what + " expected " + d.expected + " got " + d.actual + ";";
      note(line);
      if (!diffs.empty()) fail(index, step, "expect_device " + step.device, std::move(diffs));
      break;
    }
  }
}

void scenario_run::teardown() {
  // Whatever the steps left running must end before the serving handles close (a closing
  // service waits for the job on its board): faults off, stuck boards reset, then time
  // runs on until every request has completed.
  for (auto& holder : std::vector<std::string>([&] {
         std::vector<std::string> names;
         for (auto& [device, h] : holders_) names.push_back(device);
         return names;
       }()))
    kill_holder(holder);
  connections_.clear();
  if (!ctx_) return;
  try {
    for (auto& d : sim_devices_) sim().clear(d);
    if (outstanding() > 0) {
      for (auto& d : sim_devices_) {
        try {
          ctx_->reset_device(d);
        } catch (const Error&) {
        }
      }
      settle();
      wait_idle(sim().now() + std::chrono::hours(1));
    }
  } catch (const Error&) {
    // Closing below bounds every wait anyway.
  }
  for (auto& m : models_) {
    if (m->runner) m->runner->close(std::chrono::seconds(1));
    if (m->queue) m->queue->receiver.close();
  }
}

void scenario_run::run() {
  const auto started = steady::now();
  struct cleanup {
    scenario_run& run;
    ~cleanup() {
      try {
        run.teardown();
      } catch (...) {
      }
      run.models_.clear();
      run.sim_.reset();
      run.ctx_.reset();
      if (run.own_runtime_dir_) {
        std::error_code ec;
        std::filesystem::remove_all(run.runtime_dir_, ec);
      }
    }
  } guard{*this};
  start();
  settle();
  for (std::size_t i = 0; i < sc_.steps.size(); ++i) {
    execute(sc_.steps[i], i);
    ++out_.steps;
  }
  if (duplicates_ > 0) {
    expectation_failure f;
    f.summary = "every request completes exactly once";
    f.diffs.push_back({"duplicate completions", "0", std::to_string(duplicates_)});
    out_.failures.push_back(std::move(f));
  }
  out_.simulated = sim().now();
  note("end");
  for (auto& m : models_) out_.models.emplace_back(m->spec->name, m->outcomes);
  out_.real_seconds = std::chrono::duration<double>(steady::now() - started).count();
}

}  // namespace

scenario_result run_scenario(const scenario& sc, const scenario_options& options) {
  scenario_result result;
  result.name = sc.name;
  result.seed = options.seed.value_or(sc.seed);
  scenario_run run(sc, options, result);
  run.run();
  return result;
}

}  // namespace edgert::cli
