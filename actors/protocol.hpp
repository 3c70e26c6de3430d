// The message protocol between edgert's actors: atoms, message types and the typed
// interface of every actor family. A message an actor does not accept is a compile error.
//
// All messages here are small (names, settings, ids). Tensor payloads never travel through
// mailboxes; they move through lock-free rings (see the model-instance actors).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/typed_actor.hpp>

#include "drivers/driver.hpp"
#include "drivers/lease_registry.hpp"

namespace edgert {

// -- atoms (CAF 0.17: at most 10 characters) ----------------------------------------

using info_atom = caf::atom_constant<caf::atom("info")>;
using list_atom = caf::atom_constant<caf::atom("list")>;
using lookup_atom = caf::atom_constant<caf::atom("lookup")>;
using configure_atom = caf::atom_constant<caf::atom("configure")>;
using ready_atom = caf::atom_constant<caf::atom("ready")>;
using wait_atom = caf::atom_constant<caf::atom("wait")>;
using read_config_atom = caf::atom_constant<caf::atom("readconfig")>;
using reserve_atom = caf::atom_constant<caf::atom("reserve")>;
using connect_atom = caf::atom_constant<caf::atom("connect")>;
using release_atom = caf::atom_constant<caf::atom("release")>;
using holders_atom = caf::atom_constant<caf::atom("holders")>;
using reset_atom = caf::atom_constant<caf::atom("reset")>;
using counters_atom = caf::atom_constant<caf::atom("counters")>;
using fault_atom = caf::atom_constant<caf::atom("fault")>;
using state_atom = caf::atom_constant<caf::atom("state")>;
using poll_atom = caf::atom_constant<caf::atom("poll")>;
using assign_atom = caf::atom_constant<caf::atom("assign")>;
using settings_atom = caf::atom_constant<caf::atom("settings")>;
using online_atom = caf::atom_constant<caf::atom("online")>;
using launch_atom = caf::atom_constant<caf::atom("launch")>;
using job_poll_atom = caf::atom_constant<caf::atom("jobpoll")>;
using driver_atom = caf::atom_constant<caf::atom("driver")>;
// The simulator's control (api/sim_control.cpp): fault injection, health, virtual time.
using sim_fault_atom = caf::atom_constant<caf::atom("simfault")>;
using sim_script_atom = caf::atom_constant<caf::atom("simscript")>;
using sim_health_atom = caf::atom_constant<caf::atom("simhealth")>;
using advanced_atom = caf::atom_constant<caf::atom("advanced")>;
// Supervision and recovery: the device actor's recovery, health and execution-unit attach.
using recover_atom = caf::atom_constant<caf::atom("recover")>;
using health_atom = caf::atom_constant<caf::atom("health")>;
using attach_atom = caf::atom_constant<caf::atom("attach")>;

// -- message types ------------------------------------------------------------------

/// Settings as users give them: "clock_profile", "clock_profile_core_N", "mvm_utilisation_core_N".
using settings_map = std::map<std::string, std::int64_t>;
/// Configuration as read back from a device (string keys and values).
using configuration_map = std::map<std::string, std::string>;

/// The device actor's state machine. offline: starting, driver not heard from yet;
/// configuring: a configuration is pending; ready: settled and serving; faulted: the board
/// or its driver failed (reason in device_status::fault); recovering: a reset is under way.
enum class device_state : std::uint8_t { offline, configuring, ready, faulted, recovering };

std::string_view to_string(device_state s) noexcept;


template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease_holder& x) {
  return f(caf::meta::type_name("lease_holder"), x.pid, x.user, x.program, x.since);
}

/// A sub-device as its actor sees it.
struct sub_device_status {
  unsigned index = 0;
  std::uint64_t lease_id = 0;  // 0 when not leased through this process
  unsigned clock_mhz = 0;
  unsigned mvm_utilisation_pct = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sub_device_status& x) {
  return f(caf::meta::type_name("sub_device_status"), x.index, x.lease_id, x.clock_mhz,
           x.mvm_utilisation_pct);
}

