// Leases across descriptors, registries and processes. Every test uses its own temp_dir as
// runtime directory; cross-process tests run tests/helpers/lease_holder.cpp as the other
// process and bound every wait on it.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "drivers/lease_registry.hpp"
#include "support/temp_dir.hpp"

extern char** environ;

namespace {

using namespace edgert;
using namespace std::chrono_literals;

std::shared_ptr<lease_registry> open_registry(const test::temp_dir& dir) {
  auto registry = lease_registry::open(dir.path());
  REQUIRE(registry.ok());
  return *registry;
}

lease_holder holder_named(const std::string& program) {
  lease_holder holder = lease_holder::current_process();
  holder.program = program;
  return holder;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// A lease_holder helper process. The parent keeps the write end of the child's stdin and
// the read end of its stdout; destruction kills and reaps the child if it still runs.
class holder_process {
 public:
  holder_process(const std::filesystem::path& runtime_dir, const std::string& board,
                 const std::string& sub_devices) {
    int to_child[2], from_child[2];
    REQUIRE(::pipe2(to_child, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(from_child, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], STDOUT_FILENO);
    const std::string program = (test::bin_dir() / "lease_holder").string();
    const std::string dir = runtime_dir.string();
    std::vector<char*> argv{const_cast<char*>(program.c_str()), const_cast<char*>(dir.c_str()),
                            const_cast<char*>(board.c_str()),
                            const_cast<char*>(sub_devices.c_str()), nullptr};
    const int spawned =
        ::posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(to_child[0]);
    ::close(from_child[1]);
    stdin_ = to_child[1];
    stdout_ = from_child[0];
    REQUIRE_MESSAGE(spawned == 0, "cannot start " << program);
  }

  ~holder_process() {
    if (pid_ > 0) kill_and_reap();
    if (stdin_ >= 0) ::close(stdin_);
    if (stdout_ >= 0) ::close(stdout_);
  }

  holder_process(const holder_process&) = delete;
  holder_process& operator=(const holder_process&) = delete;

  pid_t pid() const { return pid_; }

  // Reads the child's stdout until a whole line arrives, end-of-file or the deadline.
  std::string first_line(std::chrono::milliseconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::string text;
    while (text.find('\n') == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) break;
      pollfd ready{stdout_, POLLIN, 0};
      if (::poll(&ready, 1, static_cast<int>(left.count())) <= 0) break;
      char buffer[256];
      const ssize_t n = ::read(stdout_, buffer, sizeof buffer);
      if (n <= 0) break;
      text.append(buffer, static_cast<std::size_t>(n));
    }
    return text.substr(0, text.find('\n'));
  }

  // Ends the child by closing its stdin and reaps it; true when it exited within `limit`.
  bool close_stdin_and_reap(std::chrono::milliseconds limit = 10s) {
    ::close(stdin_);
    stdin_ = -1;
    return reap(limit);
  }

  // SIGKILLs the child and reaps it; true when it was reaped within the bound.
  bool kill_and_reap() {
    ::kill(pid_, SIGKILL);
    return reap(10s);
  }

 private:
  bool reap(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      const pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_ || (done < 0 && errno == ECHILD)) {
        pid_ = -1;
        return true;
      }
      std::this_thread::sleep_for(2ms);
    }
    return false;
  }

  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
};

}  // namespace

SCENARIO("a lease held in this process is reported with its holder") {
  test::temp_dir runtime;
  auto registry = open_registry(runtime);
  GIVEN("a lease on sub-device 1 of a board") {
    auto held = registry->acquire("m2-0", {1}, holder_named("edgert connect"));
    REQUIRE(held.ok());
    THEN("holder_of names this process as its holder") {
      auto holder = registry->holder_of("m2-0", 1);
      REQUIRE(holder.has_value());
      CHECK(holder->pid == static_cast<long>(::getpid()));
      CHECK(holder->program == "edgert connect");
      CHECK(holder->user == lease_holder::current_process().user);
      CHECK_FALSE(holder->since.empty());
    }
    THEN("the other sub-devices stay free") {
      CHECK_FALSE(registry->holder_of("m2-0", 0).has_value());
      CHECK_FALSE(registry->holder_of("m2-0", 2).has_value());
    }
  }
}

SCENARIO("a sub-device nobody ever leased is free") {
  test::temp_dir runtime;
  auto registry = open_registry(runtime);
  CHECK_FALSE(registry->holder_of("sbc-0", 0).has_value());
}

SCENARIO("the lease object describes what it holds") {
  test::temp_dir runtime;
  auto registry = open_registry(runtime);
  auto held = registry->acquire("pcie-0", {2, 0}, holder_named("test"));
  REQUIRE(held.ok());
  CHECK(held->held());
  CHECK(held->board() == "pcie-0");
  CHECK(held->sub_devices() == std::vector<unsigned>{2, 0});
}

