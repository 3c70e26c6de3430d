#include "actors/exec/board_runner.hpp"

#include <caf/all.hpp>

#include "actors/caf_error.hpp"

namespace edgert::exec {

board_runner::board_runner(caf::actor_system& system, driver_actor driver,
                           std::vector<unsigned> sub_devices, std::unique_ptr<plan_runner> compute,
                           sim::job_cost cost)
    : system_(system),
      driver_(std::move(driver)),
      sub_devices_(std::move(sub_devices)),
      compute_(std::move(compute)),
      cost_(cost) {}

board_runner::~board_runner() = default;

result<job_report> board_runner::run(const std::vector<const void*>& inputs,
                                     const std::vector<void*>& outputs) {
  if (!self_) self_ = std::make_unique<caf::scoped_actor>(system_, true);
  job_request request;
  request.sub_devices = sub_devices_;
  request.cost = cost_;
  // The buffers stay valid until the answer below: this thread waits for it.
  request.compute = [this, &inputs, &outputs]() -> result<void> {
    auto ran = compute_->run(inputs, outputs);
    if (!ran) return ran.error();
    return {};
  };
  result<job_report> outcome = fail(errc::internal_error, "the board's driver did not answer");
  (*self_)
      ->request(driver_, caf::infinite, launch_atom::value, std::move(request))
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
  return outcome;
}

}  // namespace edgert::exec