/// Everything list_devices() reports about one board.
struct device_status {
  std::string name;  // "dev:0"
  std::string id;    // "m2-0"
  std::string kind;
  std::string product;
  std::string board_type;
  unsigned sub_devices = 0;
  bool fusable = false;
  std::string board_revision;
  std::string firmware_version;
  std::string flashed_firmware_version;
  std::string board_controller_version;
  std::uint64_t max_memory_bytes = 0;
  std::vector<unsigned> clock_profiles_mhz;
  device_state state = device_state::offline;
  std::string fault;                 // why the device is faulted, empty otherwise
  std::vector<std::string> holders;  // per sub-device: holder description, "" when free
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, device_status& x) {
  return f(caf::meta::type_name("device_status"), x.name, x.id, x.kind, x.product,
           x.board_type, x.sub_devices, x.fusable, x.board_revision, x.firmware_version,
           x.flashed_firmware_version, x.board_controller_version, x.max_memory_bytes,
           x.clock_profiles_mhz, x.state, x.fault, x.holders);
}

/// A granted lease: which sub-devices of which device, under which id.
struct lease_grant {
  std::uint64_t lease_id = 0;
  std::string device;
  std::vector<unsigned> sub_devices;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease_grant& x) {
  return f(caf::meta::type_name("lease_grant"), x.lease_id, x.device, x.sub_devices);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, driver_counters& x) {
  return f(caf::meta::type_name("driver_counters"), x.configurations_requested,
           x.configurations_applied, x.resets, x.memory_used_bytes, x.jobs_launched,
           x.jobs_completed, x.jobs_failed);
}

/// The execution watchdog a launcher asks of the driver actor for one job. The deadline is
/// on the board's clock: when the job is due to start (its launch, if it waits behind a
/// hung job) plus the budget.
struct job_watchdog {
  /// The job's budget; zero: automatic, max(factor x modelled device time, floor).
  std::chrono::nanoseconds budget{0};
  std::chrono::nanoseconds floor{std::chrono::seconds(1)};
  unsigned factor = 10;
  /// Who launched the job, for the timeout message (e.g. "mnist on dev:0").
  std::string owner;
};

/// A device's health as its device actor knows it: the state machine, per-core health
/// read from the driver, and the recovery history.
struct device_health_report {
  std::string name;  // "dev:0"
  device_state state = device_state::offline;
  std::string fault;       // why it is faulted, or what it is recovering from; else empty
  std::string last_fault;  // the most recent fault, kept after recovery; empty if none yet
  std::uint64_t recoveries = 0;  // automatic and requested recoveries completed
  std::uint64_t epoch = 0;       // bumped each time the device leaves service (fault, reset)
  std::vector<core_health> cores;  // per sub-device; empty when the driver cannot say
};

// -- typed interfaces -----------------------------------------------------------------

/// Owns one driver object; the only actor that calls it (drivers/driver_actor.cpp).
using driver_actor = caf::typed_actor<
    // Applies settings: true when complete, false when pending.
    caf::replies_to<configure_atom, settings_map>::with<bool>,
    // Polls the board once: true when no configuration is pending.
    caf::replies_to<ready_atom>::with<bool>,
    // Answers true once the pending configuration has settled (polling until then).
    caf::replies_to<wait_atom>::with<bool>,
    caf::replies_to<read_config_atom>::with<configuration_map>,
    // Reserves sub-devices across processes for a holder; answers the lease id.
    caf::replies_to<reserve_atom, std::vector<unsigned>, lease_holder>::with<std::uint64_t>,
    caf::replies_to<release_atom, std::uint64_t>::with<bool>,
    // Per sub-device holder description ("" when free), from the cross-process leases.
    caf::replies_to<holders_atom>::with<std::vector<std::string>>,
    caf::replies_to<reset_atom>::with<bool>,
    caf::replies_to<counters_atom>::with<driver_counters>,
    caf::reacts_to<poll_atom>,
    // Launches a job; answers once it is done or failed (its final status).
    caf::replies_to<launch_atom, job_request>::with<job_status>,
    // Polls one job (its own timer, or the driver's completion notice from a worker).
    caf::reacts_to<job_poll_atom, job_id>,
    // Launches a job under an execution watchdog: a job unfinished at its deadline (board
    // time) is released, answered with timeout, and its sub-devices reported hung to the
    // device actor (recover_atom). Plain launch_atom jobs get the automatic watchdog.
    caf::replies_to<launch_atom, job_request, job_watchdog>::with<job_status>,
    // Simulator control: adds one fault to the board's plan.
    caf::replies_to<sim_fault_atom, sim::fault>::with<bool>,
    // Simulator control: replaces the board's fault plan (an empty script clears it).
    caf::replies_to<sim_script_atom, sim::fault_script>::with<bool>,
    // Simulator control: per sub-device health (driver::read_health()).
    caf::replies_to<sim_health_atom>::with<std::vector<core_health>>,
    // The board's clock moved (virtual time): polls the pending configuration and every
    // job now, and answers the jobs still unfinished and the board time until the next
    // job ends, -1 when none will.
    caf::replies_to<advanced_atom>::with<std::uint64_t, std::int64_t>>;

