#include "scenario_holder.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <vector>

#include "cli.hpp"

extern char** environ;

namespace edgert::cli {

std::string spawn_lease_holder(const holder_command& command, pid_t& pid) {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "internal_error";
  std::vector<std::string> args = {exe.string(), "--system", command.system, "--runtime-dir",
                                   command.runtime_dir};
  if (!command.board_configs.empty()) {
    args.push_back("--board-configs");
    args.push_back(command.board_configs);
  }
  args.insert(args.end(), {"connect", command.device, "--hold", "600"});
  if (command.sub_devices) {
    args.push_back("--sub-devices");
    args.push_back(std::to_string(command.sub_devices));
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  int pipe_fds[2];
  // Close-on-exec: no other child (a worker process started meanwhile) may hold the write
  // end, or the holder's exit would never read as end of file.
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return "internal_error";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  const int spawned = ::posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (spawned != 0) {
    ::close(pipe_fds[0]);
    return "internal_error";
  }
  // The holder prints "connected ..." once it holds the lease, or fails and exits (EOF).
  // Bounded: a holder that says nothing within 30 s is killed and counts as a failure.
  std::string output;
  char buffer[256];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (output.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd readable{pipe_fds[0], POLLIN, 0};
    if (left.count() <= 0 || ::poll(&readable, 1, static_cast<int>(left.count())) == 0) {
      ::kill(pid, SIGKILL);
      break;
    }
    const auto n = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_fds[0]);
  if (output.rfind("connected", 0) == 0) return "ok";
  int status = 0;
  ::waitpid(pid, &status, 0);
  pid = -1;
  if (WIFEXITED(status) && WEXITSTATUS(status) == exit_device_in_use) return "device_in_use";
  return "internal_error";
}

void kill_lease_holder(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
}

}  // namespace edgert::cli
