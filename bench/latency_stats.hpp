// latency_stats: percentiles of a set of timed samples, and where the benchmarks find the
// committed example models. Header-only; used by the serving benchmarks from their main
// thread.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace bench {

using steady = std::chrono::steady_clock;

/// Nearest-rank percentile `p` (0..1) of `samples`; 0 when empty. Reorders the samples.
inline double percentile(std::vector<double>& samples, double p) {
  if (samples.empty()) return 0;
  const auto k = static_cast<std::size_t>(p * static_cast<double>(samples.size() - 1) + 0.5);
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(k), samples.end());
  return samples[k];
}

struct summary {
  double p50 = 0, p90 = 0, p99 = 0;
};

inline summary summarize(std::vector<double> samples) {
  summary s;
  s.p50 = percentile(samples, 0.50);
  s.p90 = percentile(samples, 0.90);
  s.p99 = percentile(samples, 0.99);
  return s;
}

inline double micros(steady::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

/// The committed example model `name` (tests/data/models/NAME, copied beside the binaries
/// into share/edgert/examples at configure time), found from the program's own path.
inline std::filesystem::path example_model(const char* argv0, const std::string& name) {
  std::error_code ec;
  auto self = std::filesystem::canonical("/proc/self/exe", ec);
  if (ec) self = std::filesystem::absolute(argv0);
  return self.parent_path().parent_path() / "share" / "edgert" / "examples" / name / "model.onnx";
}

}  // namespace bench
