#include "actors/exec/trace.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <system_error>
#include <unistd.h>

namespace edgert::exec {

namespace {

// Every profile file of the process with what its recorders flushed, so recorders that
// close at different times add up to one file. Guarded by its mutex; lives until exit.
struct trace_sink {
  std::mutex mutex;
  std::int64_t origin = stamp_now();
  std::uint32_t next_pid = 1;
  std::map<std::filesystem::path, std::vector<traced_process>> files;

  static trace_sink& instance() {
    static auto* sink = new trace_sink();  // never destroyed: recorders may flush at exit
    return *sink;
  }
};

void append_escaped(std::string& out, const std::string& text) {
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
}

void append_us(std::string& out, std::int64_t ns) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(ns) / 1000.0);
  out += buf;
}

struct event_writer {
  std::string& out;
  bool first = true;

  void begin() {
    if (!first) out += ",\n";
    first = false;
  }
  void metadata(const char* what, std::uint32_t pid, std::uint32_t tid, const std::string& name) {
    begin();
    out += "{\"ph\":\"M\",\"name\":\"";
    out += what;
    out += "\",\"pid\":" + std::to_string(pid) + ",\"tid\":" + std::to_string(tid) +
           ",\"args\":{\"name\":\"";
    append_escaped(out, name);
    out += "\"}}";
  }
  void span(const char* name, std::uint32_t pid, std::uint32_t tid, std::int64_t begin_ns,
            std::int64_t end_ns, const request_record& r, const std::string& extra_args) {
    begin();
    out += "{\"ph\":\"X\",\"cat\":\"edgert\",\"name\":\"";
    out += name;
    out += "\",\"pid\":" + std::to_string(pid) + ",\"tid\":" + std::to_string(tid) + ",\"ts\":";
    append_us(out, begin_ns);
    out += ",\"dur\":";
    append_us(out, std::max<std::int64_t>(0, end_ns - begin_ns));
    out += ",\"args\":{\"request\":" + std::to_string(r.sequence) +
           ",\"slot\":" + std::to_string(r.slot) + extra_args + "}}";
  }
};

// The stamps made monotonic: a moment that was not reached (0) or that lies before the
// previous one takes the previous one, so every span has a place and no negative length.
// Runners that do not report their compute (a board's driver runs it) show the whole job
// as execute.
request_stamps ordered(const request_record& r) {
  auto at = r.at;
  auto& begin = at[static_cast<std::size_t>(stamp::compute_begin)];
  auto& end = at[static_cast<std::size_t>(stamp::compute_end)];
  if (begin == 0 || end == 0) {
    begin = at[static_cast<std::size_t>(stamp::started)];
    end = at[static_cast<std::size_t>(stamp::finished)];
  }
  std::int64_t last = 0;
  for (auto t : at)
    if (t != 0) {
      last = t;  // the first moment reached stands in for the ones before it
      break;
    }
  for (auto& t : at) {
    if (t < last) t = last;
    last = t;
  }
  return at;
}

}  // namespace

std::int64_t stamp_now() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string chrome_trace_json(const std::vector<traced_process>& processes, std::int64_t origin) {
  std::string out = "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n";
  event_writer w{out};
  for (const auto& p : processes) {
    w.metadata("process_name", p.pid, 0, p.name);
    std::set<std::uint32_t> workers, slots;
    for (const auto& r : p.records) {
      workers.insert(r.worker);
      slots.insert(r.slot);
    }
    for (auto worker : workers) w.metadata("thread_name", p.pid, 1 + worker, "worker " + std::to_string(worker));
    for (auto slot : slots) w.metadata("thread_name", p.pid, 1000 + slot, "slot " + std::to_string(slot));
    for (const auto& r : p.records) {
      const auto at = ordered(r);
      auto t = [&](stamp s) { return at[static_cast<std::size_t>(s)] - origin; };
      const std::uint32_t worker_tid = 1 + r.worker, slot_tid = 1000 + r.slot;
      std::string outcome;
      if (r.code != errc::ok) {
        outcome = ",\"error\":\"";
        append_escaped(outcome, std::string(to_string(r.code)));
        outcome += "\"";
      }
      const bool host = (p.spans & host_spans) != 0, device = (p.spans & device_spans) != 0;
      if (host) {
        w.span("submit", p.pid, slot_tid, t(stamp::acquired), t(stamp::queued), r, "");
        w.span("queue wait", p.pid, slot_tid, t(stamp::queued), t(stamp::started), r, "");
      }
      if (device) {
        w.span("host-to-device", p.pid, worker_tid, t(stamp::started), t(stamp::compute_begin), r, "");
        char device_time[64];
        std::snprintf(device_time, sizeof device_time, ",\"device_time_us\":%.3f",
                      static_cast<double>(r.device_time_ns) / 1000.0);
        w.span("execute", p.pid, worker_tid, t(stamp::compute_begin), t(stamp::compute_end), r,
               device_time + outcome);
        w.span("device-to-host", p.pid, worker_tid, t(stamp::compute_end), t(stamp::finished), r, "");
      }
      if (host) w.span("receive", p.pid, slot_tid, t(stamp::finished), t(stamp::released), r, "");
    }
  }
  out += "\n]}\n";
  return out;
}

trace_recorder::trace_recorder(std::string process_name, std::filesystem::path file,
                               unsigned spans)
    : name_(std::move(process_name)), file_(std::move(file)), spans_(spans) {
  auto& sink = trace_sink::instance();
  std::lock_guard<std::mutex> lock(sink.mutex);
  pid_ = sink.next_pid++;
  records_.reserve(4096);
}

trace_recorder::~trace_recorder() {
  try {
    flush();
  } catch (...) {
    std::fprintf(stderr, "edgert: the profile %s could not be written\n", file_.c_str());
  }
}

void trace_recorder::record(const request_record& r) noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  if (records_.size() >= max_records) {
    ++dropped_;
    return;
  }
  try {
    records_.push_back(r);
  } catch (...) {
    ++dropped_;  // out of memory: the request goes unprofiled, never fails
  }
}

std::size_t trace_recorder::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return records_.size();
}

bool trace_recorder::flush() {
  traced_process mine;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (flushed_) return true;
    flushed_ = true;
    mine.pid = pid_;
    mine.name = name_;
    mine.records = std::move(records_);
    mine.spans = spans_;
    if (dropped_ > 0)
      std::fprintf(stderr, "edgert: the profile %s holds the first %zu requests of %s; %llu more "
                           "were not recorded\n",
                   file_.c_str(), max_records, name_.c_str(),
                   static_cast<unsigned long long>(dropped_));
  }
  auto& sink = trace_sink::instance();
  std::lock_guard<std::mutex> lock(sink.mutex);
  auto& processes = sink.files[file_];
  processes.push_back(std::move(mine));
  const auto text = chrome_trace_json(processes, sink.origin);
  // Written beside the target and renamed over it, so a reader never sees half a file.
  const auto tmp = file_.string() + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.good()) {
      std::fprintf(stderr, "edgert: cannot write the profile %s\n", file_.c_str());
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file_, ec);
  if (ec) {
    std::fprintf(stderr, "edgert: cannot write the profile %s: %s\n", file_.c_str(),
                 ec.message().c_str());
    std::filesystem::remove(tmp, ec);
    return false;
  }
  return true;
}

std::shared_ptr<trace_recorder> trace_recorder_from_environment(const std::string& process_name) {
  const char* file = std::getenv(profile_environment_variable);
  if (file == nullptr || *file == '\0') return nullptr;
  return std::make_shared<trace_recorder>(process_name, file);
}

}  // namespace edgert::exec
