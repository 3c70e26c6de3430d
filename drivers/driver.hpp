// driver: the narrow boundary to one board. Everything edgert does to hardware (or to a
// simulated board) goes through this interface, so a vendor driver or a scripted fake can
// stand in for the simulator, and one conformance suite (tests/driver_conformance_test.cpp)
// checks every implementation.
//
// Ownership and threads: a driver object is owned by exactly one driver actor and is only
// ever called from that actor, one call at a time. Implementations need no locking unless
// they share state with other processes (leases, persisted board state).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "drivers/lease_registry.hpp"
#include "drivers/status_register.hpp"
#include "sim/board_config.hpp"
#include "sim/configuration.hpp"
#include "sim/fault_plan.hpp"
#include "sim/timing_model.hpp"

namespace edgert {

/// Static facts about a board, as list_devices() reports them.
struct board_description {
  /// Stable identity across processes: kind plus ordinal among boards of that kind
  /// ("m2-0", "host-0"). Leases and shared board state are keyed by it, so two processes
  /// with differently ordered systems still agree on which board is which.
  std::string id;
  std::string kind;     // board kind ("m2", "sbc", "host", ...)
  std::string product;  // human-readable product line
  sim::board_type type = sim::board_type::pcie;
  unsigned sub_devices = 0;
  bool fusable = false;
  std::string board_revision;
  std::string firmware_version;
  std::string flashed_firmware_version;
  std::string board_controller_version;
  std::uint64_t max_memory_bytes = 0;
  std::vector<unsigned> clock_profiles_mhz;  // empty when clocks cannot be configured
};

enum class configure_outcome { complete, pending };

struct driver_counters {
  std::uint64_t configurations_requested = 0;
  std::uint64_t configurations_applied = 0;
  std::uint64_t resets = 0;
  std::uint64_t memory_used_bytes = 0;
  std::uint64_t jobs_launched = 0;
  std::uint64_t jobs_completed = 0;  // reported done by poll_job()
  std::uint64_t jobs_failed = 0;     // reported failed by poll_job()
};

using job_id = std::uint64_t;

/// What a job asks of the device: MACs and bytes moved (see sim/timing_model.hpp).
using job_cost = sim::job_cost;

/// A job for launch_job().
struct job_request {
  /// The sub-devices the job runs on: one, or a fused group of adjacent ones on a
  /// fusable board (ascending). The caller is expected to hold their lease.
  std::vector<unsigned> sub_devices;
  job_cost cost;
  /// The host computation that produces the job's true outputs; empty for a timing-only
  /// job. Runs at most once, and never for a job an injected fault fails or hangs. It
  /// runs inside launch_job() under virtual_time pacing, and on a driver-owned worker
  /// thread otherwise (see drivers/job_pacing.hpp), so anything it captures must outlive
  /// the job's completion or the driver, whichever comes first. An exception it throws
  /// fails the job with internal_error.
  std::function<result<void>()> compute;
  /// Optional: called once with the job's id on the worker thread right after `compute`
  /// finished (paced and fast pacing, host driver); never under virtual_time pacing and
  /// never for jobs that run no compute. It must be cheap and thread-safe and must not
  /// call the driver: typically it sends a message to the driver's actor, which then
  /// polls.
  std::function<void(job_id)> notify;
};

enum class job_state { queued, running, done, failed };

/// What poll_job() knows about a job. Times are on the board's clock (sim::sim_clock;
/// the host's monotonic clock for the host driver).
struct job_status {
  job_id id = 0;
  job_state state = job_state::queued;
  errc error = errc::ok;  // when failed: device_fault (hang reset, board reset, injected
                          // error), io_error (DMA), or what compute returned
  std::string message;    // when failed
  std::chrono::nanoseconds device_time{0};  // modelled (sim) or measured once done (host)
  std::chrono::nanoseconds started{0};      // when it started or is due to start; 0 if unknown
  std::chrono::nanoseconds finished{0};     // when it finished or is due to; 0 if unknown
  /// For a queued or running job: board time until its state can next change; zero when
  /// that depends on a compute still running (wait for notify) or will never come (hung).
  std::chrono::nanoseconds poll_after{0};
};

/// Per-sub-device health, from read_health().
enum class health_state {
  ok,
  degraded,  // works, but slower: thermal throttle or slow core in force
  hung,      // a job hung on it; nothing completes there until the board is reset
  faulted,   // a job on it failed with a device fault since the last reset
};
std::string_view to_string(health_state state) noexcept;

struct core_health {
  unsigned sub_device = 0;
  health_state state = health_state::ok;
  std::string reason;  // empty when ok
};

class driver {
 public:
  virtual ~driver() = default;

