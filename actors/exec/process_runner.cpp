// process_runner: a job runner whose plan runs in an edgert-worker process; see
// actors/exec/process_runner.hpp for the protocol, ownership and threads.
#include "actors/exec/process_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <set>
#include <system_error>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

extern char** environ;

namespace edgert::exec {

namespace {

using steady = std::chrono::steady_clock;

// The io actor system every process runner of this process uses: created on first use,
// destroyed when the last worker_controls lets go of it. Tuned as measured in the CAF
// notes: the sharing scheduler and no middleman worker threads (the multiplexer thread
// deserialises inline), which halves the loopback round trip.
struct io_system {
  caf::actor_system_config config;
  std::unique_ptr<caf::actor_system> system;  // declared after config: destroyed first
};

std::shared_ptr<caf::actor_system> shared_io_system() {
  static std::mutex mutex;
  static std::weak_ptr<caf::actor_system> current;
  std::lock_guard<std::mutex> guard(mutex);
  if (auto alive = current.lock()) return alive;
  auto holder = std::make_shared<io_system>();
  configure_worker_link(holder->config);
  holder->system = std::make_unique<caf::actor_system>(holder->config);
  std::shared_ptr<caf::actor_system> made(holder, holder->system.get());
  current = made;
  return made;
}

// Every spawn (a scoped_actor, remote_actor()'s helper) leaves the spawning thread holding
// a thread-local reference to its system's logger, and ~actor_system waits until every
// such reference is gone. Process runners may run on threads that outlive the io system
// (a board driver's compute lanes), so each call lets go of that reference on its way out.
struct release_thread_logger {
  ~release_thread_logger() { caf::logger::set_current_actor_system(nullptr); }
};

std::string errno_text(int e) { return std::strerror(e); }

// Moves `fd` to a number >= 10 (close-on-exec), so a dup2 onto 0..4 in the child never
// meets a source that already has the target number.
int high_fd(int fd) {
  if (fd < 0 || fd >= 10) return fd;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 10);
  ::close(fd);
  return moved;
}

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    const char* abbrev = ::sigabbrev_np(sig);
    return "died: signal " + std::to_string(sig) + (abbrev ? " (SIG" + std::string(abbrev) + ")" : "");
  }
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  return "ended (wait status " + std::to_string(status) + ")";
}

std::string join(const std::vector<std::size_t>& v) {
  std::string s;
  for (auto x : v) s += (s.empty() ? "" : ",") + std::to_string(x);
  return s.empty() ? "-" : s;
}

}  // namespace

struct process_runner::remote {
  caf::actor worker;
  std::unique_ptr<caf::scoped_actor> self;  // created at the first job, on its thread
};

// ---- worker_controls ----------------------------------------------------------------

result<std::shared_ptr<worker_controls>> worker_controls::create() {
  auto controls = std::make_shared<worker_controls>();
  try {
    controls->system_ = shared_io_system();
  } catch (const std::exception& e) {
    return fail(errc::internal_error,
                std::string("cannot start the actor system for worker processes: ") + e.what());
  }
  return controls;
}

namespace {

// Takes one from `counter` when it is not zero.
bool take_one(std::atomic<unsigned>& counter) noexcept {
  unsigned pending = counter.load();
  while (pending > 0)
    if (counter.compare_exchange_weak(pending, pending - 1)) return true;
  return false;
}

}  // namespace

worker_fault worker_controls::take_fault() noexcept {
  if (take_one(crashes_)) return worker_fault::crash;
  if (take_one(hangs_)) return worker_fault::hang;
  return worker_fault::none;
}

std::vector<pid_t> worker_controls::pids() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return pids_;
}

void worker_controls::add(pid_t pid) {
  std::lock_guard<std::mutex> guard(mutex_);
  pids_.push_back(pid);
}

void worker_controls::remove(pid_t pid) {
  std::lock_guard<std::mutex> guard(mutex_);
  pids_.erase(std::remove(pids_.begin(), pids_.end(), pid), pids_.end());
}

// ---- finding the worker -------------------------------------------------------------

result<std::filesystem::path> find_worker_executable() {
  namespace fs = std::filesystem;
  auto usable = [](const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
  };
  if (const char* env = std::getenv("EDGERT_WORKER"); env && *env) {
    if (usable(env)) return fs::path(env);
    return fail(errc::invalid_configuration,
                std::string("process isolation: EDGERT_WORKER names '") + env +
                    "', which is not an executable file");
  }
  std::string looked;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path beside = self.parent_path() / "edgert-worker";
    if (usable(beside)) return beside;
    looked = beside.string();
  }
#ifdef EDGERT_WORKER_BUILD_PATH
  const fs::path built(EDGERT_WORKER_BUILD_PATH);
  if (usable(built)) return built;
  looked += (looked.empty() ? "" : ", ") + built.string();
