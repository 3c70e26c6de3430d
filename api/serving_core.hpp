// serving_core: what a Runner, a Submitter/Receiver pair or a ModelInstance share: the
// model, the lease on the sub-devices it runs on, and the data-path service (slots, rings,
// worker threads).
//
// Ownership and threads: shared by the public handles; the last one to go closes the
// service (completing everything in flight) before the lease is released, and keeps the
// Context's core alive until then. Members are set once at creation; any thread may use
// the service.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/exec/service.hpp"
#include "actors/exec/supervisor.hpp"
#include "api/model_core.hpp"
#include "edgert/context.hpp"
#include "edgert/runner.hpp"

namespace edgert {

struct context_core;
namespace exec {
class worker_controls;
}

struct serving_options {
  std::string device;
  unsigned worker_num = 1;
  unsigned batch_size = 1;
  unsigned threads = 1;
  std::size_t slot_count = 0;
  std::size_t max_queued = 0;
  exec::overflow_policy overflow = exec::overflow_policy::block;
  std::chrono::milliseconds timeout{60000};
  SupervisionOptions supervision;  // watchdog, restart budget, recovery policy
  /// Profiling asked for by the caller (exec::span_group bits; 0: only EDGERT_PROFILE turns
  /// it on), written to profile_file (empty: EDGERT_PROFILE, else "edgert-profile.json").
  unsigned profile_spans = 0;
  std::string profile_file;
};

struct serving_core {
  std::shared_ptr<context_core> context;
  std::shared_ptr<const model_core> model;
  std::vector<TensorInfo> inputs;   // batch applied
  std::vector<TensorInfo> outputs;
  std::chrono::milliseconds timeout{60000};
  std::optional<Connection> connection;     // the leased sub-devices
  /// Restart budget and health of the execution units (shared with their runners).
  std::shared_ptr<exec::instance_supervisor> supervisor;
  /// Process isolation only: crash injection and worker pids (SimControl), and the io
  /// actor system the units' worker connections use (outlives the service's runners).
  std::shared_ptr<exec::worker_controls> workers;
  std::unique_ptr<exec::service> service;   // declared last: closed first

  ~serving_core();

  /// Checks inputs against the model (count, dtype, shape, data) with clear errors.
  void check_inputs(const std::vector<Tensor>& given) const;
  void check_outputs(const std::vector<Tensor>& given) const;
  /// Acquires a slot (throws per the overflow policy) and copies `given` into it.
  exec::slot_id fill(const std::vector<Tensor>& given);
  /// The completed request in `id`, with outputs copied out (or the error).
  RunResult collect(exec::slot_id id);
  exec::clock::time_point deadline() const { return exec::clock::now() + timeout; }
};

/// Leases the sub-devices, compiles the plan and starts the workers. Throws like the facade.
std::shared_ptr<serving_core> start_serving(Context& context,
                                            std::shared_ptr<context_core> core,
                                            std::shared_ptr<const model_core> model,
                                            const serving_options& options);

/// The same on sub-devices already leased (a Connection's): `units` execution units, unit
/// i on sub_devices[i % size]. On the host device units compute on their worker threads;
/// on a board they send jobs to its driver actor. options.device and worker_num are ignored.
std::shared_ptr<serving_core> serve_on(std::shared_ptr<context_core> core,
                                       std::shared_ptr<const model_core> model,
                                       const DeviceInfo& device,
                                       const std::vector<unsigned>& sub_devices, std::size_t units,
                                       const serving_options& options);

}  // namespace edgert
