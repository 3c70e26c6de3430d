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
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "drivers/lease_registry.hpp"
#include "drivers/status_register.hpp"
#include "sim/board_config.hpp"
#include "sim/configuration.hpp"

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
  std::uint64_t jobs_completed = 0;
};

/// A job for launch_job(); filled in with model execution.
struct job_request {
  std::vector<unsigned> sub_devices;
};
using job_id = std::uint64_t;
enum class job_state { queued, running, done, failed };

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

  /// Job execution arrives with model execution; until a driver overrides these they fail
  /// with not_implemented and say so.
  virtual result<job_id> launch_job(const job_request& request);
  virtual result<job_state> poll_job(job_id id);
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
