// scripted_driver: a driver whose answers a test sets, to reach failure paths that a
// healthy simulated board never takes (a poll that errors, a configuration that never
// settles). It is also the smallest example of implementing the driver interface.
//
// The test keeps a shared_ptr to the script and changes it between steps; the driver
// (owned by a driver actor) reads it on every call. Tests are single-threaded on the
// test coordinator, so no locking is needed.
#pragma once

#include <memory>

#include "drivers/driver.hpp"

namespace edgert::test {

struct driver_script {
  bool poll_fails = false;             // poll_configuration() answers device_fault
  bool configure_pends_forever = false;  // configure() is pending and never settles
  std::chrono::nanoseconds poll_every{std::chrono::milliseconds(10)};
  int polls = 0;
};

class scripted_driver final : public driver {
 public:
  scripted_driver(std::string name, std::shared_ptr<driver_script> script)
      : name_(std::move(name)), script_(std::move(script)) {
    description_.id = "scripted-0";
    description_.kind = "scripted";
    description_.product = "scripted test board";
    description_.sub_devices = 2;
    description_.clock_profiles_mhz = {400, 800};
  }
  const std::string& name() const override { return name_; }
  const board_description& describe() const override { return description_; }
  result<lease> reserve(const std::vector<unsigned>&, const lease_holder&) override {
    return fail(errc::not_implemented, "the scripted board has no leases");
  }
  std::optional<lease_holder> holder_of(unsigned) const override { return std::nullopt; }
  result<configure_outcome> configure(const sim::configuration_request&) override {
    pending_ = script_->configure_pends_forever;
    return pending_ ? configure_outcome::pending : configure_outcome::complete;
  }
  result<bool> poll_configuration() override {
    ++script_->polls;
    if (script_->poll_fails) return fail(errc::device_fault, "the board stopped answering");
    return !pending_;
  }
  std::chrono::nanoseconds poll_interval() const override {
    return pending_ ? script_->poll_every : std::chrono::nanoseconds::zero();
  }
  result<std::map<std::string, std::string>> read_configuration() override {
    return std::map<std::string, std::string>{{"pending", pending_ ? "true" : "false"}};
  }
  result<void> reset() override {
    pending_ = false;
    return {};
  }
  driver_counters read_counters() const override { return {}; }

 private:
  std::string name_;
  std::shared_ptr<driver_script> script_;
  board_description description_;
  bool pending_ = false;
};

}  // namespace edgert::test
