// board_state_file: a simulated board's settings kept in a file, so every process on the
// machine sees one board state as it would with real hardware (see sim_driver).
//
// The file holds a sim::board_snapshot as "key=value" lines. Writers replace it atomically
// (a temporary file renamed over it) while holding an exclusive flock on a separate
// "<file>.lock", and give every new version a strictly later mtime, so a reader can tell
// versions apart by the mtime in nanoseconds alone: one stat() per check, no read.
//
// Thread-safety: the functions keep no state; a board_state_lock belongs to one caller.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "sim/board.hpp"

namespace edgert {

/// The snapshot as file text, and back. Parsing yields nothing for malformed text.
std::string format_board_snapshot(const sim::board_snapshot& snapshot);
std::optional<sim::board_snapshot> parse_board_snapshot(std::string_view text);

/// The version stamp of a state file: its mtime in nanoseconds, or -1 when it does not
/// exist. Costs a single stat() and never allocates.
std::int64_t board_state_stamp(const std::filesystem::path& file) noexcept;

/// Reads a state file. `stamp` receives the stamp of the version that was read (-1 when
/// the file is missing); the result is empty when the file is missing or malformed.
std::optional<sim::board_snapshot> read_board_state(const std::filesystem::path& file,
                                                    std::int64_t& stamp);

/// Replaces a state file atomically and returns the stamp of the new version, which is
/// later than the stamp of the version it replaces. The caller holds a board_state_lock.
result<std::int64_t> write_board_state(const std::filesystem::path& file,
                                       const sim::board_snapshot& snapshot);

/// An exclusive advisory lock (flock) on "<file>.lock", held for one read-modify-write of
/// a state file and released on destruction.
class board_state_lock {
 public:
  static result<board_state_lock> take(const std::filesystem::path& file);
  board_state_lock(board_state_lock&& other) noexcept;
  board_state_lock& operator=(board_state_lock&& other) noexcept;
  board_state_lock(const board_state_lock&) = delete;
  board_state_lock& operator=(const board_state_lock&) = delete;
  ~board_state_lock();

 private:
  explicit board_state_lock(int fd) noexcept : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace edgert
