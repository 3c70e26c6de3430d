// trace: per-request profiling of the data path, exported as Chrome-trace JSON (the format
// chrome://tracing and Perfetto read).
//
// A request's moments are stamped into its slot (preallocated; nothing is stamped and
// nothing allocates when profiling is off). When the slot is released after the result was
// read, the service hands the stamps to its trace_recorder, which keeps them until the
// service closes and then writes the profile file. Six spans per request ("X" events, ts
// and dur in microseconds):
//
//   submit          slot acquired -> queued       (input copy or in-place fill included)
//   queue wait      queued -> a worker took it
//   host-to-device  taken -> compute began        (nothing to move on the host device)
//   execute         compute began -> ended        (args: device_time_us, the device's time)
//   device-to-host  compute ended -> completed
//   receive         completed -> result read and slot released
//
// pid: one per recorder (a served model; its name as process_name). tid: 1 + worker index
// for the three device spans (named "worker N"), 1000 + slot index for the others (named
// "slot N"); a slot carries one request at a time, so spans on one track never overlap.
// Every event's args carry "request" (the service's sequence number) and "slot".
//
// Profiling is on for a served model when EDGERT_PROFILE names a file (the CLI's
// --profile sets it), or when a model instance asks for host or device profiling; such a
// recorder may keep only the host spans (submit, queue wait, receive) or only the device
// spans (host-to-device, execute, device-to-host). Every recorder writing the same file shares one process-wide sink;
// the file is rewritten, whole, each time one of its recorders closes.
//
// Ownership and threads: the service owns its recorder (shared_ptr, so a recorder may also
// be inspected by tests); record() is safe from any thread; flush() runs once at close.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "edgert/errc.hpp"

namespace edgert::exec {

/// The moments of one request, steady-clock nanoseconds since its epoch; 0 = not reached.
enum class stamp : std::uint8_t {
  acquired,
  queued,
  started,
  compute_begin,
  compute_end,
  finished,
  released,
};
inline constexpr std::size_t stamp_count = 7;
using request_stamps = std::array<std::int64_t, stamp_count>;

/// Now on the steady clock, in the stamps' unit.
std::int64_t stamp_now() noexcept;

struct request_record {
  std::uint64_t sequence = 0;
  std::uint32_t slot = 0;
  std::uint32_t worker = 0;
  std::uint64_t device_time_ns = 0;
  errc code = errc::ok;
  request_stamps at{};
};

/// Which spans a recorder writes (a bit set).
enum span_group : unsigned { host_spans = 1, device_spans = 2, all_spans = 3 };

class trace_recorder {
 public:
  /// Records requests of `process_name` for the profile `file`, writing the `spans` groups.
  trace_recorder(std::string process_name, std::filesystem::path file,
                 unsigned spans = all_spans);
  ~trace_recorder();
  trace_recorder(const trace_recorder&) = delete;
  trace_recorder& operator=(const trace_recorder&) = delete;

  /// Keeps the record; beyond max_records (or out of memory) counts it as dropped instead.
  void record(const request_record& r) noexcept;
  /// At most this many requests per recorder are kept (about 100 MiB of records).
  static constexpr std::size_t max_records = 1'000'000;
  /// Adds what was recorded to the profile and rewrites the file. Returns false (with a
  /// line on stderr) when the file cannot be written. Idempotent.
  bool flush();

  const std::filesystem::path& file() const noexcept { return file_; }
  std::uint32_t pid() const noexcept { return pid_; }
  std::size_t size() const;

 private:
  std::string name_;
  std::filesystem::path file_;
  std::uint32_t pid_;
  unsigned spans_;
  mutable std::mutex mutex_;
  std::vector<request_record> records_;
  std::uint64_t dropped_ = 0;
  bool flushed_ = false;
};

/// A recorder for `process_name` when EDGERT_PROFILE names a file, else null.
std::shared_ptr<trace_recorder> trace_recorder_from_environment(const std::string& process_name);

/// The name of the environment variable: "EDGERT_PROFILE".
inline constexpr const char* profile_environment_variable = "EDGERT_PROFILE";

/// Chrome-trace JSON ({"traceEvents":[...]}) of the given processes' records; `origin` is
/// the steady-clock time (ns) that becomes ts 0.
struct traced_process {
  std::uint32_t pid = 0;
  std::string name;
  std::vector<request_record> records;
  unsigned spans = all_spans;  // span_group bits
};
std::string chrome_trace_json(const std::vector<traced_process>& processes, std::int64_t origin);

}  // namespace edgert::exec
