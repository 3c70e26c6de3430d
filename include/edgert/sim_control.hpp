// edgert::SimControl: the simulator's control, reached through Context::sim().
//
// It injects faults into simulated boards (per board, optionally per core, with a trigger
// and parameters, or a whole seeded fault script) and reads their per-core health. For a
// context created with ContextOptions::virtual_time it also owns simulated time: now()
// reads the boards' virtual clock and advance() moves it, event by event, polling every
// board so pending configurations settle and finished jobs complete exactly at their
// simulated time. The fault model is documented in sim/fault_plan.hpp and docs/scenarios.md.
//
// Ownership and threads: a SimControl is a handle sharing its Context's core; it may be
// copied and used from any thread. Calls after the Context is released throw Closed.
// Moving virtual time is meant for one controlling thread (a test or a scenario); calls
// from several threads are serialised, so time never moves backwards.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edgert/device.hpp"
#include "edgert/errc.hpp"

namespace edgert {

struct context_core;
class Runner;
class Submitter;

/// What a fault does; see docs/scenarios.md ("The fault model").
enum class FaultKind {
  job_hang,              // the job never completes; its cores stay hung until a reset
  job_error,             // the next `count` jobs fail with `code`
  dma_failure,           // the next `count` jobs fail with io_error
  board_reset,           // the board returns to power-on state; jobs in flight fail
  thermal_throttle,      // core clock limited to `clock_mhz` for `duration`
  slow_core,             // core computes `factor` times slower for `duration` (0: for ever)
  config_never_settles,  // the next configuration stays pending until a reset
  config_fails,          // the next `count` configurations fail with `code`
};

/// When a fault fires. Events are job launches (configuration requests for the config_*
/// kinds) on the fault's core, or anywhere on the board when it names none.
struct FaultTrigger {
  enum class Kind { after_events, at_time, probability };
  Kind kind = Kind::after_events;
  std::chrono::nanoseconds at{0};  // at_time: board time
  std::uint64_t events = 0;        // after_events: hits the (events+1)-th event from now
  double probability = 0;          // probability: chance per event, 0..1

  static FaultTrigger after(std::uint64_t events);
  static FaultTrigger at_time(std::chrono::nanoseconds t);
  static FaultTrigger with_probability(double p);
};

struct Fault {
  FaultKind kind = FaultKind::job_error;
  std::optional<unsigned> core;  // none: any core, the whole board
  FaultTrigger trigger;
  std::uint32_t count = 1;          // job_error, dma_failure, config_fails
  errc code = errc::device_fault;   // job_error, config_fails
  std::string message;              // job_error, config_fails; empty: a default
  unsigned clock_mhz = 0;           // thermal_throttle
  std::chrono::nanoseconds duration{0};  // thermal_throttle, slow_core
  double factor = 1.0;              // slow_core
};

/// A seeded fault plan: the same script, seed and sequence of events give the same faults.
struct FaultScript {
  std::uint64_t seed = 0;
  std::vector<Fault> faults;
};

/// Parses one fault written as "kind@key=value,key=value", with the keys of a fault
/// script's [[fault]] table (core, at_ms, after, probability, count, code, message,
/// clock_mhz, duration_ms, factor), e.g. "job_error@core=1,after=100,count=5" or
/// "board_reset@at_ms=20". Throws InvalidArgument saying what is wrong.
Fault parse_fault_spec(const std::string& spec);
/// Reads a fault script file (TOML, format in docs/scenarios.md). Throws
/// InvalidConfiguration with file:line:column, IoError when it cannot be read.
FaultScript load_fault_script(const std::filesystem::path& file);
/// The name of a fault kind: "job_hang", "job_error", ...
std::string to_string(FaultKind kind);

class SimControl {
 public:
  /// Adds a fault to `device`'s plan ("dev:0", board id or kind). Throws InvalidArgument
  /// for a bad fault (e.g. a core the board does not have), NotImplemented on the host.
  void inject(const std::string& device, const Fault& fault);
  /// Replaces `device`'s fault plan with `script` and reseeds it.
  void install(const std::string& device, const FaultScript& script);
  /// Removes every fault (and clock window) from `device`'s plan.
  void clear(const std::string& device);
  /// Per-sub-device health of `device`, in sub-device order, read straight from the
  /// simulated board (Context::device_health() adds the device actor's view).
  std::vector<CoreHealth> health(const std::string& device);

  /// True when the context's simulated boards run on a virtual clock.
  bool virtual_time() const;
  /// Simulated time since the context started. Throws NotImplemented without virtual time.
  std::chrono::nanoseconds now() const;
  /// Moves simulated time forward by `d`, stopping at every job end on the way so each
  /// happens at its own simulated time (a configuration settling on the way is seen as
  /// settled at its settle time). Throws NotImplemented without virtual
  /// time, InvalidArgument for a negative duration.
  void advance(std::chrono::nanoseconds d);
  /// One step of advance(): moves the clock to the next job end on any board, or to `limit` (absolute simulated time) when nothing is due before it, polls
  /// every board there, and returns the new time. Callers that serve requests wait for
  /// their own completions between steps to keep runs deterministic.
  std::chrono::nanoseconds step(std::chrono::nanoseconds limit);
  /// Polls every simulated board at the current time and returns the jobs launched on them
  /// and not finished yet.
  std::uint64_t jobs_in_flight();

  /// Process isolation (SupervisionOptions::process_isolation): the next `count` jobs of
  /// the model served by `runner` (or fed by `submitter`) crash their worker process with
  /// a real segfault, whichever execution unit runs them; each fails with DeviceFault and
  /// its unit restarts with a new worker. Any device, virtual time or not. Throws
  /// InvalidArgument when the model is not process-isolated.
  void crash_worker(const Runner& runner, unsigned count = 1);
  void crash_worker(const Submitter& submitter, unsigned count = 1);
  /// The same, but the worker hangs in the job instead: the job fails with Timeout when
  /// the worker's real-time watchdog (SupervisionOptions::watchdog, else
  /// max(watchdog_floor, 10 x the slowest job)) kills it, and its unit restarts.
  void hang_worker(const Runner& runner, unsigned count = 1);
  void hang_worker(const Submitter& submitter, unsigned count = 1);
  /// The process ids of the model's live worker processes (empty without isolation).
  std::vector<int> worker_pids(const Runner& runner) const;
  std::vector<int> worker_pids(const Submitter& submitter) const;

 private:
  friend class Context;
  explicit SimControl(std::shared_ptr<context_core> core) : core_(std::move(core)) {}
  std::shared_ptr<context_core> core_;
};

}  // namespace edgert