/// One per core or processing element (actors/sub_device_actor.cpp).
using sub_device_actor = caf::typed_actor<
    caf::replies_to<info_atom>::with<sub_device_status>,
    // Records the lease (0 = none) this sub-device is held under.
    caf::reacts_to<assign_atom, std::uint64_t>,
    // Records the clock (MHz) and MVM utilisation (%) the board applied.
    caf::reacts_to<settings_atom, unsigned, unsigned>>;

/// One per board (actors/device_actor.cpp).
using device_actor = caf::typed_actor<
    caf::replies_to<info_atom>::with<device_status>,
    caf::replies_to<state_atom>::with<device_state>,
    caf::replies_to<configure_atom, settings_map>::with<bool>,
    caf::replies_to<ready_atom>::with<bool>,
    caf::replies_to<wait_atom>::with<bool>,
    caf::replies_to<read_config_atom>::with<configuration_map>,
    // Leases `count` free sub-devices, or exactly `explicit` ones when that list is not empty.
    caf::replies_to<connect_atom, std::vector<unsigned>, unsigned, lease_holder>::with<lease_grant>,
    caf::replies_to<release_atom, std::uint64_t>::with<bool>,
    // Resets the board: faulted or ready -> recovering -> ready.
    caf::replies_to<reset_atom>::with<bool>,
    // Marks the device faulted with a reason (driver failures, the simulator's control).
    caf::reacts_to<fault_atom, std::string>,
    // Answers once the device has left the offline state (true) or faulted (false).
    caf::replies_to<online_atom>::with<bool>,
    caf::replies_to<counters_atom>::with<driver_counters>,
    // The board's driver actor, for the simulator's control (faults, health, virtual time),
    // in any state: a faulted board must stay reachable. Execution units attach instead.
    caf::replies_to<driver_atom>::with<driver_actor>,
    // From the driver actor: the board needs recovery for the reason given; true when it
    // must be reset through the driver (a hung core), false when it reset itself. The
    // device goes faulted, then (recover_atom alone, sent to itself) recovering -> ready,
    // with a bounded number of reset attempts.
    caf::reacts_to<recover_atom, std::string, bool>,
    caf::reacts_to<recover_atom>,
    // The device's health: state, fault, per-core health, recovery history.
    caf::replies_to<health_atom>::with<device_health_report>,
    // For execution units: the driver actor and the device's epoch. While the device is
    // faulted or recovering it waits up to the given time for ready (zero: fails at once
    // with device_fault), then fails with device_fault.
    caf::replies_to<attach_atom, caf::timespan>::with<driver_actor, std::uint64_t>,
    // Internal: the wait of attach waiter `id` ran out.
    caf::reacts_to<attach_atom, std::uint64_t>>;

/// The root actor: device registry and name resolution (actors/runtime_actor.cpp).
using runtime_actor = caf::typed_actor<
    caf::replies_to<list_atom>::with<std::vector<device_status>>,
    // Resolves a device name ("dev:0", "0", board id "m2-0", or a kind with one board)
    // to its actor and canonical name.
    caf::replies_to<lookup_atom, std::string>::with<device_actor, std::string>,
    // Answers once every device has left the offline state.
    caf::replies_to<online_atom>::with<bool>>;

}  // namespace edgert

// Jobs stay inside one process (they carry the host computation as a std::function), so
// they are never serialised.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(edgert::job_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(edgert::job_status)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(edgert::job_watchdog)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(edgert::device_health_report)
// Simulator control messages stay inside one process too.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(edgert::sim::fault)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(edgert::sim::fault_script)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(edgert::core_health)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<edgert::core_health>)
