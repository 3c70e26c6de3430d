// How a Context turns its options (and the environment) into boards and an actor system
// configuration. Each function documents which option or variable wins.
#pragma once

#include <caf/actor_system_config.hpp>

#include <filesystem>
#include <memory>
#include <vector>

#include "drivers/driver.hpp"
#include "edgert/context.hpp"

namespace edgert {

/// options.system, else $EDGERT_SYSTEM, else the default system.
std::string resolve_system_spec(const ContextOptions& options);

/// options.board_config_dir, else $EDGERT_BOARD_CONFIGS, else share/edgert/board_configs
/// beside the running binary's bin/ folder, else the build tree's copy.
std::filesystem::path resolve_board_config_dir(const ContextOptions& options);

/// Loads the board files and builds one driver per board of the system spec, with leases
/// and shared board state under the runtime directory. Throws on any problem.
std::vector<std::shared_ptr<driver>> build_drivers(const ContextOptions& options);
/// The same with every simulated board on `clock` when it is given (virtual_time pacing,
/// no shared state files: ContextOptions::virtual_time).
std::vector<std::shared_ptr<driver>> build_drivers(const ContextOptions& options,
                                                   std::shared_ptr<sim::virtual_clock> clock);

/// An actor system configuration with the scheduler options applied (environment first).
/// Throws InvalidArgument for an unknown policy.
std::unique_ptr<caf::actor_system_config> make_actor_system_config(const SchedulerOptions& options);

}  // namespace edgert
