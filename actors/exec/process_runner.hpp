// process_runner: a job runner that computes in a worker process of its own (the
// edgert-worker executable, tools/edgert_worker), reached through CAF's io module on
// loopback, so a crash of the model's code (even a segfault) takes down only that worker.
//
// A job: the inputs are copied into a shared-memory region the worker inherited, one
// message starts the job, and the runner waits on a scoped_actor for the answer while it
// also watches the worker: a down message for the remote actor, a poll (every 2 ms) of
// waitpid(WNOHANG) and of the job's real-time watchdog. A worker that dies fails the job
// at once with device_fault naming the instance, the process id and the signal; a job past
// its watchdog SIGKILLs the worker and fails with timeout. Either way the runner is dead
// from then on: its supervisor (supervised_runner, blame::unit) replaces it.
//
// Worker start: the worker is spawned (posix_spawn; region on fd 3, model bytes on fd 4
// when the model came as bytes, stdin the lifeline pipe, stdout the handshake pipe), then
// the runner waits for its published port and connects. With wait_ready, create() does
// all of it (a load fails when the worker cannot start). Otherwise (a restart) create()
// hands the spawn to a short-lived starter thread and returns at once, so the request
// whose failure caused the restart completes without waiting for it; the first job joins
// the starter and connects.
//
// Ownership and threads: a process_runner belongs to one worker thread of an inference
// service (or, inside a board runner, to the driver lane that computes its jobs) and is
// called from one thread at a time. It owns its worker process: the destructor closes
// the lifeline, waits up to 1 s for the worker to exit, then SIGKILLs it, and always
// reaps it. worker_controls is shared (shared_ptr) by a served model's runners, their
// factories and the serving core; it holds the process-wide io actor system, which so
// outlives every runner using it.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/exec/job_runner.hpp"
#include "actors/exec/worker_protocol.hpp"

namespace edgert::exec {

/// What one served model's process runners share: the io actor system (one per process,
/// created on first use and kept alive by every worker_controls), the crash-injection
/// counter, and the process ids of its live workers. Internally locked; any thread.
class worker_controls {
 public:
  /// Gets (or starts) the process-wide io actor system.
  static result<std::shared_ptr<worker_controls>> create();

  /// The next `count` jobs of this model crash their worker (fault injection).
  void crash_next(unsigned count) noexcept { crashes_.fetch_add(count); }
  /// The next `count` jobs of this model hang their worker (fault injection).
  void hang_next(unsigned count) noexcept { hangs_.fetch_add(count); }
  /// Takes one pending injected fault (crashes first) for the job about to start.
  worker_fault take_fault() noexcept;
  /// The live workers, in start order.
  std::vector<pid_t> pids() const;

  caf::actor_system& system() const noexcept { return *system_; }

 private:
  friend class process_runner;
  void add(pid_t pid);
  void remove(pid_t pid);

  std::shared_ptr<caf::actor_system> system_;
  std::atomic<unsigned> crashes_{0};
  std::atomic<unsigned> hangs_{0};
  mutable std::mutex mutex_;
  std::vector<pid_t> pids_;
};

/// What a worker process serves.
struct worker_spec {
  std::string instance;              // names the instance in messages: "mnist on host"
  std::filesystem::path executable;  // edgert-worker
  std::filesystem::path model_file;  // the model, as a file ...
  std::shared_ptr<const std::string> model_bytes;  // ... or as bytes (then model_file empty)
  std::filesystem::path base_dir;    // external data of a model given as bytes
  unsigned threads = 1;              // compute threads of the plan
  unsigned batch = 1;
  std::vector<std::size_t> input_bytes, output_bytes;  // per job, batch applied
  std::chrono::milliseconds start_timeout{30000};       // until the worker is published
  /// Real-time watchdog of a job; zero: max(watchdog_floor, 10 x the slowest job so far).
  std::chrono::nanoseconds watchdog{0};
  std::chrono::nanoseconds watchdog_floor{std::chrono::seconds(1)};
};

/// The edgert-worker executable: $EDGERT_WORKER when set, else beside this program's
/// executable, else in the build tree this library was built in. invalid_configuration
/// naming every place it looked when none is executable.
result<std::filesystem::path> find_worker_executable();

class process_runner final : public job_runner {
 public:
  /// Starts the worker; with `wait_ready` also waits for it to be published and connects.
  static result<std::unique_ptr<process_runner>> create(const worker_spec& spec,
                                                        std::shared_ptr<worker_controls> controls,
                                                        bool wait_ready);
  ~process_runner() override;
  process_runner(const process_runner&) = delete;
  process_runner& operator=(const process_runner&) = delete;

  result<job_report> run(const std::vector<const void*>& inputs,
                         const std::vector<void*>& outputs) override;

  bool usable() const noexcept override { return !dead_; }
  pid_t pid() const noexcept { return pid_; }

 private:
  process_runner(const worker_spec& spec, std::shared_ptr<worker_controls> controls);
  result<void> spawn();
  /// Joins the starter thread, if any, and says whether the spawn worked.
  result<void> spawned();
  /// Reads the worker's port and connects (once).
  result<void> connect();
  /// The worker died or was killed: reaps it and says how it ended.
  std::string reap_and_describe(bool kill_first);
  failure die(errc code, const std::string& message);

  worker_spec spec_;
  shm_layout layout_;
  std::shared_ptr<worker_controls> controls_;  // before self_ and worker_: outlives them
  pid_t pid_ = -1;
  std::string worker_name_;  // "worker process PID of INSTANCE", for messages; set at connect
  bool reaped_ = false;
  bool dead_ = false;  // a failed runner is never reused
  int lifeline_ = -1;  // write end of the worker's stdin
  int handshake_ = -1;  // read end of the worker's stdout, until connected
  int shm_fd_ = -1;
  void* shm_ = nullptr;
  std::uint64_t seq_ = 0;
  std::uint64_t key_ = 0;  // every job message carries it (worker_protocol.hpp)
  std::uint64_t slowest_ns_ = 0;
  std::thread starter_;              // runs spawn() for a restarted runner
  result<void> spawn_outcome_;       // written by the starter before it ends
  struct remote;                    // the CAF handles (process_runner.cpp)
  std::unique_ptr<remote> remote_;  // null until connected
};

}  // namespace edgert::exec