#endif
  return fail(errc::invalid_configuration,
              "process isolation needs the edgert-worker executable, which is not at " +
                  (looked.empty() ? std::string("any known place") : looked) +
                  "; set EDGERT_WORKER to its path");
}

// ---- process_runner -----------------------------------------------------------------

process_runner::process_runner(const worker_spec& spec, std::shared_ptr<worker_controls> controls)
    : spec_(spec),
      layout_(shm_layout::of(spec.input_bytes, spec.output_bytes)),
      controls_(std::move(controls)) {}

result<std::unique_ptr<process_runner>> process_runner::create(
    const worker_spec& spec, std::shared_ptr<worker_controls> controls, bool wait_ready) {
  if (!controls) return fail(errc::internal_error, "process_runner needs its worker controls");
  std::unique_ptr<process_runner> r(new process_runner(spec, std::move(controls)));
  if (!wait_ready) {
    try {
      r->starter_ = std::thread([p = r.get()] { p->spawn_outcome_ = p->spawn(); });
      return r;
    } catch (const std::system_error&) {
      // No thread to spare: spawn here instead.
    }
  }
  r->spawn_outcome_ = r->spawn();
  if (!r->spawn_outcome_) return r->spawn_outcome_.error();
  if (wait_ready) {
    auto connected = r->connect();
    if (!connected) return connected.error();
  }
  return r;
}

result<void> process_runner::spawned() {
  if (starter_.joinable()) starter_.join();
  return spawn_outcome_;
}

