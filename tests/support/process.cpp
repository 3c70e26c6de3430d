#include "support/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

extern char** environ;

namespace edgert::test {

namespace {

using clock_type = std::chrono::steady_clock;

// Variables that would change what edgert does behind a test's back.
constexpr const char* stripped_vars[] = {"EDGERT_SYSTEM", "EDGERT_BOARD_CONFIGS",
                                         "EDGERT_RUNTIME_DIR"};

std::vector<std::string> child_environment(const env_vars& extra) {
  auto overridden = [&](const std::string& entry) {
    auto name = entry.substr(0, entry.find('='));
    for (auto* var : stripped_vars)
      if (name == var) return true;
    for (auto& [key, value] : extra)
      if (name == key) return true;
    return false;
  };
  std::vector<std::string> result;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e)
    if (!overridden(*e)) result.emplace_back(*e);
  for (auto& [key, value] : extra) result.push_back(key + "=" + value);
  return result;
}

std::vector<char*> c_strings(std::vector<std::string>& items) {
  std::vector<char*> result;
  for (auto& item : items) result.push_back(item.data());
  result.push_back(nullptr);
  return result;
}

int poll_ms(clock_type::duration timeout) {
  if (timeout <= clock_type::duration::zero()) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(timeout).count();
  return static_cast<int>(std::min<long long>(ms, 60'000));
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

background_process::background_process(const std::filesystem::path& program,
                                       const std::vector<std::string>& args,
                                       const env_vars& env) {
  std::vector<std::string> argv_strings{program.string()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  auto env_strings = child_environment(env);
  auto argv = c_strings(argv_strings);
  auto envp = c_strings(env_strings);

  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    start_error_ = std::string("pipe2: ") + std::strerror(errno);
    return;
  }
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    start_error_ = std::string("pipe2: ") + std::strerror(errno);
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return;
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);

  // The child starts with no blocked signals and default handling of the ones tests send,
  // whatever the test runner did to its own.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty, defaults;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGCHLD}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv_strings[0].c_str(), &actions, &attr, argv.data(),
                         envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    start_error_ = "cannot start " + argv_strings[0] + ": " + std::strerror(rc);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return;
  }
  pid_ = pid;
  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
  ::fcntl(out_fd_, F_SETFL, ::fcntl(out_fd_, F_GETFL) | O_NONBLOCK);
  ::fcntl(err_fd_, F_SETFL, ::fcntl(err_fd_, F_GETFL) | O_NONBLOCK);
}

background_process::~background_process() {
  if (started() && !exit_code_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  close_pipes();
}

void background_process::close_pipes() {
  if (out_fd_ >= 0) ::close(out_fd_);
  if (err_fd_ >= 0) ::close(err_fd_);
  out_fd_ = err_fd_ = -1;
}

bool background_process::pump(std::chrono::milliseconds timeout) {
  pollfd fds[2];
  int* owners[2];
  nfds_t count = 0;
  for (int* fd : {&out_fd_, &err_fd_}) {
    if (*fd < 0) continue;
    fds[count] = pollfd{*fd, POLLIN, 0};
    owners[count] = fd;
    ++count;
  }
  if (count == 0) return false;
  int ready = ::poll(fds, count, poll_ms(timeout));
  if (ready < 0 && errno != EINTR) {
    close_pipes();
    return false;
  }
  for (nfds_t i = 0; ready > 0 && i < count; ++i) {
    if (fds[i].revents == 0) continue;
    int& fd = *owners[i];
    std::string& sink = (owners[i] == &out_fd_) ? out_ : err_;
    char buffer[4096];
    while (true) {
      ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n > 0) {
        sink.append(buffer, static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      ::close(fd);  // end of file or a read error
      fd = -1;
      break;
    }
  }
  return out_fd_ >= 0 || err_fd_ >= 0;
}

std::optional<std::string> background_process::wait_for_line(const std::string& needle,
                                                              std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  while (true) {
    std::size_t end;
    while ((end = out_.find('\n', scanned_)) != std::string::npos) {
      std::string line = out_.substr(scanned_, end - scanned_);
      scanned_ = end + 1;
      if (line.find(needle) != std::string::npos) return line;
    }
    if (out_fd_ < 0) return std::nullopt;
    auto left = deadline - clock_type::now();
    if (left <= clock_type::duration::zero()) return std::nullopt;
    pump(std::chrono::ceil<std::chrono::milliseconds>(left));
  }
}

bool background_process::signal(int sig) {
  if (!started() || exit_code_) return false;
  return ::kill(pid_, sig) == 0;
}

process_result background_process::wait(std::chrono::milliseconds timeout) {
  process_result result;
  if (!started()) {
    result.err = start_error_;
    return result;
  }
  auto deadline = clock_type::now() + timeout;
  bool timed_out = false;
  // Output first: a child blocked on a full pipe would never exit.
  while (out_fd_ >= 0 || err_fd_ >= 0) {
    auto left = deadline - clock_type::now();
    if (left <= clock_type::duration::zero()) {
      timed_out = true;
      break;
    }
    pump(std::chrono::ceil<std::chrono::milliseconds>(left));
  }
  while (!exit_code_ && !timed_out) {
    int status = 0;
    pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exit_code_ = decode_status(status);
    } else if (done < 0 && errno != EINTR) {
      exit_code_ = -1;
    } else if (clock_type::now() >= deadline) {
      timed_out = true;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  if (!exit_code_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    pid_t done;
    while ((done = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
    }
    exit_code_ = done == pid_ ? decode_status(status) : -1;
    // Whatever the killed child had written is still in the pipes.
    for (int i = 0; i < 50 && pump(std::chrono::milliseconds(10)); ++i) {
    }
  }
  close_pipes();
  result.exit_code = *exit_code_;
  result.out = out_;
  result.err = err_;
  result.timed_out = timed_out;
  return result;
}

process_result background_process::kill_and_wait() {
  signal(SIGKILL);
  return wait(std::chrono::seconds(5));
}

process_result run_process(const std::filesystem::path& program,
                           const std::vector<std::string>& args, const env_vars& env,
                           std::chrono::milliseconds timeout) {
  background_process child(program, args, env);
  return child.wait(timeout);
}

}  // namespace edgert::test
