// The edgert command-line tool: one subcommand per file in this folder, registered here.
#include <CLI/CLI.hpp>

#include <iostream>

#include "edgert/errors.hpp"
#include "edgert/version.hpp"

int main(int argc, char** argv) {
  CLI::App app{"edgert: run inference on edge boards and their simulators"};
  app.set_version_flag("--version", std::string(edgert::version()));
  app.require_subcommand(1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