SCENARIO("releasing a lease frees its sub-devices") {
  test::temp_dir runtime;
  auto registry = open_registry(runtime);
  auto held = registry->acquire("m2-0", {0, 1}, holder_named("first"));
  REQUIRE(held.ok());
  WHEN("the lease is released") {
    held->release();
    THEN("nobody holds the sub-devices") {
      CHECK_FALSE(held->held());
      CHECK_FALSE(registry->holder_of("m2-0", 0).has_value());
      CHECK_FALSE(registry->holder_of("m2-0", 1).has_value());
    }
    THEN("another holder can take them") {
      CHECK(registry->acquire("m2-0", {0, 1}, holder_named("second")).ok());
    }
  }
}

SCENARIO("destroying a lease frees its sub-devices") {
  test::temp_dir runtime;
  auto registry = open_registry(runtime);
  {
    auto held = registry->acquire("m2-0", {3}, holder_named("scoped"));
    REQUIRE(held.ok());
    REQUIRE(registry->holder_of("m2-0", 3).has_value());
  }
  CHECK_FALSE(registry->holder_of("m2-0", 3).has_value());
}

SCENARIO("a moved lease keeps holding and the moved-from one holds nothing") {
  test::temp_dir runtime;
  auto registry = open_registry(runtime);
  auto held = registry->acquire("m2-0", {0}, holder_named("mover"));
  REQUIRE(held.ok());
  lease moved = std::move(*held);
  CHECK_FALSE(held->held());
  CHECK(moved.held());
  held->release();
  CHECK(registry->holder_of("m2-0", 0).has_value());
}

SCENARIO("acquiring is all or nothing") {
  test::temp_dir runtime;
  auto registry = open_registry(runtime);
  GIVEN("sub-device 1 is leased") {
    auto first = registry->acquire("m2-0", {1}, holder_named("first"));
    REQUIRE(first.ok());
    WHEN("a second holder asks for sub-devices 0, 1 and 2") {
      auto second = registry->acquire("m2-0", {0, 1, 2}, holder_named("second"));
      THEN("it fails with device_in_use") { CHECK(second.code() == errc::device_in_use); }
      THEN("it keeps none of the free sub-devices") {
        CHECK_FALSE(registry->holder_of("m2-0", 0).has_value());
        CHECK_FALSE(registry->holder_of("m2-0", 2).has_value());
        CHECK(registry->acquire("m2-0", {0, 2}, holder_named("third")).ok());
      }
    }
  }
}

SCENARIO("a busy sub-device is reported with board, index and holder") {
  test::temp_dir runtime;
  auto registry = open_registry(runtime);
  auto first = registry->acquire("duo-0", {1}, holder_named("edgert connect"));
  REQUIRE(first.ok());
  auto second = registry->acquire("duo-0", {1}, holder_named("other"));
  REQUIRE(second.code() == errc::device_in_use);
  const std::string& message = second.error().message;
  CHECK(message.find("duo-0 sub-device 1 is in use by pid " + std::to_string(::getpid())) !=
        std::string::npos);
  CHECK(message.find("program edgert connect") != std::string::npos);
}

SCENARIO("two registries in one process conflict over the same sub-device") {
  test::temp_dir runtime;
  auto first_registry = open_registry(runtime);
  auto second_registry = open_registry(runtime);
  auto first = first_registry->acquire("sbc-0", {0}, holder_named("first context"));
  REQUIRE(first.ok());
  auto second = second_registry->acquire("sbc-0", {0}, holder_named("second context"));
  CHECK(second.code() == errc::device_in_use);
}

SCENARIO("leases on different boards are independent") {
  test::temp_dir runtime;
  auto registry = open_registry(runtime);
  auto first = registry->acquire("m2-0", {0}, holder_named("first"));
  REQUIRE(first.ok());
  CHECK(registry->acquire("m2-1", {0}, holder_named("second")).ok());
}

SCENARIO("a sub-device listed twice is leased once") {
  test::temp_dir runtime;
  auto registry = open_registry(runtime);
  auto held = registry->acquire("m2-0", {2, 2}, holder_named("twice"));
  REQUIRE(held.ok());
  CHECK(held->sub_devices() == std::vector<unsigned>{2});
}

SCENARIO("a lease needs at least one sub-device") {
  test::temp_dir runtime;
  auto registry = open_registry(runtime);
  CHECK(registry->acquire("m2-0", {}, holder_named("nothing")).code() ==
        errc::invalid_argument);
}

