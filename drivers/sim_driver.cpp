// sim_driver: the driver interface over a sim::board, with the board state optionally
// shared between processes through a board_state_file.
//
// Every call comes from the owning driver actor, one at a time. With a state file, every
// call that looks at the board first re-reads the file if another process changed it (a
// stat() when nothing changed), and every change is written back under the file's lock.
#include "drivers/sim_driver.hpp"

#include <system_error>

#include "drivers/board_state_file.hpp"
#include "drivers/sub_device_leases.hpp"

namespace edgert {

namespace {

bool same_snapshot(const sim::board_snapshot& a, const sim::board_snapshot& b) {
  return a.applied == b.applied && a.pending == b.pending && a.settles_at == b.settles_at;
}

board_description describe_board(const sim::board& board, unsigned kind_ordinal) {
  const sim::board_config& config = board.config();
  board_description description;
  description.id = config.kind + "-" + std::to_string(kind_ordinal);
  description.kind = config.kind;
  description.product = config.product;
  description.type = config.type;
  description.sub_devices = board.sub_devices();
  description.fusable = config.fusable;
  description.board_revision = config.board_revision;
  description.firmware_version = config.firmware_version;
  description.flashed_firmware_version = config.flashed_firmware_version;
  description.board_controller_version = config.board_controller_version;
  description.max_memory_bytes = config.device_memory_bytes;
  description.clock_profiles_mhz = config.clock_profiles_mhz;
  return description;
}

}  // namespace

sim_driver::sim_driver(std::string name, sim::board board,
                       std::shared_ptr<const lease_registry> leases,
                       std::optional<std::filesystem::path> state_dir, unsigned kind_ordinal)
    : name_(std::move(name)),
      board_(std::move(board)),
      description_(describe_board(board_, kind_ordinal)),
      leases_(std::move(leases)) {
  // A virtual clock's time means nothing to another process, so such a board stays private.
  if (state_dir && !board_.clock().is_virtual()) {
    std::error_code ignored;  // an unusable directory surfaces as io_error on first write
    std::filesystem::create_directories(*state_dir, ignored);
    state_file_ = *state_dir / (description_.id + ".state");
    load_shared_state();
  }
  status_ = std::make_shared<status_register>(board_.shared_clock(), state_file_);
  publish_status();
}

void sim_driver::publish_status() { status_->publish(board_.settles_at(), state_file_stamp_); }

void sim_driver::load_shared_state() {
  if (!state_file_) return;
  if (board_state_stamp(*state_file_) == state_file_stamp_) return;
  std::int64_t stamp = -1;
  if (auto snapshot = read_board_state(*state_file_, stamp)) board_.restore(*snapshot);
  state_file_stamp_ = stamp;
}

result<void> sim_driver::store_shared_state() {
  if (!state_file_) return {};
  auto stamp = write_board_state(*state_file_, board_.snapshot());
  if (!stamp) return stamp.error();
  state_file_stamp_ = *stamp;
  return {};
}

result<lease> sim_driver::reserve(const std::vector<unsigned>& sub_devices,
                                  const lease_holder& holder) {
  return reserve_sub_devices(leases_.get(), name_, description_, sub_devices, holder);
}

std::optional<lease_holder> sim_driver::holder_of(unsigned sub_device) const {
  return sub_device_holder(leases_.get(), description_, sub_device);
}

result<configure_outcome> sim_driver::configure(const sim::configuration_request& request) {
  std::optional<board_state_lock> guard;
  if (state_file_) {
    auto taken = board_state_lock::take(*state_file_);
    if (!taken) return taken.error();
    guard.emplace(std::move(*taken));
    load_shared_state();
  }
  const sim::board_snapshot before = board_.snapshot();
  auto state = board_.configure(request);
  if (!state) return state.error();
  if (state_file_) {
    if (!same_snapshot(before, board_.snapshot())) {
      auto stored = store_shared_state();
      if (!stored) {
        board_.restore(before);  // unshared settings would make processes disagree
        return stored.error();
      }
    }
  }
  publish_status();
  return *state == sim::configure_state::complete ? configure_outcome::complete
                                                  : configure_outcome::pending;
}

result<bool> sim_driver::poll_configuration() {
  load_shared_state();
  const bool settled = board_.poll_configuration();
  publish_status();
  return settled;
}

std::chrono::nanoseconds sim_driver::poll_interval() const {
  return board_.time_until_settled();
}

result<std::map<std::string, std::string>> sim_driver::read_configuration() {
  load_shared_state();
  board_.poll_configuration();  // a configuration whose time has passed reads as settled
  return board_.read_configuration();
}

result<void> sim_driver::reset() {
  std::optional<board_state_lock> guard;
  if (state_file_) {
    auto taken = board_state_lock::take(*state_file_);
    if (!taken) return taken.error();
    guard.emplace(std::move(*taken));
  }
  board_.reset();
  auto stored = store_shared_state();
  publish_status();
  return stored;
}

driver_counters sim_driver::read_counters() const {
  const sim::board_counters board = board_.counters();
  driver_counters counters;
  counters.configurations_requested = board.configurations_requested;
  counters.configurations_applied = board.configurations_applied;
  counters.resets = board.resets;
  counters.memory_used_bytes = board.memory_used_bytes;
  return counters;
}

}  // namespace edgert
