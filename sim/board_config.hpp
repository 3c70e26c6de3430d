// board_config: the static description of one simulated board kind, read from a TOML file
// in board_configs/ (one file per kind; the file stem is the kind name, e.g. "m2").
//
// Values are plain data; a board_config is copied freely and never changes after loading.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace edgert::sim {

enum class board_type { pcie, m2, devboard, sbc, host };

std::string_view to_string(board_type t) noexcept;
/// Parses "pcie", "m2", "devboard", "sbc" or "host".
result<board_type> parse_board_type(std::string_view text);

struct board_config {
  // [board]
  std::string kind;            // file stem, e.g. "m2"; used in system and device specs
  std::string product;         // human-readable product line, e.g. "4-core M.2 AI accelerator"
  board_type type = board_type::pcie;
  std::string board_revision;
  std::string firmware_version;
  std::string flashed_firmware_version;
  std::string board_controller_version;
  unsigned sub_devices = 1;    // AI cores / processing elements on the board
  bool fusable = false;        // whether adjacent sub-devices can be fused into one device

  // [compute]
  std::uint64_t macs_per_cycle_per_core = 0;
  std::vector<unsigned> clock_profiles_mhz;  // allowed clock profiles, ascending
  unsigned default_clock_mhz = 0;            // one of clock_profiles_mhz
  unsigned max_core_clock_mhz = 0;           // per-core ceiling (<= largest profile)
  unsigned min_mvm_utilisation_pct = 1;      // per-core MVM utilisation limits, within 1..100
  unsigned max_mvm_utilisation_pct = 100;
  std::chrono::nanoseconds reconfigure_settle_time{0};

  // [memory]
  std::uint64_t device_memory_bytes = 0;
  std::uint64_t core_local_memory_bytes = 0;

  // [dma] and [launch]
  double dma_bandwidth_bytes_per_second = 0;
  std::chrono::nanoseconds dma_latency{0};
  std::chrono::nanoseconds job_launch_cost{0};

  // [source]: where the figures come from, in prose.
  std::string figures_source;
};

/// Parses board-file text. `origin` names the file in error messages ("m2.toml:12:3: ...").
/// `kind` is the kind name the board gets (normally the file stem).
result<board_config> parse_board_config(std::string_view toml_text, const std::string& origin,
                                        const std::string& kind);

/// Reads and parses one board file; the kind is the file stem.
result<board_config> load_board_config(const std::filesystem::path& file);

/// Loads every *.toml in a directory, sorted by kind. Fails on the first bad file.
result<std::vector<board_config>> load_board_configs(const std::filesystem::path& dir);

}  // namespace edgert::sim
