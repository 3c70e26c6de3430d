// ModelInstance: a model loaded onto the sub-devices of a Connection, with the lowest-level
// execution API: synchronous run(), and schedule() with sequence ids, completion polling,
// completion file descriptors and an error tracker (after AWS Neuron's async API).
//
// Sequence ids: 64 bits; the top 16 are the instance's execution-unit id, the low 48 a
// sequence strictly increasing per instance, so ids order the requests of an instance.
//
// Ownership and threads: a ModelInstance is a move-only handle; its outputs for schedule()
// are written into the caller's tensors, which must stay alive and untouched until the id
// completes. Every member may be called from any thread. Destroying the instance (or
// close()) completes everything in flight first.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "edgert/errc.hpp"
#include "edgert/runner.hpp"
#include "edgert/tensor.hpp"

namespace edgert {

struct ModelInstanceOptions {
  unsigned num_sub_devices = 0;  // sub-devices of the connection to use; 0 = all of them
  unsigned aipu_cores = 0;       // cores per sub-device to use; 0 = all (informational on sim)
  bool double_buffer = true;     // two jobs in flight per sub-device
  bool input_dmabuf = false;     // inputs are given as file descriptors (run_fds)
  bool output_dmabuf = false;    // outputs are given as file descriptors (run_fds)
  /// Profiling (a Chrome-trace JSON file, written when the instance closes): device_profiling
  /// records each job's host-to-device, execute (with the device's time) and device-to-host
  /// spans; host_profiling its submit, queue-wait and receive spans.
  bool device_profiling = false;
  bool host_profiling = false;
  std::string profile_file;      // empty: $EDGERT_PROFILE, else edgert-profile.json here
  unsigned num_runtimes = 4;     // request slots; schedule()/run() block while all are busy
  unsigned threads = 1;          // compute threads per execution unit (host device)
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
  SupervisionOptions supervision;  // watchdog, restart budget, recovery policy
};

/// One failed scheduled request.
struct ScheduledError {
  std::uint64_t id = 0;
  errc code = errc::ok;
  std::string message;
};

class ModelInstance {
 public:
  ModelInstance(ModelInstance&&) noexcept;
  ModelInstance& operator=(ModelInstance&&) noexcept;
  ~ModelInstance();

  /// Runs once; outputs are written into `outputs` (dtype and shape must match).
  void run(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs);
  /// The same with buffers passed as file descriptors (memfd, dma-buf), mapped per call;
  /// each fd must be at least as large as its tensor. Needs input_dmabuf / output_dmabuf.
  void run_fds(const std::vector<int>& input_fds, const std::vector<int>& output_fds);

  /// Starts a request and returns its sequence id; outputs land in `outputs` on completion.
  std::uint64_t schedule(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs);
  /// True once the request finished (successfully or not). InvalidArgument for an id
  /// this instance never issued.
  bool is_completed(std::uint64_t id) const;
  /// A new file descriptor that becomes readable (an eventfd counting 1) when the request
  /// completes; already readable if it has. The caller closes it.
  int completion_fd(std::uint64_t id);
  /// Blocks until the request completes or the timeout passes; false on timeout.
  bool wait(std::uint64_t id, std::chrono::milliseconds timeout);
  /// Failed scheduled requests since the last call, oldest first; the tracker keeps at most
  /// 1024 entries (then the oldest go, and `dropped_errors()` counts them).
  std::vector<ScheduledError> take_errors();
  std::uint64_t dropped_errors() const;

  const std::vector<TensorInfo>& inputs() const;
  const std::vector<TensorInfo>& outputs() const;
  /// Completes everything in flight (or fails what has not started by the timeout).
  bool close(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Supervision state: ok, restarting, or failed with the reason; restarts used.
  InstanceHealth health() const;

 private:
  friend class Connection;
  struct state;
  explicit ModelInstance(std::shared_ptr<state> s);
  std::shared_ptr<state> state_;
};

}  // namespace edgert
