// End-to-end tests of the edgert command-line tool: every test runs the real binary as a
// child process (tests/support/process.hpp) and checks its exit code, stdout and stderr.
// Each test has its own runtime directory, so leases and board state never leak between
// tests that ctest runs in parallel, and passes the source tree's board files explicitly.
// Cross-process tests run a second edgert in the background and bound every wait on it.
#include <doctest/doctest.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "edgert/version.hpp"
#include "support/process.hpp"
#include "support/scenario.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace edgert::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

// How long any one edgert run may take before the test kills it: far above the ~30 ms a
// run takes, so only a hang trips it.
constexpr auto run_limit = 20s;
// How long a background edgert gets to print a line it is expected to print.
constexpr auto line_limit = 10s;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// For failure messages: how a run ended and everything it printed.
std::string shown(const process_result& r) {
  std::ostringstream text;
  text << "exit " << r.exit_code << (r.timed_out ? " (timed out, killed)" : "")
       << "\n--- stdout ---\n"
       << r.out << "--- stderr ---\n"
       << r.err;
  return text.str();
}

json parsed(const std::string& text) {
  auto value = json::parse(text, nullptr, false);
  REQUIRE_MESSAGE(!value.is_discarded(), "not JSON:\n" << text);
  return value;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Index of the first line containing `part` at or after `from`, or -1.
int line_index(const std::vector<std::string>& lines, const std::string& part, int from = 0) {
  for (int i = from; i < static_cast<int>(lines.size()); ++i)
    if (contains(lines[static_cast<std::size_t>(i)], part)) return i;
  return -1;
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  REQUIRE(out.good());
}

// One test's private edgert world: a runtime directory and the source tree's board files.
struct cli_fixture {
  temp_dir runtime;

  std::vector<std::string> with_globals(const std::vector<std::string>& args) const {
    std::vector<std::string> all{"--board-configs", board_config_dir().string(), "--runtime-dir",
                                 runtime.path().string()};
    all.insert(all.end(), args.begin(), args.end());
    return all;
  }

  // edgert with --board-configs and --runtime-dir set to this test's.
  process_result edgert(const std::vector<std::string>& args, const env_vars& env = {}) const {
    return edgert_bare(with_globals(args), env);
  }

  // edgert with exactly `args`.
  static process_result edgert_bare(const std::vector<std::string>& args,
                                    const env_vars& env = {}) {
    auto result = run_process(edgert_binary(), args, env, run_limit);
    REQUIRE_MESSAGE(!result.timed_out, "edgert hung and was killed\n" << shown(result));
    REQUIRE_MESSAGE(result.exit_code >= 0, "edgert did not start\n" << shown(result));
    return result;
  }

  // edgert running in the background, with this test's globals.
  std::unique_ptr<background_process> start(const std::vector<std::string>& args) const {
    auto child = std::make_unique<background_process>(edgert_binary(), with_globals(args));
    REQUIRE_MESSAGE(child->started(), child->start_error());
    return child;
  }

  // `edgert connect DEVICE --hold 30` in the background, once it has printed "connected".
  std::unique_ptr<background_process> holder(const std::string& device) const {
    auto child = start({"connect", device, "--hold", "30"});
    auto line = child->wait_for_line("connected", line_limit);
    REQUIRE_MESSAGE(line.has_value(), "the holder never connected\n" << shown(child->kill_and_wait()));
    return child;
  }

  json devices_json() const {
    auto r = edgert({"devices", "--json"});
    INFO(shown(r));
    REQUIRE(r.exit_code == 0);
    auto value = parsed(r.out);
    REQUIRE(value.contains("devices"));
    REQUIRE(value["devices"].is_array());
    return value["devices"];
  }

  json device_json(const std::string& name) const {
    for (auto& d : devices_json())
      if (d.at("name") == name) return d;
    FAIL("no device " << name << " in the listing");
    return {};
  }

  json config_json(const std::string& device) const {
    auto r = edgert({"config", device, "--json"});
    INFO(shown(r));
    REQUIRE(r.exit_code == 0);
    auto value = parsed(r.out);
    REQUIRE(value.contains("configuration"));
    return value["configuration"];
  }

  // Polls `config --json` from new processes until nothing is pending, at most 5 s.
  json settled_config(const std::string& device) const {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (true) {
      auto config = config_json(device);
      if (config.at("pending") == "false") return config;
      REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                      device << " never settled: " << config.dump());
      std::this_thread::sleep_for(20ms);
    }
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------
// Help, version and usage errors

SCENARIO_FIXTURE(cli_fixture, "edgert --help lists every subcommand and the global options") {
  GIVEN("the edgert binary") {
    WHEN("it runs with --help") {
      auto r = edgert_bare({"--help"});
      INFO(shown(r));
      THEN("it exits 0 and describes subcommands and global options") {
        CHECK(r.exit_code == 0);
        for (auto* word : {"devices", "configure", "config", "connect", "demo", "--system",
                           "--board-configs", "--runtime-dir", "EDGERT_SYSTEM",
                           "EDGERT_BOARD_CONFIGS", "EDGERT_RUNTIME_DIR"}) {
          CAPTURE(word);
          CHECK(contains(r.out, word));
        }
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "edgert --version prints the library version") {
  GIVEN("the edgert binary") {
    WHEN("it runs with --version") {
      auto r = edgert_bare({"--version"});
      INFO(shown(r));
      THEN("it exits 0 and prints edgert::version()") {
        CHECK(r.exit_code == 0);
        CHECK(r.out == std::string(edgert::version()) + "\n");
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "devices --help mentions --json") {
  GIVEN("the devices subcommand") {
    WHEN("it runs with --help") {
      auto r = edgert({"devices", "--help"});
      INFO(shown(r));
      THEN("it exits 0 and documents its option") {
        CHECK(r.exit_code == 0);
        CHECK(contains(r.out, "devices"));
        CHECK(contains(r.out, "--json"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "configure --help mentions every configure option") {
  GIVEN("the configure subcommand") {
    WHEN("it runs with --help") {
      auto r = edgert({"configure", "--help"});
      INFO(shown(r));
      THEN("it exits 0 and documents DEVICE and each option") {
        CHECK(r.exit_code == 0);
        for (auto* word : {"DEVICE", "--clock-profile", "--core", "--mvm-utilisation", "--wait",
                           "--json"}) {
          CAPTURE(word);
          CHECK(contains(r.out, word));
        }
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "config --help mentions DEVICE and --json") {
  GIVEN("the config subcommand") {
    WHEN("it runs with --help") {
      auto r = edgert({"config", "--help"});
      INFO(shown(r));
      THEN("it exits 0 and documents its arguments") {
        CHECK(r.exit_code == 0);
        CHECK(contains(r.out, "DEVICE"));
        CHECK(contains(r.out, "--json"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "connect --help mentions every connect option") {
  GIVEN("the connect subcommand") {
    WHEN("it runs with --help") {
      auto r = edgert({"connect", "--help"});
      INFO(shown(r));
      THEN("it exits 0 and documents DEVICE and each option") {
        CHECK(r.exit_code == 0);
        for (auto* word : {"DEVICE", "--sub-devices", "--hold", "--json", "dev:0:1"}) {
          CAPTURE(word);
          CHECK(contains(r.out, word));
        }
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "demo --help describes the tour and runs nothing") {
  GIVEN("the demo subcommand") {
    WHEN("it runs with --help") {
      auto r = edgert({"demo", "--help"});
      INFO(shown(r));
      THEN("it exits 0 with the description and without running the demo") {
        CHECK(r.exit_code == 0);
        CHECK(contains(r.out, "tour"));
        CHECK(contains(r.out, "--help"));
        CHECK_FALSE(contains(r.out, "DeviceInUse"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "edgert without a subcommand is a usage error") {
  GIVEN("no subcommand") {
    WHEN("edgert runs with only global options") {
      auto r = edgert({});
      INFO(shown(r));
      THEN("it exits 2 and says a subcommand is required") {
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "subcommand is required"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "an unknown subcommand is a usage error that names the word") {
  GIVEN("a subcommand edgert does not have") {
    WHEN("edgert runs it") {
      auto r = edgert({"frobnicate"});
      INFO(shown(r));
      THEN("it exits 2 and names the unexpected word on stderr") {
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "frobnicate"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "an unknown option is a usage error that names the option") {
  GIVEN("the devices subcommand") {
    WHEN("it gets an option it does not have") {
      auto r = edgert({"devices", "--bogus"});
      INFO(shown(r));
      THEN("it exits 2 and names the option") {
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "--bogus"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "config configure and connect without DEVICE are usage errors") {
  GIVEN("the subcommands that need a DEVICE") {
    const char* commands[] = {"config", "configure", "connect"};
    WHEN("each runs without one") {
      std::vector<process_result> results;
      for (auto* command : commands) results.push_back(edgert({command}));
      THEN("each exits 2 and says DEVICE is required") {
        for (std::size_t i = 0; i < results.size(); ++i) {
          CAPTURE(commands[i]);
          INFO(shown(results[i]));
          CHECK(results[i].exit_code == 2);
          CHECK(results[i].out.empty());
          CHECK(contains(results[i].err, "DEVICE is required"));
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// devices, systems and board files

SCENARIO_FIXTURE(cli_fixture, "devices prints a table of the default system") {
  GIVEN("the default system") {
    WHEN("devices runs") {
      auto r = edgert({"devices"});
      INFO(shown(r));
      THEN("it exits 0 with a header and one row per board dev:0 to dev:5 with its id") {
        CHECK(r.exit_code == 0);
        CHECK(r.err.empty());
        auto lines = lines_of(r.out);
        REQUIRE(lines.size() == 7);
        CHECK(lines[0].rfind("NAME", 0) == 0);
        CHECK(contains(lines[0], "ID"));
        CHECK(contains(lines[0], "IN USE"));
        const char* ids[] = {"m2-0", "pcie-0", "devboard-0", "sbc-0", "duo-0", "host-0"};
        for (std::size_t i = 0; i < 6; ++i) {
          CAPTURE(i);
          const auto& row = lines[i + 1];
          CHECK(row.rfind("dev:" + std::to_string(i) + " ", 0) == 0);
          CHECK(contains(row, ids[i]));
          CHECK(contains(row, "ready"));
          CHECK(row.back() == '-');  // not in use
        }
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "devices --json lists every device with its fields") {
  GIVEN("the default system") {
    WHEN("devices --json runs") {
      auto devices = devices_json();
      THEN("each device has the documented fields with the right types") {
        REQUIRE(devices.size() == 6);
        for (std::size_t i = 0; i < devices.size(); ++i) {
          const auto& d = devices[i];
          CAPTURE(d.dump());
          CHECK(d.at("name") == "dev:" + std::to_string(i));
          CHECK(d.at("id").is_string());
          CHECK(d.at("board_type").is_string());
          CHECK(d.at("sub_devices").is_number_unsigned());
          CHECK(d.at("in_use") == false);
          CHECK(d.at("in_use_by") == "");
          CHECK(d.at("state") == "ready");
          CHECK(d.at("firmware_version").is_string());
          CHECK_FALSE(d.at("firmware_version").get<std::string>().empty());
          CHECK(d.at("board_revision").is_string());
          CHECK(d.at("max_memory").is_number_unsigned());
          CHECK(d.at("max_memory").get<std::uint64_t>() > 0);
        }
      }
      THEN("the m2 board is dev:0 with its board file's figures") {
        REQUIRE_FALSE(devices.empty());
        const auto& m2 = devices[0];
        CHECK(m2.at("id") == "m2-0");
        CHECK(m2.at("board_type") == "m2");
        CHECK(m2.at("sub_devices") == 4);
        CHECK(m2.at("firmware_version") == "1.4.0");
        CHECK(m2.at("board_revision") == "A2");
        CHECK(m2.at("max_memory") == std::uint64_t{4096} << 20);
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "--system with two m2 boards and an sbc gives three devices") {
  GIVEN("a system of two m2 boards and an sbc") {
    WHEN("devices --json runs with that --system") {
      auto r = edgert({"--system", "m2*2,sbc", "devices", "--json"});
      INFO(shown(r));
      THEN("it lists exactly those three boards in order") {
        REQUIRE(r.exit_code == 0);
        auto devices = parsed(r.out).at("devices");
        REQUIRE(devices.size() == 3);
        CHECK(devices[0].at("name") == "dev:0");
        CHECK(devices[0].at("id") == "m2-0");
        CHECK(devices[1].at("name") == "dev:1");
        CHECK(devices[1].at("id") == "m2-1");
        CHECK(devices[2].at("name") == "dev:2");
        CHECK(devices[2].at("id") == "sbc-0");
        CHECK(devices[2].at("sub_devices") == 1);
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "EDGERT_SYSTEM chooses the system when --system is absent") {
  GIVEN("EDGERT_SYSTEM set to one sbc") {
    env_vars env{{"EDGERT_SYSTEM", "sbc"}};
    WHEN("devices --json runs without --system") {
      auto r = edgert({"devices", "--json"}, env);
      INFO(shown(r));
      THEN("only the sbc is listed") {
        REQUIRE(r.exit_code == 0);
        auto devices = parsed(r.out).at("devices");
        REQUIRE(devices.size() == 1);
        CHECK(devices[0].at("id") == "sbc-0");
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "--system wins over EDGERT_SYSTEM") {
  GIVEN("EDGERT_SYSTEM set to one sbc") {
    env_vars env{{"EDGERT_SYSTEM", "sbc"}};
    WHEN("devices --json runs with --system m2") {
      auto r = edgert({"--system", "m2", "devices", "--json"}, env);
      INFO(shown(r));
      THEN("only the m2 is listed") {
        REQUIRE(r.exit_code == 0);
        auto devices = parsed(r.out).at("devices");
        REQUIRE(devices.size() == 1);
        CHECK(devices[0].at("id") == "m2-0");
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "EDGERT_BOARD_CONFIGS and EDGERT_RUNTIME_DIR stand in for the options") {
  GIVEN("a board folder holding one board kind named tiny") {
    temp_dir boards;
    std::filesystem::copy_file(board_config_dir() / "sbc.toml", boards.path() / "tiny.toml");
    env_vars env{{"EDGERT_BOARD_CONFIGS", boards.path().string()},
                 {"EDGERT_RUNTIME_DIR", runtime.path().string()},
                 {"EDGERT_SYSTEM", "tiny"}};
    WHEN("a configuration is applied with only the environment set") {
      auto r = edgert_bare({"configure", "tiny", "--clock-profile", "400", "--wait"}, env);
      INFO(shown(r));
      REQUIRE(r.exit_code == 0);
      THEN("the board came from that folder and the state went to that runtime dir") {
        auto listing = edgert_bare({"--board-configs", boards.path().string(), "--system", "tiny",
                                    "--runtime-dir", runtime.path().string(), "config", "dev:0",
                                    "--json"});
        INFO(shown(listing));
        REQUIRE(listing.exit_code == 0);
        CHECK(parsed(listing.out).at("configuration").at("clock_profile") == "400");
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "a zero board count in --system is rejected with a clear message") {
  GIVEN("the system spec m2 times 0") {
    WHEN("devices runs with it") {
      auto r = edgert({"--system", "m2*0", "devices"});
      INFO(shown(r));
      THEN("it exits 2 naming the spec and the problem") {
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "invalid_argument"));
        CHECK(contains(r.err, "'m2*0'"));
        CHECK(contains(r.err, "at least 1"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "an unknown board kind in --system is rejected listing the known kinds") {
  GIVEN("the system spec nosuchboard") {
    WHEN("devices runs with it") {
      auto r = edgert({"--system", "nosuchboard", "devices"});
      INFO(shown(r));
      THEN("it exits 2 naming the kind and the kinds that exist") {
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "unknown board kind 'nosuchboard'"));
        CHECK(contains(r.err, "m2"));
        CHECK(contains(r.err, "sbc"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "a board file with a syntax error is reported with its file and line") {
  GIVEN("a board folder whose broken.toml lacks a value on line 4") {
    temp_dir boards;
    write_file(boards.path() / "broken.toml",
               "[board]\nproduct = \"x\"\ntype = \"m2\"\nrevision =\nfirmware = \"1\"\n");
    WHEN("devices runs with that folder") {
      auto r = edgert_bare({"--board-configs", boards.path().string(), "--runtime-dir",
                            runtime.path().string(), "--system", "broken", "devices"});
      INFO(shown(r));
      THEN("it exits 1 and the message names the file and line 4") {
        CHECK(r.exit_code == 1);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "invalid_configuration"));
        CHECK(contains(r.err, (boards.path() / "broken.toml").string() + ":4:"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "a board file with a value out of range is reported with its file and line") {
  GIVEN("a board folder whose big.toml asks for 99 sub-devices on line 7") {
    temp_dir boards;
    write_file(boards.path() / "big.toml",
               "[board]\nproduct = \"x\"\ntype = \"m2\"\nrevision = \"1\"\nfirmware = \"1\"\n"
               "board_controller = \"1\"\nsub_devices = 99\n");
    WHEN("devices runs with that folder") {
      auto r = edgert_bare({"--board-configs", boards.path().string(), "--runtime-dir",
                            runtime.path().string(), "--system", "big", "devices"});
      INFO(shown(r));
      THEN("it exits 1 and the message names the file and line 7 and the key") {
        CHECK(r.exit_code == 1);
        CHECK(r.out.empty());
        CHECK(contains(r.err, (boards.path() / "big.toml").string() + ":7:"));
        CHECK(contains(r.err, "sub_devices"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "a missing board folder is an io_error naming the folder") {
  GIVEN("a --board-configs folder that does not exist") {
    auto missing = (runtime.path() / "no-such-folder").string();
    WHEN("devices runs with it") {
      auto r = edgert_bare({"--board-configs", missing, "--runtime-dir",
                            runtime.path().string(), "devices"});
      INFO(shown(r));
      THEN("it exits 1 naming the folder") {
        CHECK(r.exit_code == 1);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "io_error"));
        CHECK(contains(r.err, missing));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "a runtime dir that is a plain file is an io_error") {
  GIVEN("a --runtime-dir that names a regular file") {
    auto file = runtime.path() / "not-a-dir";
    write_file(file, "x");
    WHEN("devices runs with it") {
      auto r = edgert_bare({"--board-configs", board_config_dir().string(), "--runtime-dir",
                            file.string(), "devices"});
      INFO(shown(r));
      THEN("it exits 1 with an io_error naming the path") {
        CHECK(r.exit_code == 1);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "io_error"));
        CHECK(contains(r.err, file.string()));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// config and configure

SCENARIO_FIXTURE(cli_fixture, "config prints the board defaults as a table") {
  GIVEN("an m2 board that was never configured") {
    WHEN("config dev:0 runs") {
      auto r = edgert({"config", "dev:0"});
      INFO(shown(r));
      THEN("it exits 0 listing the 800 MHz default and nothing pending") {
        CHECK(r.exit_code == 0);
        CHECK(r.err.empty());
        auto lines = lines_of(r.out);
        REQUIRE_FALSE(lines.empty());
        CHECK(lines[0] == "dev:0 configuration:");
        CHECK(line_index(lines, "clock_profile ") >= 0);
        CHECK(contains(lines[static_cast<std::size_t>(
                  std::max(0, line_index(lines, "clock_profile ")))], "800"));
        CHECK(line_index(lines, "mvm_utilisation_core_3") >= 0);
        CHECK(contains(lines.back(), "pending"));
        CHECK(contains(lines.back(), "false"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "config --json gives every setting of the board") {
  GIVEN("an m2 board that was never configured") {
    WHEN("config dev:0 --json runs") {
      auto r = edgert({"config", "dev:0", "--json"});
      INFO(shown(r));
      THEN("the JSON names the device and holds board-wide and per-core settings") {
        REQUIRE(r.exit_code == 0);
        auto value = parsed(r.out);
        CHECK(value.at("device") == "dev:0");
        auto config = value.at("configuration");
        CHECK(config.at("clock_profile") == "800");
        for (int core = 0; core < 4; ++core) {
          CAPTURE(core);
          CHECK(config.at("clock_profile_core_" + std::to_string(core)) == "800");
          CHECK(config.at("mvm_utilisation_core_" + std::to_string(core)) == "100");
        }
        CHECK_FALSE(config.contains("clock_profile_core_4"));
        CHECK(config.at("pending") == "false");
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "config accepts a board id for the device") {
  GIVEN("the default system") {
    WHEN("config runs for sbc-0") {
      auto r = edgert({"config", "sbc-0"});
      INFO(shown(r));
      THEN("it resolves to dev:3") {
        CHECK(r.exit_code == 0);
        CHECK(r.out.rfind("dev:3 configuration:", 0) == 0);
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "config of an unknown device is a usage error") {
  GIVEN("the default system of six devices") {
    WHEN("config dev:9 runs") {
      auto r = edgert({"config", "dev:9"});
      INFO(shown(r));
      THEN("it exits 2 naming the device and the known ones") {
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "unknown device 'dev:9'"));
        CHECK(contains(r.err, "dev:0 (m2-0)"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "configure without --wait reports pending and how to poll") {
  GIVEN("an m2 board with a 250 ms settle time") {
    WHEN("configure dev:0 --clock-profile 400 runs") {
      auto r = edgert({"configure", "dev:0", "--clock-profile", "400"});
      INFO(shown(r));
      THEN("it exits 0 at once printing pending and the hint") {
        CHECK(r.exit_code == 0);
        CHECK(r.err.empty());
        auto lines = lines_of(r.out);
        REQUIRE(lines.size() == 2);
        CHECK(lines[0] == "dev:0: pending");
        CHECK(contains(lines[1], "edgert config dev:0"));
        CHECK(contains(lines[1], "--wait"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "a pending configuration is visible to a new process") {
  GIVEN("configure dev:0 --clock-profile 400 ran without waiting") {
    auto configure = edgert({"configure", "dev:0", "--clock-profile", "400"});
    INFO(shown(configure));
    REQUIRE(configure.exit_code == 0);
    WHEN("a new process runs config dev:0 --json") {
      auto config = config_json("dev:0");
      CAPTURE(config.dump());
      THEN("it sees the change pending on the old clock or already at 400") {
        if (config.at("pending") == "true") {
          CHECK(config.at("clock_profile") == "800");
          CHECK(config.contains("settles_in_ms"));
        } else {
          CHECK(config.at("pending") == "false");
          CHECK(config.at("clock_profile") == "400");
        }
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "a pending configuration settles with no process left running") {
  GIVEN("configure dev:0 --clock-profile 400 ran without waiting and exited") {
    auto configure = edgert({"configure", "dev:0", "--clock-profile", "400"});
    INFO(shown(configure));
    REQUIRE(configure.exit_code == 0);
    WHEN("later processes poll config dev:0") {
      auto config = settled_config("dev:0");
      THEN("it reaches 400 MHz on every core") {
        CHECK(config.at("clock_profile") == "400");
        CHECK(config.at("clock_profile_core_3") == "400");
        CHECK_FALSE(config.contains("settles_in_ms"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "configure --wait prints pending then ready and exits 0") {
  GIVEN("an m2 board with a 250 ms settle time") {
    WHEN("configure dev:0 --clock-profile 400 --wait runs") {
      auto r = edgert({"configure", "dev:0", "--clock-profile", "400", "--wait"});
      INFO(shown(r));
      THEN("stdout has pending and then ready after some milliseconds") {
        CHECK(r.exit_code == 0);
        CHECK(r.err.empty());
        auto lines = lines_of(r.out);
        REQUIRE(lines.size() == 2);
        CHECK(lines[0] == "dev:0: pending");
        CHECK(lines[1].rfind("dev:0: ready after ", 0) == 0);
        CHECK(contains(lines[1], " ms"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "a configuration applied with --wait persists for the next process") {
  GIVEN("configure dev:0 --clock-profile 400 --wait succeeded") {
    auto configure = edgert({"configure", "dev:0", "--clock-profile", "400", "--wait"});
    INFO(shown(configure));
    REQUIRE(configure.exit_code == 0);
    WHEN("a new process runs config dev:0") {
      auto r = edgert({"config", "dev:0"});
      INFO(shown(r));
      THEN("it shows 400 MHz and nothing pending") {
        REQUIRE(r.exit_code == 0);
        auto lines = lines_of(r.out);
        auto clock = line_index(lines, "clock_profile ");
        REQUIRE(clock >= 0);
        CHECK(contains(lines[static_cast<std::size_t>(clock)], "400"));
        CHECK(contains(r.out, "pending                 false"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "configure --json without --wait reports the pending status") {
  GIVEN("an m2 board") {
    WHEN("configure dev:0 --clock-profile 200 --json runs") {
      auto r = edgert({"configure", "dev:0", "--clock-profile", "200", "--json"});
      INFO(shown(r));
      THEN("the JSON says pending and not ready and prints no text lines") {
        REQUIRE(r.exit_code == 0);
        auto value = parsed(r.out);
        CHECK(value.at("device") == "dev:0");
        CHECK(value.at("status") == "pending");
        CHECK(value.at("ready") == false);
        CHECK(value.at("waited_ms") == 0);
        CHECK(value.at("configuration").at("pending") == "true");
        CHECK_FALSE(contains(r.out, "dev:0: pending"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "configure --wait --json reports the settled configuration") {
  GIVEN("a devboard with a 20 ms settle time") {
    WHEN("configure dev:2 --clock-profile 400 --wait --json runs") {
      auto r = edgert({"configure", "dev:2", "--clock-profile", "400", "--wait", "--json"});
      INFO(shown(r));
      THEN("the JSON says ready with the new clock and a plausible wait") {
        REQUIRE(r.exit_code == 0);
        auto value = parsed(r.out);
        CHECK(value.at("device") == "dev:2");
        CHECK(value.at("status") == "pending");
        CHECK(value.at("ready") == true);
        CHECK(value.at("waited_ms").get<long long>() >= 10);
        CHECK(value.at("configuration").at("clock_profile") == "400");
        CHECK(value.at("configuration").at("pending") == "false");
        CHECK_FALSE(contains(r.out, "ready after"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "a --wait shorter than the settle time exits 4") {
  GIVEN("an m2 board with a 250 ms settle time") {
    WHEN("configure dev:0 --clock-profile 400 --wait 0.01 runs") {
      auto r = edgert({"configure", "dev:0", "--clock-profile", "400", "--wait", "0.01"});
      INFO(shown(r));
      THEN("it prints pending and exits 4 with a timeout message") {
        CHECK(r.exit_code == 4);
        CHECK(r.out == "dev:0: pending\n");
        CHECK(contains(r.err, "timeout"));
        CHECK(contains(r.err, "did not settle"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "--core 1 --clock-profile 200 changes only core 1") {
  GIVEN("an m2 board at its 800 MHz default") {
    WHEN("configure dev:0 --core 1 --clock-profile 200 --wait runs") {
      auto r = edgert({"configure", "dev:0", "--core", "1", "--clock-profile", "200", "--wait"});
      INFO(shown(r));
      REQUIRE(r.exit_code == 0);
      THEN("a new process sees core 1 at 200 and everything else at 800") {
        auto config = config_json("dev:0");
        CAPTURE(config.dump());
        CHECK(config.at("clock_profile") == "800");
        CHECK(config.at("clock_profile_core_0") == "800");
        CHECK(config.at("clock_profile_core_1") == "200");
        CHECK(config.at("clock_profile_core_2") == "800");
        CHECK(config.at("clock_profile_core_3") == "800");
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "--mvm-utilisation 50 --core 2 changes only core 2") {
  GIVEN("an m2 board at 100 percent utilisation on every core") {
    WHEN("configure dev:0 --mvm-utilisation 50 --core 2 --wait runs") {
      auto r = edgert({"configure", "dev:0", "--mvm-utilisation", "50", "--core", "2", "--wait"});
      INFO(shown(r));
      REQUIRE(r.exit_code == 0);
      THEN("a new process sees core 2 at 50 and the rest untouched") {
        auto config = config_json("dev:0");
        CAPTURE(config.dump());
        CHECK(config.at("mvm_utilisation_core_0") == "100");
        CHECK(config.at("mvm_utilisation_core_1") == "100");
        CHECK(config.at("mvm_utilisation_core_2") == "50");
        CHECK(config.at("mvm_utilisation_core_3") == "100");
        CHECK(config.at("clock_profile_core_2") == "800");
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "a board-wide clock and a per-core clock combine in one configure") {
  GIVEN("a 3-core devboard at its 800 MHz default") {
    WHEN("configure dev:2 --clock-profile 400 --core 2 --clock-profile 300 --wait runs") {
      auto r = edgert({"configure", "dev:2", "--clock-profile", "400", "--core", "2",
                       "--clock-profile", "300", "--wait"});
      INFO(shown(r));
      REQUIRE(r.exit_code == 0);
      THEN("the board runs at 400 except core 2 at 300") {
        auto config = config_json("dev:2");
        CAPTURE(config.dump());
        CHECK(config.at("clock_profile") == "400");
        CHECK(config.at("clock_profile_core_0") == "400");
        CHECK(config.at("clock_profile_core_1") == "400");
        CHECK(config.at("clock_profile_core_2") == "300");
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "a clock profile the board does not allow exits 1 listing the allowed ones") {
  GIVEN("an m2 board whose profiles are 100 200 400 600 800") {
    WHEN("configure dev:0 --clock-profile 123 runs") {
      auto r = edgert({"configure", "dev:0", "--clock-profile", "123"});
      INFO(shown(r));
      THEN("it exits 1 naming 123 and every allowed profile") {
        CHECK(r.exit_code == 1);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "invalid_configuration"));
        CHECK(contains(r.err, "123"));
        CHECK(contains(r.err, "100, 200, 400, 600, 800"));
      }
      THEN("the configuration is unchanged") {
        auto config = config_json("dev:0");
        CHECK(config.at("clock_profile") == "800");
        CHECK(config.at("pending") == "false");
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "a core out of range exits 1") {
  GIVEN("an m2 board with cores 0 to 3") {
    WHEN("configure dev:0 --core 4 --clock-profile 200 runs") {
      auto r = edgert({"configure", "dev:0", "--core", "4", "--clock-profile", "200"});
      INFO(shown(r));
      THEN("it exits 1 naming the core and the valid range") {
        CHECK(r.exit_code == 1);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "core 4"));
        CHECK(contains(r.err, "out of range"));
        CHECK(contains(r.err, "0-3"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "an mvm utilisation of 0 percent exits 1") {
  GIVEN("an m2 board allowing 1 to 100 percent") {
    WHEN("configure dev:0 --core 1 --mvm-utilisation 0 runs") {
      auto r = edgert({"configure", "dev:0", "--core", "1", "--mvm-utilisation", "0"});
      INFO(shown(r));
      THEN("it exits 1 naming the value and the allowed range") {
        CHECK(r.exit_code == 1);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "0%"));
        CHECK(contains(r.err, "1-100%"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "an mvm utilisation of 101 percent exits 1") {
  GIVEN("an m2 board allowing 1 to 100 percent") {
    WHEN("configure dev:0 --core 1 --mvm-utilisation 101 runs") {
      auto r = edgert({"configure", "dev:0", "--core", "1", "--mvm-utilisation", "101"});
      INFO(shown(r));
      THEN("it exits 1 naming the value and the allowed range") {
        CHECK(r.exit_code == 1);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "101%"));
        CHECK(contains(r.err, "1-100%"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "an mvm utilisation without a core is a usage error") {
  GIVEN("an m2 board") {
    WHEN("configure dev:0 --mvm-utilisation 50 runs with no --core") {
      auto r = edgert({"configure", "dev:0", "--mvm-utilisation", "50"});
      INFO(shown(r));
      THEN("it exits 2 asking for --core") {
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "--core"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "configure of an unknown device is a usage error") {
  GIVEN("the default system of six devices") {
    WHEN("configure dev:9 --clock-profile 400 runs") {
      auto r = edgert({"configure", "dev:9", "--clock-profile", "400"});
      INFO(shown(r));
      THEN("it exits 2 naming the device") {
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "unknown device 'dev:9'"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "configure on the host device of the default system is not implemented") {
  GIVEN("the default system whose dev:5 is the host") {
    WHEN("configure dev:5 --clock-profile 400 runs") {
      auto r = edgert({"configure", "dev:5", "--clock-profile", "400"});
      INFO(shown(r));
      THEN("it exits 1 with not_implemented") {
        CHECK(r.exit_code == 1);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "not_implemented"));
        CHECK(contains(r.err, "host"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "configure on a host-only system is not implemented") {
  GIVEN("--system host") {
    WHEN("configure dev:0 --core 0 --mvm-utilisation 50 runs") {
      auto r = edgert({"--system", "host", "configure", "dev:0", "--core", "0",
                       "--mvm-utilisation", "50"});
      INFO(shown(r));
      THEN("it exits 1 with not_implemented") {
        CHECK(r.exit_code == 1);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "not_implemented"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "configure with nothing to set is a usage error") {
  GIVEN("an m2 board") {
    WHEN("configure dev:0 runs with no setting") {
      auto r = edgert({"configure", "dev:0"});
      INFO(shown(r));
      THEN("it exits 2 saying there is nothing to configure") {
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "nothing to configure"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "a --wait that is not a positive number is a usage error") {
  GIVEN("an m2 board") {
    const char* waits[] = {"abc", "0", "-1"};
    WHEN("configure runs with --wait abc then 0 then -1") {
      std::vector<process_result> results;
      for (auto* seconds : waits)
        results.push_back(edgert({"configure", "dev:0", "--clock-profile", "400", "--wait", seconds}));
      THEN("each exits 2 mentioning --wait and the board is left alone") {
        for (std::size_t i = 0; i < results.size(); ++i) {
          CAPTURE(waits[i]);
          INFO(shown(results[i]));
          CHECK(results[i].exit_code == 2);
          CHECK(results[i].out.empty());
          CHECK(contains(results[i].err, "--wait"));
        }
        CHECK(config_json("dev:0").at("pending") == "false");
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// connect and leases across processes

SCENARIO_FIXTURE(cli_fixture, "connect --hold 0 takes a lease and releases it") {
  GIVEN("a free sbc board") {
    WHEN("connect dev:3 --hold 0 runs") {
      auto r = edgert({"connect", "dev:3", "--hold", "0"});
      INFO(shown(r));
      THEN("it prints connected with its pid then released and exits 0") {
        CHECK(r.exit_code == 0);
        CHECK(r.err.empty());
        auto lines = lines_of(r.out);
        REQUIRE(lines.size() == 2);
        CHECK(lines[0].rfind("connected dev:3 sub-devices 0 (pid ", 0) == 0);
        CHECK(lines[1] == "released dev:3 after --hold");
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "connect --json describes the lease") {
  GIVEN("a free m2 board") {
    WHEN("connect dev:0 --sub-devices 2 --hold 0 --json runs") {
      auto r = edgert({"connect", "dev:0", "--sub-devices", "2", "--hold", "0", "--json"});
      INFO(shown(r));
      THEN("the JSON has the device and two sub-devices and the holder pid and the hold time") {
        REQUIRE(r.exit_code == 0);
        auto value = parsed(r.out);
        CHECK(value.at("device") == "dev:0");
        CHECK(value.at("sub_devices") == json::array({0, 1}));
        CHECK(value.at("holder_pid").get<long>() > 0);
        CHECK(value.at("hold_seconds") == 0.0);
        CHECK_FALSE(contains(r.out, "released"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "connect to a held device exits 3 naming the holder pid") {
  GIVEN("another edgert process holding dev:3") {
    auto holder_process = holder("dev:3");
    auto pid = std::to_string(holder_process->pid());
    THEN("the holder announced its own pid") {
      CHECK(contains(holder_process->output(), "connected dev:3 sub-devices 0 (pid " + pid + ")"));
    }
    WHEN("connect dev:3 --hold 0 runs") {
      auto r = edgert({"connect", "dev:3", "--hold", "0"});
      INFO(shown(r));
      THEN("it exits 3 and stderr names the holder's pid") {
        CHECK(r.exit_code == 3);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "device_in_use"));
        CHECK(contains(r.err, "pid " + pid + " "));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "devices shows a lease held by another process") {
  GIVEN("another edgert process holding dev:3") {
    auto holder_process = holder("dev:3");
    auto pid = std::to_string(holder_process->pid());
    WHEN("devices --json runs") {
      auto devices = devices_json();
      THEN("dev:3 is in use by that pid and the other devices are free") {
        REQUIRE(devices.size() == 6);
        for (auto& d : devices) {
          CAPTURE(d.dump());
          if (d.at("name") == "dev:3") {
            CHECK(d.at("in_use") == true);
            CHECK(contains(d.at("in_use_by").get<std::string>(), "pid " + pid + " "));
            CHECK(d.at("sub_device_holders").at(0) != "");
          } else {
            CHECK(d.at("in_use") == false);
          }
        }
      }
    }
    WHEN("devices runs as a table") {
      auto r = edgert({"devices"});
      INFO(shown(r));
      THEN("the dev:3 row says 1/1 by that pid") {
        REQUIRE(r.exit_code == 0);
        auto lines = lines_of(r.out);
        auto row = line_index(lines, "dev:3 ");
        REQUIRE(row >= 0);
        CHECK(contains(lines[static_cast<std::size_t>(row)], "1/1 by pid " + pid + " "));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "SIGTERM makes a holder release its lease and exit 0") {
  GIVEN("another edgert process holding dev:3") {
    auto holder_process = holder("dev:3");
    WHEN("it gets SIGTERM") {
      REQUIRE(holder_process->signal(SIGTERM));
      auto r = holder_process->wait(run_limit);
      INFO(shown(r));
      THEN("it prints released and exits 0") {
        CHECK(r.exit_code == 0);
        CHECK_FALSE(r.timed_out);
        CHECK(contains(r.out, "released dev:3 on "));
      }
      THEN("the lease is free for the next process") {
        CHECK(device_json("dev:3").at("in_use") == false);
        auto next = edgert({"connect", "dev:3", "--hold", "0"});
        INFO(shown(next));
        CHECK(next.exit_code == 0);
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "SIGINT makes a holder release its lease and exit 0") {
  GIVEN("another edgert process holding dev:0") {
    auto holder_process = holder("dev:0");
    WHEN("it gets SIGINT") {
      REQUIRE(holder_process->signal(SIGINT));
      auto r = holder_process->wait(run_limit);
      INFO(shown(r));
      THEN("it prints released and exits 0 and leaves dev:0 free") {
        CHECK(r.exit_code == 0);
        CHECK(contains(r.out, "released dev:0 on "));
        CHECK(device_json("dev:0").at("in_use") == false);
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "a lease of a SIGKILLed holder is reclaimed") {
  GIVEN("another edgert process holding dev:3") {
    auto holder_process = holder("dev:3");
    WHEN("it is killed with SIGKILL so it cannot release") {
      auto killed = holder_process->kill_and_wait();
      REQUIRE(killed.exit_code == 128 + SIGKILL);
      THEN("the next connect to dev:3 succeeds") {
        auto r = edgert({"connect", "dev:3", "--hold", "0"});
        INFO(shown(r));
        CHECK(r.exit_code == 0);
        CHECK(contains(r.out, "connected dev:3"));
      }
      THEN("devices no longer shows dev:3 in use") {
        CHECK(device_json("dev:3").at("in_use") == false);
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "a holder exits by itself when --hold runs out") {
  GIVEN("connect dev:3 --hold 0.2 in the background") {
    auto child = start({"connect", "dev:3", "--hold", "0.2"});
    WHEN("it is left alone") {
      auto r = child->wait(run_limit);
      INFO(shown(r));
      THEN("it releases after --hold and exits 0") {
        CHECK(r.exit_code == 0);
        CHECK(contains(r.out, "connected dev:3"));
        CHECK(contains(r.out, "released dev:3 after --hold"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "a partly held board still lends its free sub-devices") {
  GIVEN("another edgert process holding dev:0:0-1") {
    auto holder_process = holder("dev:0:0-1");
    CHECK(contains(holder_process->output(), "sub-devices 0,1 "));
    WHEN("connect dev:0 --sub-devices 2 runs") {
      auto r = edgert({"connect", "dev:0", "--sub-devices", "2", "--hold", "0"});
      INFO(shown(r));
      THEN("it gets the other two") {
        CHECK(r.exit_code == 0);
        CHECK(contains(r.out, "connected dev:0 sub-devices 2,3 "));
      }
    }
    WHEN("connect dev:0:1 runs") {
      auto r = edgert({"connect", "dev:0:1", "--hold", "0"});
      INFO(shown(r));
      THEN("it exits 3 naming the holder") {
        CHECK(r.exit_code == 3);
        CHECK(contains(r.err, "pid " + std::to_string(holder_process->pid()) + " "));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "connect to explicit sub-devices dev:0:1-2 leases exactly those") {
  GIVEN("a free m2 board") {
    WHEN("connect dev:0:1-2 --hold 0 runs") {
      auto r = edgert({"connect", "dev:0:1-2", "--hold", "0"});
      INFO(shown(r));
      THEN("it exits 0 holding sub-devices 1 and 2") {
        CHECK(r.exit_code == 0);
        CHECK(contains(r.out, "connected dev:0 sub-devices 1,2 "));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "connect to a sub-device the board lacks is a usage error") {
  GIVEN("an m2 board with sub-devices 0 to 3") {
    WHEN("connect dev:0:7 --hold 0 runs") {
      auto r = edgert({"connect", "dev:0:7", "--hold", "0"});
      INFO(shown(r));
      THEN("it exits 2 naming sub-device 7") {
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "sub-device 7"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "connect asking for more sub-devices than the board has fails") {
  GIVEN("an m2 board with four sub-devices") {
    WHEN("connect dev:0 --sub-devices 5 --hold 0 runs") {
      auto r = edgert({"connect", "dev:0", "--sub-devices", "5", "--hold", "0"});
      INFO(shown(r));
      THEN("it exits 2 saying the board has 4") {
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "5 sub-device(s)"));
        CHECK(contains(r.err, "has 4"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "connect --sub-devices 0 is rejected rather than read as 1") {
  GIVEN("an m2 board") {
    WHEN("connect dev:0 --sub-devices 0 --hold 0 runs") {
      auto r = edgert({"connect", "dev:0", "--sub-devices", "0", "--hold", "0"});
      INFO(shown(r));
      THEN("it exits 2 without connecting") {
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "at least 1"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "connect with a count that contradicts the named sub-devices fails") {
  GIVEN("an m2 board") {
    WHEN("connect dev:0:1-2 --sub-devices 3 --hold 0 runs") {
      auto r = edgert({"connect", "dev:0:1-2", "--sub-devices", "3", "--hold", "0"});
      INFO(shown(r));
      THEN("it exits 2 explaining the mismatch") {
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "names 2 sub-device(s) but 3"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "connect to an unknown device is a usage error") {
  GIVEN("the default system of six devices") {
    WHEN("connect dev:9 --hold 0 runs") {
      auto r = edgert({"connect", "dev:9", "--hold", "0"});
      INFO(shown(r));
      THEN("it exits 2 naming the device") {
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "unknown device 'dev:9'"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "connect with a negative --hold is a usage error") {
  GIVEN("an m2 board") {
    WHEN("connect dev:0 --hold -1 runs") {
      auto r = edgert({"connect", "dev:0", "--hold", "-1"});
      INFO(shown(r));
      THEN("it exits 2 naming --hold") {
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "--hold"));
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// demo

SCENARIO_FIXTURE(cli_fixture, "demo tours configuration and contention and exits 0") {
  GIVEN("the default system") {
    WHEN("demo runs") {
      auto r = edgert({"demo"});
      INFO(shown(r));
      THEN("it shows pending then ready and then a DeviceInUse line") {
        CHECK(r.exit_code == 0);
        CHECK(r.err.empty());
        auto lines = lines_of(r.out);
        CHECK(contains(r.out, "6 devices"));
        auto pending = line_index(lines, "pending");
        REQUIRE(pending >= 0);
        auto ready = line_index(lines, ": ready", pending);
        CHECK(ready > pending);
        auto in_use = line_index(lines, "DeviceInUse:", std::max(ready, 0));
        CHECK(in_use > ready);
        CHECK(contains(r.out, "DeviceInUse: dev:0"));
      }
    }
  }
}

SCENARIO_FIXTURE(cli_fixture, "demo puts the system back as it found it") {
  GIVEN("demo ran to completion") {
    auto r = edgert({"demo"});
    INFO(shown(r));
    REQUIRE(r.exit_code == 0);
    WHEN("a new process looks at the system") {
      auto devices = devices_json();
      auto config = config_json("dev:0");
      THEN("no lease is left and dev:0 is back at 800 MHz with nothing pending") {
        for (auto& d : devices) CHECK(d.at("in_use") == false);
        CHECK(config.at("clock_profile") == "800");
        CHECK(config.at("pending") == "false");
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// The process helper itself: a hung child must never hang a test, and a child writing a
// lot to both pipes must not deadlock against the reader.

SCENARIO("the process helper kills a child that outlives its timeout") {
  GIVEN("a shell that prints a line on each stream and then sleeps for 30 s") {
    WHEN("it runs with a 300 ms timeout") {
      auto start = std::chrono::steady_clock::now();
      auto r = run_process("/bin/sh", {"-c", "echo out; echo err >&2; exec sleep 30"}, {}, 300ms);
      auto took = std::chrono::steady_clock::now() - start;
      INFO(shown(r));
      THEN("it is killed soon after the timeout and what it printed is kept") {
        CHECK(r.timed_out);
        CHECK(r.exit_code == 128 + SIGKILL);
        CHECK(r.out == "out\n");
        CHECK(r.err == "err\n");
        CHECK(took < 5s);
      }
    }
  }
}

SCENARIO("the process helper reads large output on both streams without deadlock") {
  GIVEN("a shell writing 200000 bytes to stdout and then 200000 to stderr") {
    WHEN("it runs to completion") {
      auto r = run_process("/bin/sh",
                           {"-c", "head -c 200000 /dev/zero; head -c 200000 /dev/zero >&2; exit 7"},
                           {}, 10s);
      THEN("every byte arrives and the exit status is kept") {
        CHECK_FALSE(r.timed_out);
        CHECK(r.exit_code == 7);
        CHECK(r.out.size() == 200000);
        CHECK(r.err.size() == 200000);
      }
    }
  }
}

SCENARIO("the process helper passes extra variables and hides the EDGERT_ ones") {
  GIVEN("a shell that prints two variables") {
    WHEN("it runs with EDGERT_SYSTEM in the test's environment and EXTRA given") {
      ::setenv("EDGERT_SYSTEM", "leaked", 1);
      auto r = run_process("/bin/sh", {"-c", "echo \"[$EDGERT_SYSTEM][$EXTRA]\""},
                           {{"EXTRA", "given"}}, 10s);
      ::unsetenv("EDGERT_SYSTEM");
      THEN("the child sees only the given variable") {
        CHECK(r.exit_code == 0);
        CHECK(r.out == "[][given]\n");
      }
    }
  }
}
