// Expectations of a scenario: what a step expected against what the run observed, as
// readable differences ("errors.device_fault: expected 2, got 0").
//
// Pure functions over snapshots taken by the runner's controlling thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scenario_file.hpp"

namespace edgert::cli {

/// One difference between an expectation and what happened.
struct expectation_diff {
  std::string what;  // "results", "errors.timeout", "health[1]", ...
  std::string expected;
  std::string actual;
};

/// A step whose expectation did not hold.
struct expectation_failure {
  std::size_t step = 0;  // 1-based index of the step
  int line = 0;          // in the scenario file
  std::string summary;   // "expect cnn", "configure dev:0", ...
  std::vector<expectation_diff> diffs;
};

/// What a model's requests came to so far.
struct model_outcomes {
  std::uint64_t submitted = 0;
  std::uint64_t results = 0;                      // succeeded
  std::map<std::string, std::uint64_t> errors;    // by errc name
  std::uint64_t completed() const;
  std::uint64_t pending() const { return submitted - completed(); }
  std::optional<std::int64_t> latency_min_ns, latency_max_ns;  // of successful requests
  /// (submitted at, latency) of every successful request, in completion order.
  std::vector<std::pair<std::int64_t, std::int64_t>> latencies_ns;
};

/// What a device looked like when an expect_device step ran.
struct device_snapshot {
  std::string state;
  bool ready = false;
  std::vector<std::string> health;
  bool in_use = false;
  std::map<std::string, std::string> configuration;
};

std::vector<expectation_diff> check(const model_expectation& e, const model_outcomes& got);
std::vector<expectation_diff> check(const device_expectation& e, const device_snapshot& got);

/// "errors {device_fault: 2, timeout: 1}" style rendering of a count map.
std::string render_counts(const std::map<std::string, std::uint64_t>& counts);

}  // namespace edgert::cli
