#include "scenario_expect.hpp"

#include <cstdio>

namespace edgert::cli {

namespace {

std::string ms_text(double ms) {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%.6f ms", ms);
  return buffer;
}

std::string list_text(const std::vector<std::string>& items) {
  std::string out = "[";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out + "]";
}

void compare(std::vector<expectation_diff>& diffs, const char* what,
             const std::optional<std::uint64_t>& expected, std::uint64_t actual) {
  if (expected && *expected != actual)
    diffs.push_back({what, std::to_string(*expected), std::to_string(actual)});
}

}  // namespace

std::uint64_t model_outcomes::completed() const {
  std::uint64_t n = results;
  for (auto& [code, count] : errors) n += count;
  return n;
}

std::string render_counts(const std::map<std::string, std::uint64_t>& counts) {
  if (counts.empty()) return "{}";
  std::string out = "{";
  for (auto& [code, n] : counts) out += (out.size() > 1 ? ", " : "") + code + ": " + std::to_string(n);
  return out + "}";
}

std::vector<expectation_diff> check(const model_expectation& e, const model_outcomes& got) {
  std::vector<expectation_diff> diffs;
  compare(diffs, "submitted", e.submitted, got.submitted);
  compare(diffs, "completed", e.completed, got.completed());
  compare(diffs, "results", e.results, got.results);
  compare(diffs, "pending", e.pending, got.pending());
  if (e.errors && *e.errors != got.errors)
    diffs.push_back({"errors", render_counts(*e.errors), render_counts(got.errors)});
  if (e.latency_min_ms || e.latency_max_ms) {
    const auto since = static_cast<std::int64_t>(e.since_ms * 1e6);
    std::optional<std::int64_t> lo, hi;
    for (auto& [submitted, latency] : got.latencies_ns) {
      if (submitted < since) continue;
      if (!lo || latency < *lo) lo = latency;
      if (!hi || latency > *hi) hi = latency;
    }
    if (!lo) {
      diffs.push_back({"latency", "successful requests to measure", "none succeeded"});
    } else {
      const double min_ms = static_cast<double>(*lo) / 1e6;
      const double max_ms = static_cast<double>(*hi) / 1e6;
      if (e.latency_min_ms && min_ms < *e.latency_min_ms)
        diffs.push_back({"latency_min", ">= " + ms_text(*e.latency_min_ms), ms_text(min_ms)});
      if (e.latency_max_ms && max_ms > *e.latency_max_ms)
        diffs.push_back({"latency_max", "<= " + ms_text(*e.latency_max_ms), ms_text(max_ms)});
    }
  }
  return diffs;
}

std::vector<expectation_diff> check(const device_expectation& e, const device_snapshot& got) {
  std::vector<expectation_diff> diffs;
  if (e.state && *e.state != got.state) diffs.push_back({"state", *e.state, got.state});
  if (e.ready && *e.ready != got.ready)
    diffs.push_back({"ready", *e.ready ? "true" : "false", got.ready ? "true" : "false"});
  if (e.in_use && *e.in_use != got.in_use)
    diffs.push_back({"in_use", *e.in_use ? "true" : "false", got.in_use ? "true" : "false"});
  if (e.health && *e.health != got.health)
    diffs.push_back({"health", list_text(*e.health), list_text(got.health)});
  if (e.configuration) {
    for (auto& [key, value] : *e.configuration) {
      auto found = got.configuration.find(key);
      const std::string actual = found == got.configuration.end() ? "(absent)" : found->second;
      if (actual != value) diffs.push_back({"configuration." + key, value, actual});
    }
  }
  return diffs;
}

}  // namespace edgert::cli