SCENARIO("a board id that is not a plain file name is refused") {
  test::temp_dir runtime;
  auto registry = open_registry(runtime);
  CHECK(registry->acquire("../m2-0", {0}, holder_named("escape")).code() ==
        errc::invalid_argument);
}

SCENARIO("a runtime directory that cannot be created is an io_error") {
  test::temp_dir runtime;
  const auto blocker = runtime.path() / "a-file";
  std::ofstream(blocker) << "not a directory";
  CHECK(lease_registry::open(blocker / "runtime").code() == errc::io_error);
}

SCENARIO("lease files live in the leases folder of the runtime directory") {
  test::temp_dir runtime;
  auto registry = open_registry(runtime);
  auto held = registry->acquire("m2-0", {1}, holder_named("file"));
  REQUIRE(held.ok());
  CHECK(registry->directory() == runtime.path() / "leases");
  CHECK(std::filesystem::exists(runtime.path() / "leases" / "m2-0.1.lock"));
}

SCENARIO("lease files are readable and writable by every user whatever the umask") {
  test::temp_dir runtime;
  auto registry = open_registry(runtime);
  const mode_t previous = ::umask(077);
  auto held = registry->acquire("m2-0", {0}, holder_named("umask"));
  ::umask(previous);
  REQUIRE(held.ok());
  struct stat info {};
  REQUIRE(::stat((runtime.path() / "leases" / "m2-0.0.lock").c_str(), &info) == 0);
  CHECK((info.st_mode & 0777) == 0666);
}

SCENARIO("the lease file records the holder as key=value lines") {
  test::temp_dir runtime;
  auto registry = open_registry(runtime);
  lease_holder holder;
  holder.pid = 4242;
  holder.user = "alice";
  holder.program = "edgert run model.onnx";
  holder.since = "2026-11-22T03:14:29Z";
  auto held = registry->acquire("m2-0", {0}, holder);
  REQUIRE(held.ok());
  CHECK(read_file(runtime.path() / "leases" / "m2-0.0.lock") ==
        "pid=4242\nuser=alice\nprogram=edgert run model.onnx\nsince=2026-11-22T03:14:29Z\n");
}

SCENARIO("a stale lock file with an old holder and no lock is reclaimed") {
  test::temp_dir runtime;
  auto registry = open_registry(runtime);
  GIVEN("a lock file left behind by a holder that is gone") {
    const auto file = runtime.path() / "leases" / "m2-0.2.lock";
    std::ofstream(file) << "pid=999999\nuser=ghost\nprogram=edgert old\nsince=2020-01-01T00:00:00Z\n";
    THEN("the sub-device is free") { CHECK_FALSE(registry->holder_of("m2-0", 2).has_value()); }
    WHEN("a new holder acquires it") {
      auto held = registry->acquire("m2-0", {2}, holder_named("new holder"));
      REQUIRE(held.ok());
      THEN("the file names the new holder only") {
        const std::string text = read_file(file);
        CHECK(text.find("program=new holder\n") != std::string::npos);
        CHECK(text.find("ghost") == std::string::npos);
      }
    }
  }
}

SCENARIO("a locked lease file without a readable holder reports an unknown program") {
  test::temp_dir runtime;
  auto registry = open_registry(runtime);
  const auto file = runtime.path() / "leases" / "m2-0.0.lock";
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  REQUIRE(fd >= 0);
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  REQUIRE(::fcntl(fd, F_OFD_SETLK, &lock) == 0);
  auto holder = registry->holder_of("m2-0", 0);
  ::close(fd);
  REQUIRE(holder.has_value());
  CHECK(holder->program == "unknown");
}

SCENARIO("probing a lease never takes it") {
  test::temp_dir runtime;
  auto registry = open_registry(runtime);
  REQUIRE_FALSE(registry->holder_of("m2-0", 0).has_value());
  REQUIRE(registry->acquire("m2-0", {0}, holder_named("later")).ok());
  CHECK_FALSE(registry->holder_of("m2-0", 0).has_value());
}

SCENARIO("the current process identity names this process") {
  const lease_holder self = lease_holder::current_process();
  CHECK(self.pid == static_cast<long>(::getpid()));
  CHECK_FALSE(self.user.empty());
  CHECK(self.program.rfind("lease_registry_test", 0) == 0);
  CHECK(self.program.size() <= 120);
  REQUIRE(self.since.size() == 20);
  CHECK(self.since[10] == 'T');
  CHECK(self.since.back() == 'Z');
}

SCENARIO("a holder describes itself in one line") {
  lease_holder holder;
  holder.pid = 1234;
  holder.user = "alice";
  holder.program = "edgert connect";
  holder.since = "2026-11-22T03:14:29Z";
  CHECK(holder.describe() ==
        "pid 1234 (user alice, program edgert connect, since 2026-11-22T03:14:29Z)");
}

