// Board files: the shipped ones in board_configs/, and the parser's handling of good and
// bad files.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <string>

#include "sim/board_config.hpp"
#include "support/temp_dir.hpp"

using namespace edgert;
using namespace edgert::sim;

namespace {

// Line numbers matter: the error-position tests below count lines in this text.
const std::string minimal_board =
    "[board]\n"                                // 1
    "product = \"test board\"\n"               // 2
    "type = \"pcie\"\n"                        // 3
    "revision = \"1\"\n"                       // 4
    "firmware = \"1.0\"\n"                     // 5
    "board_controller = \"1.0\"\n"             // 6
    "sub_devices = 2\n"                        // 7
    "\n"                                       // 8
    "[compute]\n"                              // 9
    "macs_per_cycle_per_core = 1024\n"         // 10
    "clock_profiles_mhz = [400, 800]\n"        // 11
    "default_clock_mhz = 800\n"                // 12
    "\n"                                       // 13
    "[memory]\n"                               // 14
    "device_mib = 256\n"                       // 15
    "\n"                                       // 16
    "[dma]\n"                                  // 17
    "bandwidth_gb_per_s = 4\n";                // 18

// The minimal board with one line replaced (the line must exist).
std::string with_line(const std::string& old_line, const std::string& new_line) {
  std::string text = minimal_board;
  const auto at = text.find(old_line + "\n");
  REQUIRE(at != std::string::npos);
  text.replace(at, old_line.size(), new_line);
  return text;
}

result<board_config> parse(const std::string& text) {
  return parse_board_config(text, "test.toml", "test");
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

const board_config& find_kind(const std::vector<board_config>& configs, const std::string& kind) {
  auto it = std::find_if(configs.begin(), configs.end(),
                         [&](const board_config& c) { return c.kind == kind; });
  REQUIRE(it != configs.end());
  return *it;
}

// Peak INT8 throughput in TOPS at a clock, from TOPS = 2 x MACs/cycle x cores x clock.
double tops_at(const board_config& c, unsigned mhz) {
  return 2.0 * static_cast<double>(c.macs_per_cycle_per_core) * c.sub_devices * mhz * 1e6 / 1e12;
}

}  // namespace

SCENARIO("every shipped board file loads and they come sorted by kind") {
  GIVEN("the board_configs folder of the source tree") {
    WHEN("all board files are loaded") {
      auto configs = load_board_configs(test::board_config_dir());
      THEN("the five kinds are there in kind order") {
        REQUIRE(configs.ok());
        std::vector<std::string> kinds;
        for (const auto& c : *configs) kinds.push_back(c.kind);
        CHECK(kinds == std::vector<std::string>{"devboard", "duo", "m2", "pcie", "sbc"});
      }
    }
  }
}

SCENARIO("every shipped board file has sane values") {
  GIVEN("the loaded board files") {
    auto configs = load_board_configs(test::board_config_dir());
    REQUIRE(configs.ok());
    THEN("each one fills every field within its limits") {
      for (const auto& c : *configs) {
        CAPTURE(c.kind);
        CHECK_FALSE(c.product.empty());
        CHECK_FALSE(c.board_revision.empty());
        CHECK_FALSE(c.firmware_version.empty());
        CHECK_FALSE(c.flashed_firmware_version.empty());
        CHECK_FALSE(c.board_controller_version.empty());
        CHECK(c.sub_devices >= 1);
        CHECK(c.macs_per_cycle_per_core > 0);
        REQUIRE_FALSE(c.clock_profiles_mhz.empty());
        CHECK(std::is_sorted(c.clock_profiles_mhz.begin(), c.clock_profiles_mhz.end()));
        CHECK(std::count(c.clock_profiles_mhz.begin(), c.clock_profiles_mhz.end(),
                         c.default_clock_mhz) == 1);
        CHECK(c.max_core_clock_mhz >= c.default_clock_mhz);
        CHECK(c.max_core_clock_mhz <= c.clock_profiles_mhz.back());
        CHECK(c.min_mvm_utilisation_pct >= 1);
        CHECK(c.min_mvm_utilisation_pct <= c.max_mvm_utilisation_pct);
        CHECK(c.max_mvm_utilisation_pct <= 100);
        CHECK(c.reconfigure_settle_time > std::chrono::nanoseconds::zero());
        CHECK(c.device_memory_bytes >= (std::uint64_t{256} << 20));
        CHECK(c.core_local_memory_bytes > 0);
        CHECK(c.dma_bandwidth_bytes_per_second > 1e9);
        CHECK(c.dma_latency > std::chrono::nanoseconds::zero());
        CHECK(c.job_launch_cost > std::chrono::nanoseconds::zero());
        CHECK(c.figures_source.find("Assumed") != std::string::npos);
      }
    }
  }
}

SCENARIO("the shipped boards have the shapes their kinds promise") {
  GIVEN("the loaded board files") {
    auto configs = load_board_configs(test::board_config_dir());
    REQUIRE(configs.ok());
    THEN("core counts types and fusability match each kind") {
      CHECK(find_kind(*configs, "m2").sub_devices == 4);
      CHECK(find_kind(*configs, "m2").type == board_type::m2);
      CHECK(find_kind(*configs, "pcie").sub_devices == 4);
      CHECK(find_kind(*configs, "pcie").type == board_type::pcie);
      CHECK(find_kind(*configs, "devboard").sub_devices == 3);
      CHECK(find_kind(*configs, "devboard").type == board_type::devboard);
      CHECK(find_kind(*configs, "sbc").sub_devices == 1);
      CHECK(find_kind(*configs, "sbc").type == board_type::sbc);
      CHECK(find_kind(*configs, "duo").sub_devices == 2);
      CHECK(find_kind(*configs, "duo").fusable);
      CHECK_FALSE(find_kind(*configs, "m2").fusable);
    }
  }
}

SCENARIO("the derived MAC rates reproduce the public throughput figures") {
  GIVEN("the loaded board files") {
    auto configs = load_board_configs(test::board_config_dir());
    REQUIRE(configs.ok());
    THEN("peak TOPS at the rated clock is within two percent of the public figure") {
      CHECK(tops_at(find_kind(*configs, "m2"), 800) == doctest::Approx(214).epsilon(0.02));
      CHECK(tops_at(find_kind(*configs, "pcie"), 800) == doctest::Approx(214).epsilon(0.02));
      CHECK(tops_at(find_kind(*configs, "devboard"), 1000) == doctest::Approx(6).epsilon(0.03));
      CHECK(tops_at(find_kind(*configs, "sbc"), 1000) == doctest::Approx(1).epsilon(0.03));
      CHECK(tops_at(find_kind(*configs, "duo"), 2000) == doctest::Approx(64).epsilon(0.02));
    }
  }
}

SCENARIO("a minimal board file gets the documented defaults") {
  GIVEN("a file with only the required keys") {
    WHEN("it is parsed") {
      auto c = parse(minimal_board);
      THEN("the required values are read and the optional ones take their defaults") {
        REQUIRE(c.ok());
        CHECK(c->kind == "test");
        CHECK(c->product == "test board");
        CHECK(c->type == board_type::pcie);
        CHECK(c->flashed_firmware_version == "1.0");
        CHECK(c->sub_devices == 2);
        CHECK_FALSE(c->fusable);
        CHECK(c->clock_profiles_mhz == std::vector<unsigned>{400, 800});
        CHECK(c->default_clock_mhz == 800);
        CHECK(c->max_core_clock_mhz == 800);
        CHECK(c->min_mvm_utilisation_pct == 1);
        CHECK(c->max_mvm_utilisation_pct == 100);
        CHECK(c->reconfigure_settle_time == std::chrono::nanoseconds::zero());
        CHECK(c->device_memory_bytes == (std::uint64_t{256} << 20));
        CHECK(c->core_local_memory_bytes == 0);
        CHECK(c->dma_bandwidth_bytes_per_second == doctest::Approx(4e9));
        CHECK(c->dma_latency == std::chrono::nanoseconds::zero());
        CHECK(c->job_launch_cost == std::chrono::nanoseconds::zero());
        CHECK(c->figures_source.empty());
      }
    }
  }
}

SCENARIO("units in a board file are converted to bytes and nanoseconds") {
  GIVEN("a file setting every optional key") {
    std::string text = with_line("sub_devices = 2", "sub_devices = 2\nfusable = true\n"
                                                    "flashed_firmware = \"0.9\"");
    text += "latency_us = 2.5\n"
            "[launch]\njob_cost_us = 40\n"
            "[source]\nnotes = \"made up\"\n";
    text = text.replace(text.find("device_mib = 256"), 16, "device_mib = 256\ncore_local_kib = 64");
    text = text.replace(text.find("default_clock_mhz = 800"), 23,
                        "default_clock_mhz = 400\nmax_core_clock_mhz = 400\n"
                        "min_mvm_utilisation_pct = 10\nmax_mvm_utilisation_pct = 90\n"
                        "reconfigure_settle_ms = 1.5");
    WHEN("it is parsed") {
      auto c = parse(text);
      THEN("each value lands in its field in base units") {
        REQUIRE(c.ok());
        CHECK(c->fusable);
        CHECK(c->flashed_firmware_version == "0.9");
        CHECK(c->default_clock_mhz == 400);
        CHECK(c->max_core_clock_mhz == 400);
        CHECK(c->min_mvm_utilisation_pct == 10);
        CHECK(c->max_mvm_utilisation_pct == 90);
        CHECK(c->reconfigure_settle_time == std::chrono::microseconds(1500));
        CHECK(c->core_local_memory_bytes == 64 * 1024);
        CHECK(c->dma_latency == std::chrono::nanoseconds(2500));
        CHECK(c->job_launch_cost == std::chrono::microseconds(40));
        CHECK(c->figures_source == "made up");
      }
    }
  }
}

SCENARIO("a TOML syntax error names the file line and column") {
  GIVEN("a file with an unterminated string on line 2") {
    const auto text = with_line("product = \"test board\"", "product = \"test board");
    WHEN("it is parsed") {
      auto c = parse(text);
      THEN("it fails as an invalid configuration at test.toml line 2") {
        REQUIRE_FALSE(c.ok());
        CHECK(c.code() == errc::invalid_configuration);
        CHECK(c.error().message.rfind("test.toml:2:", 0) == 0);
      }
    }
  }
}

SCENARIO("a missing key is reported at its table") {
  GIVEN("a file whose compute table lacks default_clock_mhz") {
    const auto text = with_line("default_clock_mhz = 800", "");
    WHEN("it is parsed") {
      auto c = parse(text);
      THEN("the error points at the compute table header and names the key") {
        REQUIRE_FALSE(c.ok());
        CHECK(c.code() == errc::invalid_configuration);
        CHECK(c.error().message ==
              "test.toml:9:1: [compute] is missing required key 'default_clock_mhz'");
      }
    }
  }
}

SCENARIO("a missing table is reported at the start of the file") {
  GIVEN("a file without a dma table") {
    std::string text = minimal_board.substr(0, minimal_board.find("[dma]"));
    WHEN("it is parsed") {
      auto c = parse(text);
      THEN("the error names the table") {
        REQUIRE_FALSE(c.ok());
        CHECK(c.error().message == "test.toml:1:1: missing table [dma]");
      }
    }
  }
}

SCENARIO("a misspelt key is rejected") {
  GIVEN("a file with prodcut instead of product") {
    const auto text = with_line("product = \"test board\"",
                                "product = \"test board\"\nprodcut = \"typo\"");
    WHEN("it is parsed") {
      auto c = parse(text);
      THEN("the error points at the unknown key and lists the valid ones") {
        REQUIRE_FALSE(c.ok());
        CHECK(c.code() == errc::invalid_configuration);
        const auto& message = c.error().message;
        CHECK(message.rfind("test.toml:3:1: unknown key 'prodcut' in [board]; valid keys: ", 0) ==
              0);
        CHECK(message.find("product") != std::string::npos);
      }
    }
  }
}

SCENARIO("an unknown table is rejected") {
  GIVEN("a file with a thermal table") {
    const std::string text = minimal_board + "[thermal]\nlimit_c = 90\n";
    WHEN("it is parsed") {
      auto c = parse(text);
      THEN("the error points at the table header") {
        REQUIRE_FALSE(c.ok());
        CHECK(c.error().message.rfind("test.toml:19:2: unknown table or key 'thermal'", 0) == 0);
      }
    }
  }
}

SCENARIO("a default clock outside the allowed profiles is rejected") {
  GIVEN("a file whose default clock is 900 MHz with profiles 400 and 800") {
    const auto text = with_line("default_clock_mhz = 800", "default_clock_mhz = 900");
    WHEN("it is parsed") {
      auto c = parse(text);
      THEN("the error points at the value and lists the profiles") {
        REQUIRE_FALSE(c.ok());
        CHECK(c.error().message ==
              "test.toml:12:21: compute.default_clock_mhz = 900 is not one of "
              "compute.clock_profiles_mhz [400, 800]");
      }
    }
  }
}

SCENARIO("a value of the wrong type is rejected") {
  GIVEN("a file whose sub_devices is a string") {
    const auto text = with_line("sub_devices = 2", "sub_devices = \"two\"");
    WHEN("it is parsed") {
      auto c = parse(text);
      THEN("the error points at the value and names both types") {
        REQUIRE_FALSE(c.ok());
        CHECK(c.error().message ==
              "test.toml:7:15: board.sub_devices must be an integer, not a string");
      }
    }
  }
}

SCENARIO("a float where an integer belongs is rejected") {
  GIVEN("a file whose default clock is 800.0") {
    const auto text = with_line("default_clock_mhz = 800", "default_clock_mhz = 800.0");
    WHEN("it is parsed") {
      auto c = parse(text);
      THEN("it fails naming the key") {
        REQUIRE_FALSE(c.ok());
        CHECK(c.error().message.find("compute.default_clock_mhz must be an integer") !=
              std::string::npos);
      }
    }
  }
}

SCENARIO("zero sub-devices is rejected") {
  GIVEN("a file with sub_devices = 0") {
    const auto text = with_line("sub_devices = 2", "sub_devices = 0");
    WHEN("it is parsed") {
      auto c = parse(text);
      THEN("the error gives the allowed range") {
        REQUIRE_FALSE(c.ok());
        CHECK(c.error().message == "test.toml:7:15: board.sub_devices = 0 is out of range (1 to 64)");
      }
    }
  }
}

SCENARIO("an unknown board type is rejected") {
  GIVEN("a file with type usb") {
    const auto text = with_line("type = \"pcie\"", "type = \"usb\"");
    WHEN("it is parsed") {
      auto c = parse(text);
      THEN("the error points at the value and lists the types") {
        REQUIRE_FALSE(c.ok());
        CHECK(c.error().message.rfind("test.toml:3:8: board.type: unknown board type 'usb'", 0) ==
              0);
        CHECK(c.error().message.find("devboard") != std::string::npos);
      }
    }
  }
}

SCENARIO("a per-core clock ceiling above the largest profile is rejected") {
  GIVEN("a file with max_core_clock_mhz = 1000 and profiles up to 800") {
    const auto text = with_line("default_clock_mhz = 800",
                                "default_clock_mhz = 800\nmax_core_clock_mhz = 1000");
    WHEN("it is parsed") {
      auto c = parse(text);
      THEN("it fails naming the largest profile") {
        REQUIRE_FALSE(c.ok());
        CHECK(c.error().message == "test.toml:13:22: compute.max_core_clock_mhz = 1000 is above "
                                   "the largest clock profile (800)");
      }
    }
  }
}

SCENARIO("utilisation limits outside 1 to 100 are rejected") {
  GIVEN("a file with max_mvm_utilisation_pct = 101") {
    const auto text = with_line("default_clock_mhz = 800",
                                "default_clock_mhz = 800\nmax_mvm_utilisation_pct = 101");
    WHEN("it is parsed") {
      auto c = parse(text);
      THEN("the error gives the range") {
        REQUIRE_FALSE(c.ok());
        CHECK(c.error().message ==
              "test.toml:13:27: compute.max_mvm_utilisation_pct = 101 is out of range (1 to 100)");
      }
    }
  }
}

SCENARIO("a minimum utilisation above the maximum is rejected") {
  GIVEN("a file with min 60 and max 50") {
    const auto text = with_line("default_clock_mhz = 800",
                                "default_clock_mhz = 800\nmin_mvm_utilisation_pct = 60\n"
                                "max_mvm_utilisation_pct = 50");
    WHEN("it is parsed") {
      auto c = parse(text);
      THEN("it fails at the minimum") {
        REQUIRE_FALSE(c.ok());
        CHECK(c.error().message.rfind("test.toml:13:27: compute.min_mvm_utilisation_pct = 60 is "
                                      "above",
                                      0) == 0);
      }
    }
  }
}

SCENARIO("clock profiles out of order are rejected") {
  GIVEN("a file with profiles 800 then 400") {
    const auto text = with_line("clock_profiles_mhz = [400, 800]", "clock_profiles_mhz = [800, 400]");
    WHEN("it is parsed") {
      auto c = parse(text);
      THEN("the error points at the offending element") {
        REQUIRE_FALSE(c.ok());
        CHECK(c.error().message.rfind("test.toml:11:28: compute.clock_profiles_mhz must be "
                                      "strictly ascending",
                                      0) == 0);
      }
    }
  }
}

SCENARIO("a fusable board needs at least two sub-devices") {
  GIVEN("a single-core file marked fusable") {
    const auto text = with_line("sub_devices = 2", "sub_devices = 1\nfusable = true");
    WHEN("it is parsed") {
      auto c = parse(text);
      THEN("it fails at the fusable key") {
        REQUIRE_FALSE(c.ok());
        CHECK(c.error().message.rfind("test.toml:8:11: board.fusable = true needs at least 2", 0) ==
              0);
      }
    }
  }
}

SCENARIO("a zero DMA bandwidth is rejected") {
  GIVEN("a file with bandwidth_gb_per_s = 0") {
    const auto text = with_line("bandwidth_gb_per_s = 4", "bandwidth_gb_per_s = 0");
    WHEN("it is parsed") {
      auto c = parse(text);
      THEN("it fails naming the key") {
        REQUIRE_FALSE(c.ok());
        CHECK(c.error().message ==
              "test.toml:18:22: dma.bandwidth_gb_per_s must be greater than 0");
      }
    }
  }
}

SCENARIO("a kind that a system spec could not name is rejected") {
  GIVEN("a kind with a space in it") {
    WHEN("a good file is parsed under that kind") {
      auto c = parse_board_config(minimal_board, "my board.toml", "my board");
      THEN("it fails as an invalid configuration naming the kind") {
        REQUIRE_FALSE(c.ok());
        CHECK(c.code() == errc::invalid_configuration);
        CHECK(c.error().message.find("'my board'") != std::string::npos);
      }
    }
  }
}

SCENARIO("a board file on disk takes its kind from the file stem") {
  GIVEN("a minimal board written as tiny.toml") {
    test::temp_dir dir;
    write_file(dir.path() / "tiny.toml", minimal_board);
    WHEN("the file is loaded") {
      auto c = load_board_config(dir.path() / "tiny.toml");
      THEN("its kind is tiny") {
        REQUIRE(c.ok());
        CHECK(c->kind == "tiny");
      }
    }
  }
}

SCENARIO("errors in a file on disk name the file path") {
  GIVEN("a board file with a syntax error on line 2") {
    test::temp_dir dir;
    const auto file = dir.path() / "broken.toml";
    write_file(file, with_line("product = \"test board\"", "product = = 1"));
    WHEN("the file is loaded") {
      auto c = load_board_config(file);
      THEN("the message starts with the path and line") {
        REQUIRE_FALSE(c.ok());
        CHECK(c.code() == errc::invalid_configuration);
        CHECK(c.error().message.rfind(file.string() + ":2:", 0) == 0);
      }
    }
  }
}

SCENARIO("a missing board file is an I/O error") {
  GIVEN("a path where no file exists") {
    test::temp_dir dir;
    const auto file = dir.path() / "absent.toml";
    WHEN("it is loaded") {
      auto c = load_board_config(file);
      THEN("it fails with io_error naming the path") {
        REQUIRE_FALSE(c.ok());
        CHECK(c.code() == errc::io_error);
        CHECK(c.error().message.find(file.string()) != std::string::npos);
      }
    }
  }
}

SCENARIO("a missing board directory is an I/O error") {
  GIVEN("a directory path that does not exist") {
    test::temp_dir dir;
    const auto missing = dir.path() / "no-such-dir";
    WHEN("the board files in it are loaded") {
      auto configs = load_board_configs(missing);
      THEN("it fails with io_error naming the directory") {
        REQUIRE_FALSE(configs.ok());
        CHECK(configs.code() == errc::io_error);
        CHECK(configs.error().message.find(missing.string()) != std::string::npos);
      }
    }
  }
}

SCENARIO("loading a directory reads only toml files sorted by kind") {
  GIVEN("a directory with two board files and a readme") {
    test::temp_dir dir;
    write_file(dir.path() / "zeta.toml", minimal_board);
    write_file(dir.path() / "alpha.toml", minimal_board);
    write_file(dir.path() / "README.md", "not a board");
    WHEN("the directory is loaded") {
      auto configs = load_board_configs(dir.path());
      THEN("both boards come back in kind order") {
        REQUIRE(configs.ok());
        REQUIRE(configs->size() == 2);
        CHECK((*configs)[0].kind == "alpha");
        CHECK((*configs)[1].kind == "zeta");
      }
    }
  }
}

SCENARIO("loading a directory fails on a bad file") {
  GIVEN("a directory with a good file and a file with an unknown key") {
    test::temp_dir dir;
    write_file(dir.path() / "good.toml", minimal_board);
    write_file(dir.path() / "bad.toml", minimal_board + "colour = \"red\"\n");
    WHEN("the directory is loaded") {
      auto configs = load_board_configs(dir.path());
      THEN("the error is the bad file's") {
        REQUIRE_FALSE(configs.ok());
        CHECK(configs.code() == errc::invalid_configuration);
        CHECK(configs.error().message.find("bad.toml:19:1: unknown key 'colour'") !=
              std::string::npos);
      }
    }
  }
}

SCENARIO("board types convert to and from text") {
  GIVEN("every board type") {
    THEN("parsing its name gives it back") {
      for (board_type t : {board_type::pcie, board_type::m2, board_type::devboard, board_type::sbc,
                           board_type::host}) {
        auto parsed = parse_board_type(to_string(t));
        REQUIRE(parsed.ok());
        CHECK(*parsed == t);
      }
    }
  }
}

SCENARIO("an unknown board type name fails to parse") {
  GIVEN("the name usb") {
    WHEN("it is parsed as a board type") {
      auto parsed = parse_board_type("usb");
      THEN("it fails as an invalid configuration") {
        REQUIRE_FALSE(parsed.ok());
        CHECK(parsed.code() == errc::invalid_configuration);
        CHECK(parsed.error().message.find("'usb'") != std::string::npos);
      }
    }
  }
}