result<void> process_runner::spawn() {
  const std::string who = "the worker process of " + spec_.instance;
  int lifeline[2] = {-1, -1};
  int out[2] = {-1, -1};
  int model_fd = -1;
  struct cleanup {
    int* fds[5];
    ~cleanup() {
      for (int* fd : fds) close_fd(*fd);
    }
  } on_exit{{&lifeline[0], &lifeline[1], &out[0], &out[1], &model_fd}};

  if (::pipe2(lifeline, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0)
    return fail(errc::internal_error, who + ": cannot create pipes: " + errno_text(errno));
  for (int* fd : {&lifeline[0], &lifeline[1], &out[0], &out[1]}) *fd = high_fd(*fd);

  shm_fd_ = high_fd(::memfd_create("edgert-job", MFD_CLOEXEC));
  if (shm_fd_ < 0 || ::ftruncate(shm_fd_, static_cast<off_t>(layout_.total)) != 0)
    return fail(errc::out_of_memory, who + ": cannot create a shared-memory region of " +
                                         std::to_string(layout_.total) + " bytes: " + errno_text(errno));
  shm_ = ::mmap(nullptr, layout_.total, PROT_READ | PROT_WRITE, MAP_SHARED, shm_fd_, 0);
  if (shm_ == MAP_FAILED) {
    shm_ = nullptr;
    return fail(errc::out_of_memory, who + ": cannot map its shared memory: " + errno_text(errno));
  }
  if (spec_.model_bytes) {
    model_fd = high_fd(::memfd_create("edgert-model", MFD_CLOEXEC));
    const std::string& bytes = *spec_.model_bytes;
    std::size_t written = 0;
    while (model_fd >= 0 && written < bytes.size()) {
      const auto n = ::write(model_fd, bytes.data() + written, bytes.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      written += static_cast<std::size_t>(n);
    }
    if (model_fd < 0 || written != bytes.size())
      return fail(errc::io_error, who + ": cannot hand the model over: " + errno_text(errno));
  }

  std::vector<std::string> args = {spec_.executable.string(),
                                   "--name", spec_.instance,
                                   "--threads", std::to_string(spec_.threads),
                                   "--batch", std::to_string(spec_.batch),
                                   "--inputs", join(spec_.input_bytes),
                                   "--outputs", join(spec_.output_bytes)};
  if (spec_.model_bytes) {
    args.insert(args.end(), {"--model-fd", std::to_string(worker_model_fd), "--base-dir",
                             spec_.base_dir.empty() ? "." : spec_.base_dir.string()});
  } else {
    args.insert(args.end(), {"--model", spec_.model_file.string()});
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawnattr_init(&attributes);
  ::posix_spawn_file_actions_adddup2(&actions, lifeline[0], STDIN_FILENO);
  ::posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  ::posix_spawn_file_actions_adddup2(&actions, shm_fd_, worker_shm_fd);
  if (model_fd >= 0) ::posix_spawn_file_actions_adddup2(&actions, model_fd, worker_model_fd);
  // Nothing else of this process (lease files, sockets) reaches the worker.
  ::posix_spawn_file_actions_addclosefrom_np(&actions,
                                             model_fd >= 0 ? worker_model_fd + 1 : worker_model_fd);
  sigset_t mask, defaults;
  sigemptyset(&mask);
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGSEGV, SIGCHLD}) sigaddset(&defaults, sig);
  ::posix_spawnattr_setsigmask(&attributes, &mask);
  ::posix_spawnattr_setsigdefault(&attributes, &defaults);
  // Its own process group: a terminal's Ctrl-C reaches this process, which then ends the
  // workers in order, instead of killing the workers under jobs in flight.
  ::posix_spawnattr_setpgroup(&attributes, 0);
  ::posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                              POSIX_SPAWN_SETPGROUP);
  pid_t pid = -1;
  const int spawned =
      ::posix_spawn(&pid, spec_.executable.c_str(), &actions, &attributes, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attributes);
  close_fd(shm_fd_);  // the mapping stays; the worker has its own descriptor
  if (spawned != 0)
    return fail(errc::internal_error, "cannot start " + spec_.executable.string() + " for " +
                                          spec_.instance + ": " + errno_text(spawned));
  pid_ = pid;
  controls_->add(pid_);
  // The key goes down the lifeline (8 bytes always fit a fresh pipe's buffer).
  key_ = (std::uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
  if (::write(lifeline[1], &key_, sizeof key_) != static_cast<ssize_t>(sizeof key_))
    return fail(errc::internal_error, "cannot hand " + spec_.executable.string() + " its key for " +
                                          spec_.instance + ": " + errno_text(errno));
  lifeline_ = lifeline[1];
  lifeline[1] = -1;
  handshake_ = out[0];
  out[0] = -1;
  return {};
}

result<void> process_runner::connect() {
  if (remote_) return {};
  release_thread_logger release;
  if (dead_) return fail(errc::device_fault, spec_.instance + ": its worker process is gone");
  if (auto started = spawned(); !started) {
    dead_ = true;
    return started.error();
  }
  worker_name_ = "worker process " + std::to_string(pid_) + " of " + spec_.instance;
  const std::string& who = worker_name_;
  const auto deadline = steady::now() + spec_.start_timeout;
  std::string line;
  while (line.find('\n') == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    pollfd p{handshake_, POLLIN, 0};
    const int ready = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count()) + 1) : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0)
      return die(errc::internal_error,
                 who + " did not start within " + std::to_string(spec_.start_timeout.count()) +
                     " ms; " + reap_and_describe(true));
    char buffer[256];
    const auto n = ::read(handshake_, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string said = line.empty() ? "" : " after writing '" + line + "'";
      return die(errc::internal_error, who + " " + reap_and_describe(false) + " before it was ready" + said);
    }
    line.append(buffer, static_cast<std::size_t>(n));
  }
  close_fd(handshake_);
  line.erase(line.find('\n'));
  if (line.rfind("error: ", 0) == 0)
    return die(errc::internal_error, who + " could not start: " + line.substr(7));
  unsigned port = 0;
  if (line.rfind("port ", 0) != 0 || (port = static_cast<unsigned>(std::atoi(line.c_str() + 5))) == 0 ||
      port > 65535)
    return die(errc::internal_error, who + " answered '" + line + "' instead of its port");
  // Connect through the middleman actor, bounded by what is left of the start time
  // (middleman().remote_actor() would wait without a deadline for a worker that stalls).
  auto& system = controls_->system();
  const auto left = std::max(std::chrono::milliseconds(1),
                             std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now()));
  caf::actor worker;
  std::string failure = "no answer within the start time of " + std::to_string(spec_.start_timeout.count()) + " ms";
  {
    caf::scoped_actor self{system, true};
    self->request(system.middleman().actor_handle(), left, caf::connect_atom_v, std::string("127.0.0.1"),
                  static_cast<std::uint16_t>(port))
        .receive(
            [&](caf::node_id&, caf::strong_actor_ptr& found, std::set<std::string>&) {
              worker = caf::actor_cast<caf::actor>(std::move(found));
            },
            [&](caf::error& e) { failure = system.render(e); });
  }
  if (!worker)
    return die(errc::connection_error, who + ": cannot connect to port " + std::to_string(port) + ": " + failure +
                                           "; " + reap_and_describe(true));
  remote_ = std::make_unique<remote>();
  remote_->worker = std::move(worker);
  return {};
}

std::string process_runner::reap_and_describe(bool kill_first) {
  if (reaped_ || pid_ <= 0) return "it has ended";
  if (kill_first) ::kill(pid_, SIGKILL);
  int status = 0;
  pid_t got = -1;
  do {
    got = ::waitpid(pid_, &status, 0);
  } while (got < 0 && errno == EINTR);
  reaped_ = true;
  if (got != pid_) return "it has ended";
  return describe_status(status);
}

failure process_runner::die(errc code, const std::string& message) {
  dead_ = true;
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    reap_and_describe(false);
  }
  controls_->remove(pid_);
  return failure{code, message};
}

