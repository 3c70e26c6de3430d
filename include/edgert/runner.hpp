// Runner and Queue: serving a Model on a device.
//
// A Runner is for request/response use: run() blocks, run_async() returns a future or calls
// back; any number of threads may have runs in flight. A Queue is for streaming: a
// Submitter feeds inputs (with a user context), a Receiver takes results as they complete,
// possibly out of order, each exactly once.
//
// Both run on `worker_num` execution units of the device named by `device` (a device spec,
// see docs/device-specs.md; default "host"): each unit is a worker thread with its own
// compiled plan and arena, bound to a sub-device. Requests travel in preallocated slots over
// lock-free rings; the sizes below bound memory, and nothing waits without a deadline.
//
// Ownership and threads: Runner, Submitter and Receiver are handles that keep their serving
// machinery alive; every member may be called from any thread. close() (or destroying the
// last handle) stops intake and completes everything in flight, with a result or an error.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgert/errors.hpp"
#include "edgert/tensor.hpp"

namespace edgert {

struct serving_core;

/// What a request that arrives while its device recovers from a fault does.
enum class RecoveryPolicy {
  wait,    // waits (at most SupervisionOptions::recovery_timeout) for the device to be ready
  reject,  // fails at once with DeviceFault
};

/// Supervision of a served model's execution units (README, "Fault model and recovery").
struct SupervisionOptions {
  /// Execution watchdog of every job on a board, measured on the board's clock. Zero:
  /// automatic, max(10 x the job's modelled device time, watchdog_floor). A job past it
  /// fails with Timeout, its sub-device is reported hung and the device recovers (reset).
  std::chrono::milliseconds watchdog{0};
  std::chrono::milliseconds watchdog_floor{1000};
  /// An execution unit whose job fails through its own fault (fails on the device, throws,
  /// times out) is restarted; after max_restarts restarts within restart_window, the next
  /// such failure marks the model failed, and every later request fails at once.
  unsigned max_restarts = 5;
  std::chrono::milliseconds restart_window{std::chrono::seconds(60)};
  RecoveryPolicy recovery_policy = RecoveryPolicy::wait;
  /// The longest a request waits for a recovering device under RecoveryPolicy::wait.
  std::chrono::milliseconds recovery_timeout{std::chrono::seconds(10)};
  /// Each execution unit computes in a worker process of its own (the edgert-worker
  /// executable, found through $EDGERT_WORKER, beside the program, or in the build tree),
  /// reached over loopback. A crash of the model's code, even a segfault, kills only that
  /// worker: the job in flight fails at once with DeviceFault naming the process and
  /// signal, and the unit restarts with a new worker (a restart within the budget above).
  /// A worker whose job outlives its real-time watchdog (`watchdog` when set, else
  /// max(watchdog_floor, 10 x the unit's slowest job so far)) is killed: Timeout.
  /// Costs a copy of every tensor into shared memory and a loopback round trip per job
  /// (README, "Fault model and recovery"). Loading fails with InvalidConfiguration when the
  /// worker executable is missing.
  bool process_isolation = false;
};

/// The supervision state of a served model.
enum class InstanceState {
  ok,          // serving
  restarting,  // an execution unit is being rebuilt after a failure
  failed,      // the restart budget is spent: every request fails at once (reason says why)
};
std::string_view to_string(InstanceState s) noexcept;

struct InstanceHealth {
  InstanceState state = InstanceState::ok;
  /// failed: why; otherwise the last failure that cost a restart (empty if none yet).
  std::string reason;
  unsigned restarts_in_window = 0;  // restarts within the last restart_window
  std::uint64_t restarts_total = 0;  // since the model was loaded
  unsigned max_restarts = 0;         // the budget per window
  bool ok() const noexcept { return state == InstanceState::ok; }
};

struct RunnerOptions {
  std::string device = "host";  // device spec: "host", "dev:0", "dev:0:1", "m2", ...
  unsigned worker_num = 1;      // execution units (each on its own sub-device)
  unsigned batch_size = 1;      // multiplies the first dimension of every input and output
  unsigned threads = 1;         // compute threads per execution unit (host device)
  unsigned max_in_flight = 64;  // request slots; run() blocks while all are taken
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};  // bound of every wait
  SupervisionOptions supervision;
};

/// The outcome of one request.
struct RunResult {
  errc code = errc::ok;
  std::string message;          // why it failed; empty on success
  std::vector<Tensor> outputs;  // on success, one per model output
  std::uint64_t device_time_ns = 0;
  bool ok() const noexcept { return code == errc::ok; }
  /// Throws the error's exception when the request failed.
  std::vector<Tensor>& value();
};

