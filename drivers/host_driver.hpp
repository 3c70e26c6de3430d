// host_driver: a device made of the host CPU's cores, for boards without an NPU.
//
// Each online CPU core is a sub-device. There is no clock model: configure() answers
// not_implemented (saying so), poll_configuration() is always settled, and
// read_configuration() reports what the host is (cores, CPU model).
//
// Jobs: each sub-device has one worker thread (started with its first job) that runs the
// computes of jobs on it, one after another; a job is done when its compute returns, and
// its device time is the measured compute time on the host's monotonic clock. The job
// faults of sim/fault_plan.hpp (job_hang, job_error, dma_failure, board_reset) can be
// injected; the host has no clocks or configuration to break, so the other kinds answer
// not_implemented. Board times in faults are on the host's monotonic clock.
#pragma once

#include <memory>
#include <string>

#include "drivers/driver.hpp"
#include "drivers/job_runner.hpp"
#include "sim/fault_plan.hpp"

namespace edgert {

class host_driver final : public driver {
 public:
  /// `cores` 0 means every online core; more than the online cores are capped to them.
  /// `kind_ordinal` numbers host entries in the system spec; the stable id is
  /// "host-<kind_ordinal>".
  host_driver(std::string name, std::shared_ptr<const lease_registry> leases, unsigned cores = 0,
              unsigned kind_ordinal = 0);

  const std::string& name() const override { return name_; }
  const board_description& describe() const override { return description_; }
  result<lease> reserve(const std::vector<unsigned>& sub_devices,
                        const lease_holder& holder) override;
  std::optional<lease_holder> holder_of(unsigned sub_device) const override;
  result<configure_outcome> configure(const sim::configuration_request& request) override;
  result<bool> poll_configuration() override;
  std::chrono::nanoseconds poll_interval() const override;
  result<std::map<std::string, std::string>> read_configuration() override;
  /// Always settled: the host has no configuration that settles later.
  std::shared_ptr<const status_register> status() const override { return status_; }
  /// Also fails every job in flight with device_fault "board reset" and clears hung and
  /// faulted sub-devices. A compute already running finishes, but its job stays failed.
  result<void> reset() override;
  driver_counters read_counters() const override;

  result<job_id> launch_job(const job_request& request) override;
  result<job_status> poll_job(job_id id) override;
  result<void> release_job(job_id id) override;
  result<std::vector<core_health>> read_health() override;
  result<void> inject_fault(const sim::fault& f) override;
  result<void> install_faults(const sim::fault_script& script) override;

  /// Worker threads started so far (one per sub-device that has run a job).
  unsigned worker_threads() const noexcept { return jobs_->worker_threads(); }
  std::size_t unreported_jobs() const noexcept { return jobs_->unreported_jobs(); }

 private:
  // Carries out board resets the fault plan has due by now.
  void apply_due_faults();

  std::string name_;
  board_description description_;
  std::shared_ptr<const lease_registry> leases_;
  std::string cpu_model_;
  driver_counters counters_;
  std::shared_ptr<status_register> status_;
  std::shared_ptr<const sim::sim_clock> clock_;  // the host's monotonic clock
  sim::fault_plan faults_;
  std::unique_ptr<job_runner> jobs_;  // destroyed first: joins the job workers
};

}  // namespace edgert