result<job_report> process_runner::run(const std::vector<const void*>& inputs,
                                       const std::vector<void*>& outputs) {
  if (dead_) return fail(errc::device_fault, spec_.instance + ": its worker process is gone");
  if (inputs.size() != layout_.input_offsets.size() || outputs.size() != layout_.output_offsets.size())
    return fail(errc::internal_error, spec_.instance + ": a job with " + std::to_string(inputs.size()) +
                                          " inputs and " + std::to_string(outputs.size()) +
                                          " outputs reached its worker process");
  release_thread_logger release;
  auto connected = connect();
  if (!connected) return connected.error();
  auto& system = controls_->system();
  if (!remote_->self) {
    remote_->self = std::make_unique<caf::scoped_actor>(system, true);
    (*remote_->self)->monitor(remote_->worker);
  }
  auto& self = *remote_->self;
  auto* region = static_cast<std::byte*>(shm_);
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (spec_.input_bytes[i]) std::memcpy(region + layout_.input_offsets[i], inputs[i], spec_.input_bytes[i]);

  const auto fault = controls_->take_fault();
  const std::uint64_t seq = ++seq_;
  const std::chrono::nanoseconds budget =
      spec_.watchdog > std::chrono::nanoseconds::zero()
          ? spec_.watchdog
          : std::max(spec_.watchdog_floor,
                     std::chrono::nanoseconds(10 * std::min<std::uint64_t>(slowest_ns_, 1'000'000'000'000)));
  const auto deadline = steady::now() + budget;
  self->send(remote_->worker, worker_job_atom::value, seq, static_cast<std::int32_t>(fault), key_);

  const std::string& who = worker_name_;
  std::optional<result<job_report>> answer;
  bool lost = false;
  caf::error lost_reason;
  while (!answer) {
    self->receive(
        [&](worker_done_atom, std::uint64_t s, std::uint64_t device_ns, std::int64_t begin,
            std::int64_t end) {
          if (s == seq) answer = job_report{device_ns, begin, end};
        },
        [&](worker_fail_atom, std::uint64_t s, std::int32_t code, std::string& message) {
          if (s == seq) answer = result<job_report>(failure{static_cast<errc>(code), std::move(message)});
        },
        [&](caf::down_msg& down) {
          if (down.source == remote_->worker.address()) {
            lost = true;
            lost_reason = down.reason;
          }
        },
        caf::after(std::chrono::milliseconds(2)) >> [] {});
    if (answer) break;
    int status = 0;
    pid_t got = -1;
    do {
      got = ::waitpid(pid_, &status, WNOHANG);
    } while (got < 0 && errno == EINTR);
    if (got == pid_ || (got < 0 && errno == ECHILD)) {
      reaped_ = true;
      return die(errc::device_fault, who + " " + (got == pid_ ? describe_status(status) : "has ended"));
    }
    if (lost) {
      // The connection went before the process did: give it a moment to end by itself.
      const auto grace = steady::now() + std::chrono::milliseconds(200);
      while (steady::now() < grace) {
        got = ::waitpid(pid_, &status, WNOHANG);
        if (got == pid_) {
          reaped_ = true;
          return die(errc::device_fault, who + " " + describe_status(status));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      return die(errc::device_fault, who + " lost its connection (" + system.render(lost_reason) +
                                         "); the process was killed");
    }
    if (steady::now() >= deadline)
      return die(errc::timeout,
                 who + ": the job did not finish within its watchdog of " +
                     std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(budget).count()) +
                     " ms; the process was killed");
  }
  if (*answer) {
    slowest_ns_ = std::max(slowest_ns_, (*answer)->device_time_ns);
    for (std::size_t i = 0; i < outputs.size(); ++i)
      if (spec_.output_bytes[i])
        std::memcpy(outputs[i], region + layout_.output_offsets[i], spec_.output_bytes[i]);
  }
  return *answer;
}

process_runner::~process_runner() {
  release_thread_logger release;
  if (starter_.joinable()) starter_.join();
  if (remote_) {
    remote_->self.reset();
    remote_->worker = nullptr;
    remote_.reset();
  }
  close_fd(lifeline_);  // the worker reads end of file and exits
  close_fd(handshake_);
  if (pid_ > 0 && !reaped_) {
    const auto patience = steady::now() + std::chrono::seconds(1);
    int status = 0;
    bool gone = false;
    while (!gone && steady::now() < patience) {
      const pid_t got = ::waitpid(pid_, &status, WNOHANG);
      gone = got == pid_ || (got < 0 && errno != EINTR);
      if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (!gone) reap_and_describe(true);
    reaped_ = true;
  }
  if (pid_ > 0) controls_->remove(pid_);
  if (shm_) ::munmap(shm_, layout_.total);
  close_fd(shm_fd_);
}

}  // namespace edgert::exec
