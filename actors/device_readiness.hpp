// device_readiness: a device's state as its device actor last published it, combined with
// the driver's status register, so device_ready() can be answered without a message
// whenever the answer is certain.
//
// The device actor publishes its state on every transition. A reader gets true (ready and
// the board settled), false (configuring and the configuration certainly still pending),
// or nothing: then the status may have moved on (a settle time has passed, another process
// changed the board, the device is offline or faulted) and the caller must ask the device
// actor, which polls the driver, moves its state machine on and explains refusals.
//
// Ownership and threads: shared by the device actor (the only writer, from its handlers)
// and the facade (readers on any thread); lives as long as the longest holder.
#pragma once

#include <atomic>
#include <memory>
#include <optional>

#include "drivers/status_register.hpp"
#include "actors/protocol.hpp"

namespace edgert {

class device_readiness {
 public:
  /// `status` may be null (a driver without a status register): then nothing is certain.
  explicit device_readiness(std::shared_ptr<const status_register> status)
      : status_(std::move(status)) {}

  /// Device actor only.
  void publish(device_state state) noexcept { state_.store(state, std::memory_order_release); }

  /// The state last published; any thread, never blocks (execution units check it before
  /// each job and go through the device actor when it is not ready or configuring).
  device_state state() const noexcept { return state_.load(std::memory_order_acquire); }

  /// Any thread; never blocks or allocates.
  std::optional<bool> certain_answer() const noexcept {
    if (!status_) return std::nullopt;
    const auto state = state_.load(std::memory_order_acquire);
    switch (status_->read()) {
      case status_register::reading::settled:
        if (state == device_state::ready) return true;
        break;
      case status_register::reading::pending:
        if (state == device_state::configuring) return false;
        break;
      case status_register::reading::ask_driver:
        break;
    }
    return std::nullopt;
  }

 private:
  std::shared_ptr<const status_register> status_;
  std::atomic<device_state> state_{device_state::offline};
};

}  // namespace edgert
