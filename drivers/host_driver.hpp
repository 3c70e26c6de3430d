// host_driver: a device made of the host CPU's cores, for boards without an NPU.
//
// Each online CPU core is a sub-device. There is no clock model: configure() answers
// not_implemented (saying so), poll_configuration() is always settled, and
// read_configuration() reports what the host is (cores, CPU model).
#pragma once

#include <memory>
#include <string>

#include "drivers/driver.hpp"

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
  result<void> reset() override;
  driver_counters read_counters() const override;

 private:
  std::string name_;
  board_description description_;
  std::shared_ptr<const lease_registry> leases_;
  std::string cpu_model_;
  driver_counters counters_;
  std::shared_ptr<status_register> status_;
};

}  // namespace edgert
