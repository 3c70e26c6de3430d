// The edgert command-line tool. Each subcommand lives in its own file (cmd_*.cpp).
#include <iostream>

#include "cli.hpp"

int main(int argc, char** argv) {
  using namespace edgert::cli;
  CLI::App app{"edgert: run inference on edge boards and their simulators.\n"
               "Devices are named dev:X (or X, a board id like m2-0, or a kind with one board);\n"
               "see docs/device-specs.md for the system and device-spec grammar."};
  app.set_version_flag("--version", std::string(edgert::version()));
  // At most one subcommand; "none" is checked after parsing so that an unknown word is
  // reported as such rather than as a missing subcommand.
  app.require_subcommand(0, 1);
  app.fallthrough();

  global_options g;
  app.add_option("--system", g.system,
                 "simulated boards, e.g. 'm2*2,sbc,host' (default: $EDGERT_SYSTEM, else "
                 "m2,pcie,devboard,sbc,duo,host)");
  app.add_option("--board-configs", g.board_configs,
                 "directory of board files (default: $EDGERT_BOARD_CONFIGS, else the shipped ones)");
  app.add_option("--runtime-dir", g.runtime_dir,
                 "where leases and board state live (default: $EDGERT_RUNTIME_DIR, else "
                 "$XDG_RUNTIME_DIR/edgert, else /tmp/edgert-<uid>)");

  int status = exit_ok;
  add_devices_command(app, g, status);
  add_configure_command(app, g, status);
  add_config_command(app, g, status);
  add_connect_command(app, g, status);
  add_demo_command(app, g, status);
  add_conformance_command(app, g, status);
  add_info_command(app, g, status);
  add_run_command(app, g, status);
  add_bench_command(app, g, status);
  add_scenario_command(app, g, status);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? exit_ok : exit_usage;
  }
  if (app.get_subcommands().empty()) {
    std::cerr << "A subcommand is required\nRun with --help for more information.\n";
    return exit_usage;
  }
  return status;
}
