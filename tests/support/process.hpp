// Running programs as child processes from tests: capture stdout and stderr, bound every
// wait with a hard timeout (the child is SIGKILLed when it runs out), and never leave a
// child behind.
//
// The child's environment is the test's own minus EDGERT_SYSTEM, EDGERT_BOARD_CONFIGS and
// EDGERT_RUNTIME_DIR (so a developer's shell settings cannot leak into a test), plus the
// extra variables the caller gives. Its stdin is /dev/null.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/temp_dir.hpp"

namespace edgert::test {

using env_vars = std::vector<std::pair<std::string, std::string>>;

struct process_result {
  /// The exit status when the child exited, 128 + signal number when a signal ended it,
  /// -1 when it could not be started.
  int exit_code = -1;
  std::string out;
  std::string err;
  /// True when the timeout ran out and the child was killed.
  bool timed_out = false;
};

/// Runs `program` with `args` to completion, reading stdout and stderr concurrently.
/// After `timeout` the child is killed with SIGKILL and the result has timed_out set.
process_result run_process(const std::filesystem::path& program,
                           const std::vector<std::string>& args, const env_vars& env = {},
                           std::chrono::milliseconds timeout = std::chrono::seconds(20));

/// A child running in the background with stdout and stderr on pipes. The destructor kills
/// (SIGKILL) and reaps it if it still runs.
class background_process {
 public:
  /// Starts the child; pid() is -1 when that failed (start_error() says why).
  background_process(const std::filesystem::path& program, const std::vector<std::string>& args,
                     const env_vars& env = {});
  ~background_process();
  background_process(const background_process&) = delete;
  background_process& operator=(const background_process&) = delete;

  pid_t pid() const noexcept { return pid_; }
  bool started() const noexcept { return pid_ > 0; }
  const std::string& start_error() const noexcept { return start_error_; }
  /// The read end of the child's stdout pipe (-1 once closed).
  int stdout_fd() const noexcept { return out_fd_; }

  /// Reads stdout until a complete line containing `needle` arrives, at most `timeout`.
  /// Returns that line (without its newline), or nullopt on timeout or end of output.
  /// Lines read on the way are kept in output().
  std::optional<std::string> wait_for_line(const std::string& needle,
                                           std::chrono::milliseconds timeout);

  /// Sends `sig` without waiting. False when the child is gone already.
  bool signal(int sig);

  /// Waits for the child to exit by itself, at most `timeout`, then kills it (SIGKILL).
  /// Returns everything the child wrote (including what wait_for_line consumed) and how
  /// it ended.
  process_result wait(std::chrono::milliseconds timeout);

  /// SIGKILL and reap; returns as wait() does.
  process_result kill_and_wait();

  /// Everything read from stdout so far.
  const std::string& output() const noexcept { return out_; }

 private:
  // Reads whatever is available from the open pipes, waiting at most `timeout` for the
  // first byte. Returns false when both pipes are at end of file.
  bool pump(std::chrono::milliseconds timeout);
  void close_pipes();

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
  std::size_t scanned_ = 0;  // out_ before this offset holds no wanted line
  std::string start_error_;
  std::optional<int> exit_code_;
};

/// The edgert CLI binary of this build.
inline std::filesystem::path edgert_binary() { return bin_dir() / "edgert"; }

}  // namespace edgert::test
