// A scenario as written in its TOML file (format in docs/scenarios.md): the boards, the
// models to serve, and the timed steps with their expectations. Parsing checks every key
// and value, so a scenario that loads can only fail by what it observes.
//
// Pure data and a parser; no threads, no runtime.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "edgert/edgert.hpp"

namespace edgert::cli {

/// A model to load and serve, as one Runner or one Queue.
struct scenario_model {
  std::string name;                  // how steps and the trace name it
  std::filesystem::path path;        // the model.onnx file, resolved
  std::string device = "dev:0";      // device spec it is served on
  unsigned workers = 1;
  std::string api = "runner";        // "runner" or "queue"
  unsigned max_in_flight = 1024;     // runner: request slots
  unsigned input_queue_size = 16;    // queue
  unsigned output_queue_size = 64;   // queue
  Overflow overflow = Overflow::block;
  std::chrono::milliseconds submit_timeout{50};  // queue, block policy: real-time bound
  bool isolate = false;               // SupervisionOptions::process_isolation
  int line = 0;
};

/// One expectation about one model's outcomes so far.
struct model_expectation {
  std::string model;
  std::optional<std::uint64_t> submitted, completed, results, pending;
  std::optional<std::map<std::string, std::uint64_t>> errors;  // exact, by errc name
  std::optional<double> latency_min_ms, latency_max_ms;         // over successful requests
  double since_ms = 0;  // latency bounds count requests submitted at or after this time
};

/// One expectation about a device.
struct device_expectation {
  std::string device;
  std::optional<std::string> state;               // offline, configuring, ready, faulted, recovering
  std::optional<bool> ready;                      // device_ready()
  std::optional<std::vector<std::string>> health;  // per core: ok, degraded, hung, faulted
  std::optional<bool> in_use;
  std::optional<std::map<std::string, std::string>> configuration;  // keys that must match
};

enum class step_kind {
  configure,       // device, settings; expect: "complete", "pending" or an errc name
  expect_pending,  // device_ready() is false
  expect_ready,    // device_ready() is true
  advance,         // by ms
  wait,            // advance until nothing is outstanding, at most ms
  submit,          // count requests to model, interval_ms apart
  inject,          // fault on device (fault script keys)
  clear_faults,    // device
  reset,           // device
  connect,         // device (dev:X[:Y[-Z]]), sub_devices; expect: "ok" or an errc name
  release,         // the connections this scenario took on device
  spawn_holder,    // another process takes a lease on device and holds it
  kill_holder,     // that process dies (SIGKILL)
  expect,          // model expectation
  expect_device,   // device expectation
  crash_worker,    // the model's next job crashes its worker process (process isolation)
};

struct scenario_step {
  step_kind kind = step_kind::advance;
  int line = 0;                               // in the scenario file, for messages
  std::optional<double> at_ms;                // advance to this absolute time first
  std::string device;
  std::string model;
  std::vector<std::string> models;            // submit: one request to each per tick
  std::map<std::string, std::int64_t> settings;
  std::string expect;                         // configure / connect outcome
  double ms = 0;                              // advance, wait
  std::uint64_t count = 0;                    // submit
  double interval_ms = 0;                     // submit
  unsigned sub_devices = 0;                   // connect
  Fault fault;                                // inject
  model_expectation model_expect;
  device_expectation device_expect;
};

struct scenario {
  std::filesystem::path file;
  std::string name;
  std::string description;
  std::uint64_t seed = 0;
  std::string system = "m2";
  std::string board_configs;  // empty: the default
  std::vector<scenario_model> models;
  std::vector<scenario_step> steps;
};

/// Parses a scenario; model paths are resolved against the scenario's folder, then
/// `examples_dir`. Throws InvalidConfiguration as "file:line:column: what".
scenario parse_scenario(const std::string& toml_text, const std::filesystem::path& file,
                        const std::filesystem::path& examples_dir);
/// Reads and parses a scenario file; IoError when it cannot be read.
scenario load_scenario(const std::filesystem::path& file, const std::filesystem::path& examples_dir);

std::string to_string(step_kind kind);

}  // namespace edgert::cli
