// Device names and device specifications: how users point at boards and sub-devices.
//
// A device (one board) is named by any of:
//   dev:X        its index in this process's system (dev:0, dev:1, ...)
//   X            the same index alone
//   KIND-N       its stable board id ("m2-0": the first m2 board), the same in every process
//   KIND         its kind, when the system has exactly one board of that kind
// A device spec selects devices (and sub-devices) for work; items are comma-separated:
//   dev:X        the whole board X
//   dev:X:Y      sub-device Y of board X
//   dev:X:Y-Z    sub-devices Y..Z of board X, fused into one device where the board can fuse
//   KIND(C)*N    N devices of C fused sub-devices each, on boards of that kind; "(C)"
//                defaults to 1 and "*N" to 1
// EDGERT_DEVICES holds the default spec for runners and queues.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace edgert {

struct device_spec_item {
  /// Set for dev:X / X / KIND-N / KIND forms: the board as written (resolve with
  /// resolve_device_name). Empty for the KIND(C)*N form.
  std::string board;
  /// dev:X:Y and dev:X:Y-Z: the first and last sub-device (inclusive).
  std::optional<unsigned> first_sub_device;
  std::optional<unsigned> last_sub_device;
  /// KIND(C)*N form.
  std::string kind;
  unsigned cores = 1;
  unsigned count = 1;

  bool is_kind_request() const noexcept { return board.empty(); }
  /// The explicit sub-devices Y..Z, empty when none were named.
  std::vector<unsigned> sub_devices() const;
};

/// Parses a whole spec; fails with invalid_argument naming the bad item.
result<std::vector<device_spec_item>> parse_device_spec(std::string_view text);

/// What the resolver needs to know of each board, in index order.
struct device_name_entry {
  std::string name;  // "dev:3"
  std::string id;    // "sbc-0"
  std::string kind;  // "sbc"
};

/// Resolves a board name (first list above) to an index into `devices`; fails with
/// invalid_argument listing the known devices when nothing or more than one matches.
result<std::size_t> resolve_device_name(std::string_view text,
                                        const std::vector<device_name_entry>& devices);

}  // namespace edgert
