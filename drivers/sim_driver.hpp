// sim_driver: a driver over one simulated board (sim::board).
//
// When constructed with a state directory (real time only), the board's settings are
// kept in <state_dir>/<board id>.state so every process on the machine sees the same
// configuration, as it would with real hardware; the file is re-read when it changes and
// written after every change, under an advisory lock. With a virtual clock the board lives
// in memory only, which keeps tests deterministic and independent.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "drivers/driver.hpp"
#include "sim/board.hpp"
#include "sim/system_spec.hpp"

namespace edgert {

class sim_driver final : public driver {
 public:
  /// `kind_ordinal` numbers the boards of one kind in the system spec; the stable id is
  /// "<kind>-<kind_ordinal>" (see board_description::id).
  sim_driver(std::string name, sim::board board, std::shared_ptr<const lease_registry> leases,
             std::optional<std::filesystem::path> state_dir, unsigned kind_ordinal = 0);

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
  result<void> reset() override;
  driver_counters read_counters() const override;

  /// The simulated board itself, for the simulator's control interface and tests.
  sim::board& board() noexcept { return board_; }

 private:
  // Re-reads the state file when its stamp changed since the last read or write.
  void load_shared_state();
  // Writes the board's snapshot to the state file; the caller holds its board_state_lock.
  result<void> store_shared_state();
  // Publishes the board's settled/pending status after anything that may have changed it.
  void publish_status();

  std::string name_;
  sim::board board_;
  board_description description_;
  std::shared_ptr<const lease_registry> leases_;
  std::optional<std::filesystem::path> state_file_;
  std::int64_t state_file_stamp_ = -1;  // mtime (ns) of the state file when last read
  std::shared_ptr<status_register> status_;  // shared with the device actor's readers
};

/// Options for building a process's set of boards.
struct system_options {
  std::string spec;                                  // system_spec grammar
  std::vector<sim::board_config> board_configs;      // known kinds
  std::shared_ptr<const sim::sim_clock> clock;       // shared by every simulated board
  std::shared_ptr<const lease_registry> leases;
  std::optional<std::filesystem::path> state_dir;    // see sim_driver
};

/// One driver per board in `options.spec` ("host" entries become host drivers), named
/// dev:0, dev:1, ... Fails with invalid_argument for an unknown kind or a bad core count.
result<std::vector<std::unique_ptr<driver>>> build_system(const system_options& options);

}  // namespace edgert