  /// The board's name in this process, e.g. "dev:0" (describe().id is the stable one).
  virtual const std::string& name() const = 0;
  virtual const board_description& describe() const = 0;

  /// Reserves sub-devices for `holder` across processes (all or none).
  virtual result<lease> reserve(const std::vector<unsigned>& sub_devices,
                                const lease_holder& holder) = 0;
  /// Who holds a sub-device, if anyone (this process included).
  virtual std::optional<lease_holder> holder_of(unsigned sub_device) const = 0;

  /// Applies settings; complete, or pending until poll_configuration() says settled.
  virtual result<configure_outcome> configure(const sim::configuration_request& request) = 0;
  /// True when no configuration is pending any more.
  virtual result<bool> poll_configuration() = 0;
  /// How long the caller should wait before polling again; zero when nothing is pending.
  virtual std::chrono::nanoseconds poll_interval() const = 0;
  virtual result<std::map<std::string, std::string>> read_configuration() = 0;
  /// The board's configuration status for lock-free reads from any thread, or null when
  /// the driver publishes none (then every readiness question goes to the driver actor).
  virtual std::shared_ptr<const status_register> status() const { return nullptr; }

  /// Returns the board to its power-on state: defaults applied, nothing pending.
  virtual result<void> reset() = 0;
  virtual driver_counters read_counters() const = 0;
  /// The board's clock now: the time line of job_status times, on which the driver actor
  /// measures job deadlines. Default: the host's monotonic clock (sim::real_clock).
  virtual std::chrono::nanoseconds board_time() const;

  // Jobs. A driver that does not override these answers not_implemented and says so.

  /// Accepts a job and returns its id (ids start at 1 and grow). Fails with
  /// invalid_argument for no or out-of-range or repeated sub-devices, incompatible_device
  /// for a group the board cannot fuse, queue_full when too many jobs are unreported,
  /// invalid_configuration for an unusable pacing setting.
  virtual result<job_id> launch_job(const job_request& request);
  /// The job's status. A job reported done or failed is forgotten at once, so the
  /// driver's memory stays bounded however many jobs run; polling it again, or an id
  /// never issued, fails with invalid_argument.
  virtual result<job_status> poll_job(job_id id);
  /// Forgets a job without waiting for it. A job in flight still occupies its
  /// sub-devices until it would have finished; a compute not started yet is skipped.
  /// invalid_argument for an unknown id.
  virtual result<void> release_job(job_id id);

  /// Health of every sub-device, in sub-device order. Read-only.
  virtual result<std::vector<core_health>> read_health();

  // Fault injection (simulated boards; job faults on the host). See sim/fault_plan.hpp.

  /// Adds one fault to the board's plan. invalid_argument for a bad fault,
  /// not_implemented for a kind this driver cannot simulate.
  virtual result<void> inject_fault(const sim::fault& f);
  /// Replaces the board's plan with `script` (an empty script clears it) and reseeds.
  virtual result<void> install_faults(const sim::fault_script& script);
};

/// Creates the drivers of one kind of backend: every board it can see.
class driver_backend {
 public:
  virtual ~driver_backend() = default;
  virtual std::string backend_name() const = 0;
  /// One driver per board, named "dev:<first_index>", "dev:<first_index + 1>", ...
  virtual result<std::vector<std::unique_ptr<driver>>> enumerate(unsigned first_index) = 0;
};

}  // namespace edgert
