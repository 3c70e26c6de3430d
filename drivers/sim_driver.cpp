// sim_driver: the driver interface over a sim::board, with the board state optionally
// shared between processes through a board_state_file.
//
// Every call comes from the owning driver actor, one at a time. With a state file, every
// call that looks at the board first re-reads the file if another process changed it (a
// stat() when nothing changed), and every change is written back under the file's lock.
#include "drivers/sim_driver.hpp"

#include <algorithm>
#include <sstream>
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
                       std::optional<std::filesystem::path> state_dir, unsigned kind_ordinal,
                       std::optional<pacing_mode> pacing)
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

  job_runner_options jobs;
  jobs.driver_name = name_;
  jobs.sub_devices = board_.sub_devices();
  jobs.clock = board_.shared_clock();
  jobs.pacing = board_.clock().is_virtual() ? pacing_mode::virtual_time : pacing_mode::paced;
  if (pacing) {
    jobs.pacing = *pacing;
  } else if (auto chosen = pacing_from_environment(); !chosen) {
    pacing_error_ = chosen.error();
  } else if (*chosen) {
    jobs.pacing = **chosen;
  }
  jobs_ = std::make_unique<job_runner>(std::move(jobs));
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
  apply_due_faults();
  const sim::configuration_fault_effect injected = faults_.on_configuration(board_.clock().now());
  if (injected.error) return *injected.error;
  if (injected.never_settles) board_.hold_settling(true);
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
  apply_due_faults();
  load_shared_state();
  const bool settled = board_.poll_configuration();
  publish_status();
  return settled;
}

std::chrono::nanoseconds sim_driver::poll_interval() const {
  return board_.time_until_settled();
}

result<std::map<std::string, std::string>> sim_driver::read_configuration() {
  apply_due_faults();
  load_shared_state();
  board_.poll_configuration();  // a configuration whose time has passed reads as settled
  return board_.read_configuration();
}

result<void> sim_driver::reset() {
  apply_due_faults();
  return reset_board(board_.clock().now());
}

result<void> sim_driver::reset_board(sim::sim_time at) {
  // Jobs end whatever happens to the shared state file: the board itself has reset.
  jobs_->reset(at, "board reset");
  std::optional<board_state_lock> guard;
  if (state_file_) {
    auto taken = board_state_lock::take(*state_file_);
    if (!taken) {
      board_.reset();
      publish_status();
      return taken.error();
    }
    guard.emplace(std::move(*taken));
  }
  board_.reset();
  auto stored = store_shared_state();
  publish_status();
  return stored;
}

void sim_driver::apply_due_faults() {
  // A reset that cannot be written to the shared state file still happened on this
  // board; the next change that is written brings other processes up to date.
  for (sim::sim_time at : faults_.take_due_resets(board_.clock().now())) reset_board(at);
}

driver_counters sim_driver::read_counters() const {
  const sim::board_counters board = board_.counters();
  driver_counters counters;
  counters.configurations_requested = board.configurations_requested;
  counters.configurations_applied = board.configurations_applied;
  counters.resets = board.resets;
  counters.memory_used_bytes = board.memory_used_bytes;
  counters.jobs_launched = jobs_->jobs_launched();
  counters.jobs_completed = jobs_->jobs_completed();
  counters.jobs_failed = jobs_->jobs_failed();
  return counters;
}

result<sim::sim_duration> sim_driver::device_time(const job_request& request,
                                                  sim::sim_time start) const {
  auto rates = sim::applied_core_rates(board_, request.sub_devices);
  if (!rates) return rates.error();
  for (std::size_t i = 0; i < rates->size(); ++i) {
    const unsigned core = request.sub_devices[i];
    sim::core_rate& rate = (*rates)[i];
    if (auto limit = faults_.clock_limit_mhz(core, start)) {
      rate.clock_mhz = std::min(rate.clock_mhz, *limit);
    }
    rate.slowdown = faults_.slowdown(core, start);
  }
  auto time = sim::estimate_device_time(board_.config(), *rates, request.cost);
  if (!time) return time.error();
  return time->total();
}

result<job_id> sim_driver::launch_job(const job_request& request) {
  if (pacing_error_) return *pacing_error_;
  if (auto checked = jobs_->check(request); !checked) return checked.error();
  const auto& group = request.sub_devices;
  if (group.size() > 1) {
    if (!board_.config().fusable) {
      return fail(errc::incompatible_device,
                  name_ + " (" + board_.config().kind +
                      ") cannot fuse sub-devices; run the job on one sub-device");
    }
    for (std::size_t i = 1; i < group.size(); ++i) {
      if (group[i] != group[i - 1] + 1) {
        return fail(errc::invalid_argument,
                    "a fused group on " + name_ +
                        " must be adjacent sub-devices in ascending order");
      }
    }
  }
  apply_due_faults();
  load_shared_state();
  board_.poll_configuration();  // a configuration that has settled applies to this job
  publish_status();

  // The job's cost is checked before the fault plan counts it, so a refused job does not
  // consume an injected fault.
  sim::sim_time now = board_.clock().now();
  if (auto valid = device_time(request, jobs_->earliest_start(group, now)); !valid) {
    return valid.error();
  }
  const sim::job_fault_effect injected = faults_.on_job_launch(now, group);
  if (injected.reset_board) reset_board(now);
  auto time = device_time(request, jobs_->earliest_start(group, now));
  if (!time) return time.error();

  job_decision decision;
  decision.device_time = *time;
  decision.hang = injected.hang;
  decision.error = injected.error;
  return jobs_->launch(request, decision);
}

result<job_status> sim_driver::poll_job(job_id id) {
  apply_due_faults();
  return jobs_->poll(id);
}

result<void> sim_driver::release_job(job_id id) { return jobs_->release(id); }

result<std::vector<core_health>> sim_driver::read_health() {
  apply_due_faults();
  std::vector<core_health> health = jobs_->health();
  const sim::sim_time now = board_.clock().now();
  for (core_health& core : health) {
    if (core.state != health_state::ok) continue;
    const auto limit = faults_.clock_limit_mhz(core.sub_device, now);
    const double slowdown = faults_.slowdown(core.sub_device, now);
    if (limit && *limit < board_.applied_settings().cores[core.sub_device].clock_mhz) {
      core.state = health_state::degraded;
      core.reason = "thermal throttle: clock limited to " + std::to_string(*limit) + " MHz";
    }
    if (slowdown > 1.0) {
      core.state = health_state::degraded;
      if (!core.reason.empty()) core.reason += "; ";
      std::ostringstream text;
      text << "slow core: computing " << slowdown << " times slower";
      core.reason += text.str();
    }
  }
  return health;
}

result<void> sim_driver::inject_fault(const sim::fault& f) {
  apply_due_faults();
  return faults_.add(f, board_.sub_devices(), board_.clock().now());
}

result<void> sim_driver::install_faults(const sim::fault_script& script) {
  apply_due_faults();
  return faults_.install(script, board_.sub_devices(), board_.clock().now());
}

}  // namespace edgert
