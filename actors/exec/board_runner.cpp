#include "actors/exec/board_runner.hpp"

#include <mutex>

#include <caf/all.hpp>

#include "actors/caf_error.hpp"

namespace edgert::exec {

// Lets a job's compute touch the runner and the request's buffers only while that job is
// the runner's current one. A job abandoned by its launcher (watchdog timeout) may still
// reach a driver worker later; it then finds a newer token and does nothing. Closing a job
// takes the mutex, so it also waits for a compute already running to finish. Shared by
// the runner and the computes it hands out.
struct compute_gate {
  std::mutex mutex;
  std::uint64_t current = 0;  // the token of the job whose compute may run
};

board_runner::board_runner(caf::actor_system& system, device_actor device,
                           std::shared_ptr<const device_readiness> readiness, driver_actor driver,
                           std::uint64_t epoch, std::vector<unsigned> sub_devices,
                           std::unique_ptr<job_runner> compute, sim::job_cost cost,
                           board_unit_options options)
    : system_(system),
      device_(std::move(device)),
      readiness_(std::move(readiness)),
      driver_(std::move(driver)),
      epoch_(epoch),
      sub_devices_(std::move(sub_devices)),
      compute_(std::move(compute)),
      cost_(cost),
      options_(std::move(options)),
      gate_(std::make_shared<compute_gate>()) {}

board_runner::~board_runner() {
  std::lock_guard<std::mutex> guard(gate_->mutex);
  ++gate_->current;  // no compute handed out earlier may run from now on
}

bool board_runner::device_in_service() const {
  if (!readiness_) return true;
  const auto state = readiness_->state();
  return state == device_state::ready || state == device_state::configuring;
}

result<void> board_runner::attach(std::chrono::nanoseconds wait) {
  if (!self_) self_ = std::make_unique<caf::scoped_actor>(system_, true);
  auto handle = (*self_)->request(device_, caf::infinite, attach_atom::value,
                                  std::chrono::duration_cast<caf::timespan>(wait));
  result<void> outcome = fail(errc::device_fault, "the device actor did not answer in time");
  bool answered = false;
  caf::blocking_actor::accept_one_cond one_message;
  (*self_)->varargs_receive(
      one_message, handle.id(),
      [&](driver_actor& drv, std::uint64_t epoch) {
        answered = true;
        driver_ = std::move(drv);
        epoch_ = epoch;
        outcome = result<void>{};
      },
      [&](caf::error& e) {
        answered = true;
        auto f = from_caf_error(e);
        outcome = fail(f.code, f.message);
      },
      // The device times the wait itself; this only guards against a device actor gone mute.
      caf::after(wait + std::chrono::seconds(30)) >> [] {});
  if (!answered) self_.reset();  // its late answer must not reach a later receive
  return outcome;
}

result<job_report> board_runner::run(const std::vector<const void*>& inputs,
                                     const std::vector<void*>& outputs) {
  if (!self_) self_ = std::make_unique<caf::scoped_actor>(system_, true);
  attach_failed_ = false;
  if (!driver_ || !device_in_service()) {
    auto attached = attach(options_.recovery_wait);
    if (!attached) {
      attach_failed_ = true;
      return attached.error();
    }
  }
  launch_epoch_ = epoch_;
  std::uint64_t token = 0;
  {
    std::lock_guard<std::mutex> guard(gate_->mutex);
    token = ++gate_->current;
  }
  job_request request;
  request.sub_devices = sub_devices_;
  request.cost = cost_;
  // The buffers stay valid while this job is current: this thread waits for its answer,
  // and closing the job below waits for a compute that is running.
  request.compute = [this, gate = gate_, token, &inputs, &outputs]() -> result<void> {
    std::lock_guard<std::mutex> guard(gate->mutex);
    if (gate->current != token) return fail(errc::closed, "the job was abandoned by its launcher");
    auto ran = compute_->run(inputs, outputs);
    if (!ran) return ran.error();
    return {};
  };
  result<job_report> outcome = fail(errc::internal_error, "the board's driver did not answer");
  (*self_)
      ->request(driver_, caf::infinite, launch_atom::value, std::move(request), options_.watchdog)
      .receive(
          [&](job_status& status) {
            if (status.state == job_state::done)
              outcome = job_report{static_cast<std::uint64_t>(status.device_time.count())};
            else
              outcome = fail(status.error == errc::ok ? errc::device_fault : status.error,
                             status.message.empty() ? "the job failed on the board" : status.message);
          },
          [&](caf::error& e) {
            auto f = from_caf_error(e);
            outcome = fail(f.code, f.message);
          });
  {
    std::lock_guard<std::mutex> guard(gate_->mutex);  // waits for a compute still running
    ++gate_->current;
  }
  return outcome;
}

blame board_runner::blame_for(const failure& f) {
  if (attach_failed_) return blame::board;  // the device was out of service
  if (f.code == errc::device_fault || f.code == errc::connection_error) {
    // Ask the device as it is now (after whatever recovery the failure set off: the
    // driver reports to the device before it answers the job). Out of service, or back
    // in service under a new epoch: the board failed under the job, not this unit.
    driver_ = driver_actor{};
    auto attached = attach(std::chrono::nanoseconds::zero());
    if (!attached || epoch_ != launch_epoch_) return blame::board;
    return f.code == errc::device_fault ? blame::unit : blame::request;
  }
  return blame_by_code(f.code);
}

}  // namespace edgert::exec
