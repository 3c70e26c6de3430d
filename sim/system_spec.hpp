// system_spec: which simulated boards a process sees, and how many.
//
// Grammar (whitespace ignored):
//   system  := entry ("," entry)*
//   entry   := kind [ "(" cores ")" ] [ "*" count ]
//   kind    := a board kind from board_configs/ (the file stem), or "host"
// "(cores)" restricts each board to its first `cores` sub-devices (a cut-down part);
// "*count" repeats the board. Boards are numbered dev:0, dev:1, ... in order.
// Example: "m2*2,sbc,duo(1)" gives dev:0 and dev:1 (4-core M.2 cards), dev:2 (an SBC)
// and dev:3 (a duo card with one processing element enabled).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace edgert::sim {

/// Used when neither the API, the CLI (--system) nor EDGERT_SYSTEM names a system.
inline constexpr std::string_view default_system = "m2,pcie,devboard,sbc,duo,host";

struct system_entry {
  std::string kind;
  std::optional<unsigned> cores;
  unsigned count = 1;
};

/// Parses the grammar above; fails with invalid_argument, naming the offending text.
result<std::vector<system_entry>> parse_system_spec(std::string_view text);

}  // namespace edgert::sim
