// Runs a scenario in virtual time against a real Context (simulated boards on a virtual
// clock, the real serving path, the simulator's control) and records what happened.
//
// Threads: the calling thread controls everything: it runs the steps, moves simulated
// time and checks expectations. Completions arrive on the serving workers' threads and
// are only collected there; the controlling thread waits until the runtime has settled
// (every request that can run at the current simulated time is running on its board)
// before it moves time again, which makes the run deterministic.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scenario_expect.hpp"
#include "scenario_file.hpp"
#include "scenario_trace.hpp"

namespace edgert::cli {

struct scenario_options {
  std::optional<std::uint64_t> seed;  // overrides the scenario's seed
  std::string runtime_dir;            // leases; empty: a fresh temporary directory
  std::string board_configs;          // empty: the scenario's, else the default
};

struct scenario_result {
  std::string name;
  std::uint64_t seed = 0;
  std::vector<expectation_failure> failures;
  scenario_trace trace;
  std::vector<std::pair<std::string, model_outcomes>> models;  // in scenario order
  std::chrono::nanoseconds simulated{0};  // simulated time at the end
  double real_seconds = 0;
  std::size_t steps = 0;
  bool passed() const { return failures.empty(); }
};

/// Runs `sc`; throws the facade's exceptions for what keeps the scenario from running
/// (bad system, model that does not load); expectation failures go into the result.
scenario_result run_scenario(const scenario& sc, const scenario_options& options);

}  // namespace edgert::cli
