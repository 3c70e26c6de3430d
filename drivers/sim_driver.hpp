// sim_driver: a driver over one simulated board (sim::board).
//
// When constructed with a state directory (real time only), the board's settings are
// kept in <state_dir>/<board id>.state so every process on the machine sees the same
// configuration, as it would with real hardware; the file is re-read when it changes and
// written after every change, under an advisory lock. With a virtual clock the board lives
// in memory only, which keeps tests deterministic and independent.
//
// Jobs: device time comes from the timing model (sim/timing_model.hpp) with the board's
// applied settings and any clock faults in force when the job starts; completion follows
// the driver's pacing mode (drivers/job_pacing.hpp). Faults come from the board's fault
// plan (sim/fault_plan.hpp), reached through inject_fault() and install_faults(); faults
// due at a board time take effect at the driver's next call at or after that time, as
// if the board had done them at that time.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "drivers/driver.hpp"
#include "drivers/job_pacing.hpp"
#include "drivers/job_runner.hpp"
#include "sim/board.hpp"
#include "sim/fault_plan.hpp"
#include "sim/system_spec.hpp"

namespace edgert {

class sim_driver final : public driver {
 public:
  /// `kind_ordinal` numbers the boards of one kind in the system spec; the stable id is
  /// "<kind>-<kind_ordinal>" (see board_description::id). `pacing` chooses how jobs
  /// complete; without it, EDGERT_SIM_PACING decides, and without that the clock does
  /// (virtual_time on a virtual clock, paced on a real one). A bad EDGERT_SIM_PACING value
  /// makes every launch_job() fail with invalid_configuration saying so.
  sim_driver(std::string name, sim::board board, std::shared_ptr<const lease_registry> leases,
             std::optional<std::filesystem::path> state_dir, unsigned kind_ordinal = 0,
             std::optional<pacing_mode> pacing = std::nullopt);

  const std::string& name() const override { return name_; }
  const board_description& describe() const override { return description_; }
  result<lease> reserve(const std::vector<unsigned>& sub_devices,
                        const lease_holder& holder) override;
  std::optional<lease_holder> holder_of(unsigned sub_device) const override;
  result<configure_outcome> configure(const sim::configuration_request& request) override;
  result<bool> poll_configuration() override;
  std::chrono::nanoseconds poll_interval() const override;
  result<std::map<std::string, std::string>> read_configuration() override;
  std::shared_ptr<const status_register> status() const override { return status_; }
  /// Also fails every job in flight with device_fault "board reset" and clears hung and
  /// faulted sub-devices; the fault plan keeps running.
  result<void> reset() override;
  driver_counters read_counters() const override;
  /// The simulated board's clock (virtual or real).
  std::chrono::nanoseconds board_time() const override { return board_.clock().now(); }

  /// Fused groups need a fusable board and adjacent, ascending sub-devices
  /// (incompatible_device / invalid_argument otherwise).
  result<job_id> launch_job(const job_request& request) override;
  result<job_status> poll_job(job_id id) override;
  result<void> release_job(job_id id) override;
  /// hung and faulted from jobs; degraded while a thermal throttle or slowdown is in force.
  result<std::vector<core_health>> read_health() override;
  /// Every fault kind is supported.
  result<void> inject_fault(const sim::fault& f) override;
  result<void> install_faults(const sim::fault_script& script) override;

  /// The simulated board itself, for the simulator's control interface and tests.
  sim::board& board() noexcept { return board_; }
  /// The board's fault plan as it stands (read-only; change it with inject_fault()).
  const sim::fault_plan& faults() const noexcept { return faults_; }
  pacing_mode pacing() const noexcept { return jobs_->pacing(); }
  /// Jobs launched and not yet reported done or failed, nor released.
  std::size_t unreported_jobs() const noexcept { return jobs_->unreported_jobs(); }
  /// Worker threads the driver has started for job computes.
  unsigned worker_threads() const noexcept { return jobs_->worker_threads(); }

 private:
  // Re-reads the state file when its stamp changed since the last read or write.
  void load_shared_state();
  // Writes the board's snapshot to the state file; the caller holds its board_state_lock.
  result<void> store_shared_state();
  // Publishes the board's settled/pending status after anything that may have changed it.
  void publish_status();
  // Carries out board resets the fault plan has due by now.
  void apply_due_faults();
  // Power-on reset at board time `at`: settings, pending configuration, memory, jobs.
  result<void> reset_board(sim::sim_time at);
  // Device time of a job starting at `start`, with the clock faults in force then.
  result<sim::sim_duration> device_time(const job_request& request, sim::sim_time start) const;

  std::string name_;
  sim::board board_;
  board_description description_;
  std::shared_ptr<const lease_registry> leases_;
  std::optional<std::filesystem::path> state_file_;
  std::int64_t state_file_stamp_ = -1;  // mtime (ns) of the state file when last read
  std::shared_ptr<status_register> status_;  // shared with the device actor's readers
  sim::fault_plan faults_;
  std::optional<failure> pacing_error_;  // a bad EDGERT_SIM_PACING, reported by launch_job
  std::unique_ptr<job_runner> jobs_;     // destroyed first: joins the job workers
};

/// Options for building a process's set of boards.
struct system_options {
  std::string spec;                                  // system_spec grammar
  std::vector<sim::board_config> board_configs;      // known kinds
  std::shared_ptr<const sim::sim_clock> clock;       // shared by every simulated board
  std::shared_ptr<const lease_registry> leases;
  std::optional<std::filesystem::path> state_dir;    // see sim_driver
  std::optional<pacing_mode> pacing;                 // see sim_driver; none: its default
};

/// One driver per board in `options.spec` ("host" entries become host drivers), named
/// dev:0, dev:1, ... Fails with invalid_argument for an unknown kind or a bad core count.
result<std::vector<std::unique_ptr<driver>>> build_system(const system_options& options);

}  // namespace edgert
