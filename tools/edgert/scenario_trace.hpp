// The event trace of a scenario run: one line per event, stamped with simulated time.
//
// Determinism: lines are appended by the scenario's controlling thread only, in the order
// the run does things; completions reported by worker threads are first collected and
// then flushed in (simulated time, model, request sequence) order at a settled point, so
// the same scenario and seed always give the same bytes, whatever the thread interleaving.
// Nothing from the wall clock, process ids or thread ids goes into a line.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace edgert::cli {

class scenario_trace {
 public:
  /// Appends "<time> <text>", time as milliseconds with nanosecond digits.
  void add(std::chrono::nanoseconds at, const std::string& text);
  const std::string& text() const noexcept { return text_; }
  std::size_t lines() const noexcept { return lines_; }
  /// Writes the trace to `file`; IoError when it cannot.
  void write(const std::filesystem::path& file) const;

  /// "12.345678ms"
  static std::string format_time(std::chrono::nanoseconds t);

 private:
  std::string text_;
  std::size_t lines_ = 0;
};

}  // namespace edgert::cli