class Runner {
 public:
  /// Runs one request and returns its outputs. Throws InvalidArgument (inputs do not
  /// match the model: count, dtype, shape, null data), Closed, Timeout, DeviceFault, ...
  std::vector<Tensor> run(const std::vector<Tensor>& inputs);
  /// Same, writing into the caller's output tensors (shapes and dtypes must match).
  void run(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs);
  /// Starts a request; the future holds its result (failures as RunResult::code).
  /// Input validation errors throw here, before anything is queued.
  std::future<RunResult> run_async(const std::vector<Tensor>& inputs);
  /// Starts a request; `done` runs on a worker thread once it completes. It must not block.
  void run_async(const std::vector<Tensor>& inputs, std::function<void(RunResult)> done);

  /// Stops intake and waits until everything in flight completed or the timeout passed;
  /// true when it finished in time (otherwise what had not started failed with Closed).
  bool close(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  bool closed() const;
  /// Supervision state: ok, restarting, or failed with the reason; restarts used.
  InstanceHealth health() const;

  const std::vector<TensorInfo>& inputs() const;   // batch_size applied
  const std::vector<TensorInfo>& outputs() const;

 private:
  friend class Context;
  friend class SimControl;  // crash_worker(), worker_pids()
  explicit Runner(std::shared_ptr<serving_core> core) : core_(std::move(core)) {}
  std::shared_ptr<serving_core> core_;
};

enum class Overflow { block, reject, drop_oldest };

struct QueueOptions {
  std::string device = "host";
  unsigned worker_num = 1;
  unsigned batch_size = 1;
  unsigned threads = 1;
  unsigned input_queue_size = 16;   // requests submitted and not yet running
  unsigned output_queue_size = 16;  // results completed and not yet received
  Overflow overflow = Overflow::block;
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};  // bound of a blocked submit
  SupervisionOptions supervision;
};

/// A request's input buffers inside the queue, to be filled in place (no copy on submit).
class InputSlot {
 public:
  InputSlot() = default;
  InputSlot(InputSlot&&) noexcept;
  InputSlot& operator=(InputSlot&&) noexcept;
  ~InputSlot();  // gives an unsubmitted slot back
  std::vector<Tensor>& tensors() noexcept { return tensors_; }
  Tensor& operator[](std::size_t i) { return tensors_.at(i); }

 private:
  friend class Submitter;
  std::shared_ptr<serving_core> core_;
  std::uint32_t slot_ = 0;
  bool held_ = false;
  std::vector<Tensor> tensors_;  // views of the slot's buffers
};

class Submitter {
 public:
  /// Input buffers to write into (zero copies); applies the overflow policy.
  InputSlot allocate();
  /// Submits a filled slot with a context the Receiver gets back.
  void submit(InputSlot&& slot, std::uint64_t context);
  /// Copies `inputs` into a slot and submits it.
  void submit(const std::vector<Tensor>& inputs, std::uint64_t context);
  /// No more submissions; the Receiver's iteration ends after the last result.
  void close();
  /// The queue's supervision state (as Runner::health()).
  InstanceHealth health() const;

 private:
  friend class Context;
  friend class SimControl;  // crash_worker(), worker_pids()
  explicit Submitter(std::shared_ptr<serving_core> core) : core_(std::move(core)) {}
  std::shared_ptr<serving_core> core_;
};

struct Received {
  std::uint64_t context = 0;
  RunResult result;
};

class Receiver {
 public:
  /// The next completed request. Throws Timeout when none completes in time, Closed when
  /// the Submitter closed and every result was received.
  Received recv(std::chrono::milliseconds timeout);
  /// Like recv(), but empty instead of Closed at the end.
  std::optional<Received> next(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  /// Like recv(), but with zero copies: the outputs view the request's slot, which goes
  /// back to the queue when the last copy of those tensors is destroyed (on any thread).
  /// Results held this way hold queue capacity: once every slot is held, submissions wait.
  Received recv_view(std::chrono::milliseconds timeout);
  /// Stops the queue: what has not run fails with Closed (and is still received).
  void close();

 private:
  friend class Context;
  explicit Receiver(std::shared_ptr<serving_core> core) : core_(std::move(core)) {}
  std::shared_ptr<serving_core> core_;
};

struct Queue {
  Submitter submitter;
  Receiver receiver;
  InstanceHealth health() const { return submitter.health(); }
};

}  // namespace edgert
