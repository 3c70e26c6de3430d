// supervisor: the restart budget and the health of one model instance's execution units.
//
// An execution unit is a worker thread's job runner (its plan executor and arena, and on a
// board its link to the driver actor). When a job fails through the unit's own fault (the
// job failed on the device, threw, or outlived its watchdog), the unit is restarted: its
// runner is rebuilt from scratch. Restarts are budgeted: at most max_restarts within any
// restart_window; the failure after that marks the whole instance failed, and from then on
// every request fails at once with device_fault naming the reason. Failures that are not
// the unit's fault (the board reset or recovers under it, a closed service, bad input) are
// passed on to their request and cost no restart.
//
// Ownership and threads: an instance_supervisor is shared (shared_ptr) by the instance's
// supervised_runners, which call it from their worker threads, and by the facade, which
// reads health() from any thread; it is internally locked. A supervised_runner belongs to
// one worker thread, like every job runner.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "actors/exec/job_runner.hpp"
#include "common/result.hpp"

namespace edgert::exec {

enum class instance_state : std::uint8_t { ok, restarting, failed };

struct supervision_options {
  unsigned max_restarts = 5;  // restarts allowed within any restart_window
  std::chrono::milliseconds restart_window{60000};
};

struct instance_health {
  instance_state state = instance_state::ok;
  std::string reason;               // ok/restarting: the last failure that cost a restart; failed: why
  unsigned restarts_in_window = 0;  // restarts within the last restart_window
  std::uint64_t restarts_total = 0;
  unsigned max_restarts = 0;
};

/// Whose fault a failed job was.
enum class blame { unit, board, request };

/// The default attribution by error code: timeout, device_fault, io_error and
/// internal_error are the unit's; everything else belongs to the request.
blame blame_by_code(errc code) noexcept;

/// Implemented by job runners that know better than the error code whose fault a failed
/// job was (a board runner asks its device whether the board recovered meanwhile).
class fault_attribution {
 public:
  virtual ~fault_attribution() = default;
  /// Called on the runner's worker thread right after run() failed with `f`.
  virtual blame blame_for(const failure& f) = 0;
};

class instance_supervisor {
 public:
  using clock_function = std::function<std::chrono::steady_clock::time_point()>;

  /// `name` names the instance in messages ("mnist on dev:0"); `now` is the clock of the
  /// restart window (steady_clock when empty; tests pass their own).
  instance_supervisor(std::string name, supervision_options options, clock_function now = {});

  /// A unit failed through its own fault. True: restart it (a restart is counted and the
  /// instance is restarting until unit_restarted()); false: the budget is spent and the
  /// instance is failed from now on.
  bool unit_failed(const failure& f);
  /// The restart begun by unit_failed() is over.
  void unit_restarted();
  /// A unit could not be rebuilt: the instance is failed.
  void mark_failed(const failure& f);

  bool failed() const noexcept { return failed_.load(std::memory_order_acquire); }
  /// What every request gets once the instance is failed.
  failure failure_for_request() const;
  instance_health health() const;
  const std::string& name() const noexcept { return name_; }

 private:
  void prune(std::chrono::steady_clock::time_point now) const;  // caller holds mutex_

  const std::string name_;
  const supervision_options options_;
  clock_function now_;
  mutable std::mutex mutex_;
  mutable std::deque<std::chrono::steady_clock::time_point> recent_;  // restarts in window
  std::uint64_t total_ = 0;
  unsigned restarting_ = 0;
  std::string reason_;
  std::atomic<bool> failed_{false};
};

/// A job runner that supervises one execution unit: it runs jobs on the unit, rebuilds the
/// unit after a failure that was the unit's fault or left it unusable (a dead worker
/// process; within the supervisor's budget), turns
/// an exception into internal_error, and fails every job at once when the instance failed.
class supervised_runner final : public job_runner {
 public:
  /// Builds a fresh unit (called on the worker thread for a restart).
  using factory = std::function<result<std::unique_ptr<job_runner>>()>;

  /// `first` is the unit to start with; null builds one at the first job.
  supervised_runner(std::shared_ptr<instance_supervisor> supervisor, factory make,
                    std::unique_ptr<job_runner> first = nullptr);

  result<job_report> run(const std::vector<const void*>& inputs,
                         const std::vector<void*>& outputs) override;

 private:
  void rebuild();

  std::shared_ptr<instance_supervisor> supervisor_;
  factory make_;
  std::unique_ptr<job_runner> unit_;
};

}  // namespace edgert::exec
