// Shared plumbing of the edgert command-line tool: global options, building a Context from
// them, mapping failures to messages and exit codes, and small output helpers.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>

#include "edgert/edgert.hpp"

namespace edgert::cli {

/// Exit codes, stable for scripts.
enum exit_code : int {
  exit_ok = 0,
  exit_error = 1,          // any failure not listed below
  exit_usage = 2,          // bad command line
  exit_device_in_use = 3,  // a lease is held by someone else
  exit_timeout = 4,        // a wait ran out
};

/// Options every subcommand understands.
struct global_options {
  std::string system;
  std::string board_configs;
  std::string runtime_dir;
  ContextOptions context_options() const;
};

/// Runs a command body, turning edgert exceptions into "edgert: <kind>: <message>" on
/// stderr and the matching exit code.
int guarded(const std::function<int()>& body);

void print_json(const nlohmann::json& value);

/// "1.5 GiB", "512 MiB", ...
std::string human_bytes(std::uint64_t bytes);

/// Registration of each subcommand; each stores its exit code into `status` when it runs.
void add_devices_command(CLI::App& app, const global_options& g, int& status);
void add_configure_command(CLI::App& app, const global_options& g, int& status);
void add_config_command(CLI::App& app, const global_options& g, int& status);
void add_connect_command(CLI::App& app, const global_options& g, int& status);
void add_demo_command(CLI::App& app, const global_options& g, int& status);
void add_conformance_command(CLI::App& app, const global_options& g, int& status);
void add_info_command(CLI::App& app, const global_options& g, int& status);
void add_run_command(CLI::App& app, const global_options& g, int& status);
void add_bench_command(CLI::App& app, const global_options& g, int& status);
void add_scenario_command(CLI::App& app, const global_options& g, int& status);

}  // namespace edgert::cli
