// edgert scenario: runs a scenario file in virtual time (tools/edgert/scenario_*.cpp,
// format in docs/scenarios.md), optionally writes its event trace, and exits 0 when every
// expectation held, 1 with a readable expected-vs-actual diff when one did not.
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli.hpp"
#include "scenario_file.hpp"
#include "scenario_runner.hpp"

namespace edgert::cli {

namespace {

struct scenario_args {
  std::string file;
  std::string trace;
  std::optional<std::uint64_t> seed;
  bool json = false;
};

nlohmann::json to_json(const scenario_result& r) {
  nlohmann::json models = nlohmann::json::object();
  for (auto& [name, o] : r.models) {
    models[name] = {{"submitted", o.submitted}, {"results", o.results}, {"errors", o.errors},
                    {"pending", o.pending()}};
    if (o.latency_min_ns)
      models[name]["latency_ms"] = {{"min", static_cast<double>(*o.latency_min_ns) / 1e6},
                                    {"max", static_cast<double>(*o.latency_max_ns) / 1e6}};
  }
  nlohmann::json failures = nlohmann::json::array();
  for (auto& f : r.failures) {
    nlohmann::json diffs = nlohmann::json::array();
    for (auto& d : f.diffs) diffs.push_back({{"what", d.what}, {"expected", d.expected}, {"actual", d.actual}});
    failures.push_back({{"step", f.step}, {"line", f.line}, {"summary", f.summary}, {"diffs", diffs}});
  }
  return {{"scenario", r.name},
          {"seed", r.seed},
          {"passed", r.passed()},
          {"steps", r.steps},
          {"trace_lines", r.trace.lines()},
          {"simulated_ms", static_cast<double>(r.simulated.count()) / 1e6},
          {"real_seconds", r.real_seconds},
          {"models", models},
          {"failures", failures}};
}

void print_text(const scenario_result& r) {
  std::printf("scenario %s (seed %llu): %zu steps, %zu trace lines, %s simulated in %.3f s\n",
              r.name.c_str(), static_cast<unsigned long long>(r.seed), r.steps, r.trace.lines(),
              scenario_trace::format_time(r.simulated).c_str(), r.real_seconds);
  for (auto& [name, o] : r.models)
    std::printf("  %s: submitted %llu, results %llu, errors %s, pending %llu\n", name.c_str(),
                static_cast<unsigned long long>(o.submitted),
                static_cast<unsigned long long>(o.results), render_counts(o.errors).c_str(),
                static_cast<unsigned long long>(o.pending()));
  if (r.passed()) {
    std::printf("PASS\n");
    return;
  }
  std::printf("FAIL: %zu expectation(s) did not hold\n", r.failures.size());
  for (auto& f : r.failures) {
    if (f.step)
      std::printf("step %zu (line %d) %s:\n", f.step, f.line, f.summary.c_str());
    else
      std::printf("%s:\n", f.summary.c_str());
    for (auto& d : f.diffs)
      if (d.expected.empty())  // a note (e.g. the first message of an error code)
        std::printf("  %-24s %s\n", d.what.c_str(), d.actual.c_str());
      else
        std::printf("  %-24s expected %s\n  %-24s actual   %s\n", d.what.c_str(), d.expected.c_str(),
                  "", d.actual.c_str());
  }
}

int scenario_command(const global_options& g, const scenario_args& a) {
  scenario sc;
  try {
    sc = load_scenario(a.file, EDGERT_EXAMPLES_DIR);
  } catch (const InvalidConfiguration& e) {
    std::cerr << "edgert: invalid_configuration: " << e.what() << "\n";
    return exit_usage;  // a malformed scenario file
  }
  scenario_options o;
  o.seed = a.seed;
  o.runtime_dir = g.runtime_dir;
  o.board_configs = g.board_configs;
  if (!g.system.empty()) sc.system = g.system;
  auto result = run_scenario(sc, o);
  if (!a.trace.empty()) result.trace.write(a.trace);
  if (a.json)
    print_json(to_json(result));
  else
    print_text(result);
  return result.passed() ? exit_ok : exit_error;
}

}  // namespace

void add_scenario_command(CLI::App& app, const global_options& g, int& status) {
  auto* cmd = app.add_subcommand(
      "scenario",
      "run a scenario file in virtual time and check its expectations (docs/scenarios.md); "
      "exits 1 with an expected-vs-actual diff when one fails");
  auto a = std::make_shared<scenario_args>();
  cmd->add_option("FILE", a->file, "the scenario (TOML)")->required();
  cmd->add_option("--trace", a->trace,
                  "write the event trace here (byte-identical for the same scenario and seed)");
  cmd->add_option("--seed", a->seed, "seed for faults and inputs (default: the scenario's seed)");
  cmd->add_flag("--json", a->json, "print the outcome as JSON");
  cmd->callback([&g, &status, a] { status = guarded([&] { return scenario_command(g, *a); }); });
}

}  // namespace edgert::cli