SCENARIO("the default runtime directory follows EDGERT_RUNTIME_DIR") {
  const char* saved = std::getenv("EDGERT_RUNTIME_DIR");
  const std::string previous = saved ? saved : "";
  ::setenv("EDGERT_RUNTIME_DIR", "/some/where/edgert", 1);
  const auto dir = lease_registry::default_runtime_dir();
  if (saved) {
    ::setenv("EDGERT_RUNTIME_DIR", previous.c_str(), 1);
  } else {
    ::unsetenv("EDGERT_RUNTIME_DIR");
  }
  CHECK(dir == "/some/where/edgert");
}

SCENARIO("without EDGERT_RUNTIME_DIR the default runtime directory is under XDG_RUNTIME_DIR") {
  const char* saved_runtime = std::getenv("EDGERT_RUNTIME_DIR");
  const char* saved_xdg = std::getenv("XDG_RUNTIME_DIR");
  const std::string previous_runtime = saved_runtime ? saved_runtime : "";
  const std::string previous_xdg = saved_xdg ? saved_xdg : "";
  ::unsetenv("EDGERT_RUNTIME_DIR");
  ::setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
  const auto with_xdg = lease_registry::default_runtime_dir();
  ::unsetenv("XDG_RUNTIME_DIR");
  const auto without_xdg = lease_registry::default_runtime_dir();
  if (saved_runtime) ::setenv("EDGERT_RUNTIME_DIR", previous_runtime.c_str(), 1);
  if (saved_xdg) ::setenv("XDG_RUNTIME_DIR", previous_xdg.c_str(), 1);
  CHECK(with_xdg == "/run/user/4242/edgert");
  CHECK(without_xdg.filename() == "edgert-" + std::to_string(::getuid()));
}

SCENARIO("a lease held by another process is busy and names that process") {
  test::temp_dir runtime;
  auto registry = open_registry(runtime);
  GIVEN("a helper process holding sub-devices 0 and 2") {
    holder_process child(runtime.path(), "m2-0", "0,2");
    REQUIRE(child.first_line() == "held");
    THEN("acquiring sub-device 2 fails with device_in_use naming the child's pid") {
      auto attempt = registry->acquire("m2-0", {2}, holder_named("parent"));
      REQUIRE(attempt.code() == errc::device_in_use);
      CHECK(attempt.error().message.find("pid " + std::to_string(child.pid()) + " ") !=
            std::string::npos);
    }
    THEN("holder_of reports the child as the holder") {
      auto holder = registry->holder_of("m2-0", 0);
      REQUIRE(holder.has_value());
      CHECK(holder->pid == static_cast<long>(child.pid()));
      CHECK(holder->program.find("lease_holder") == 0);
    }
    THEN("a sub-device the child does not hold can be acquired") {
      CHECK(registry->acquire("m2-0", {1}, holder_named("parent")).ok());
    }
  }
}

SCENARIO("a killed holder process leaves its lease free to reclaim") {
  test::temp_dir runtime;
  auto registry = open_registry(runtime);
  holder_process child(runtime.path(), "sbc-0", "0");
  REQUIRE(child.first_line() == "held");
  REQUIRE(registry->acquire("sbc-0", {0}, holder_named("parent")).code() ==
          errc::device_in_use);
  WHEN("the holder is killed") {
    REQUIRE(child.kill_and_reap());
    THEN("the sub-device is free and can be acquired") {
      CHECK_FALSE(registry->holder_of("sbc-0", 0).has_value());
      CHECK(registry->acquire("sbc-0", {0}, holder_named("parent")).ok());
    }
  }
}

SCENARIO("a holder process that ends normally gives its lease back") {
  test::temp_dir runtime;
  auto registry = open_registry(runtime);
  holder_process child(runtime.path(), "pcie-0", "1");
  REQUIRE(child.first_line() == "held");
  REQUIRE(child.close_stdin_and_reap());
  CHECK(registry->acquire("pcie-0", {1}, holder_named("parent")).ok());
}

SCENARIO("another process cannot take a lease this process holds") {
  test::temp_dir runtime;
  auto registry = open_registry(runtime);
  auto held = registry->acquire("m2-0", {3}, holder_named("edgert connect"));
  REQUIRE(held.ok());
  holder_process child(runtime.path(), "m2-0", "3");
  const std::string line = child.first_line();
  CHECK(line.rfind("failed: ", 0) == 0);
  CHECK(line.find("pid " + std::to_string(::getpid())) != std::string::npos);
}
