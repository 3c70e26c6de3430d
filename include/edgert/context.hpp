// edgert::Context: the root object. It owns the actor system, every device actor and every
// lease taken through it; releasing it (release() or the destructor) frees all of them.
//
// Thread-safety: every member function of Context and Connection may be called from any
// thread, concurrently. Each blocking call waits at most ContextOptions::request_timeout
// (or the timeout it is given) and then throws Timeout.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "edgert/device.hpp"
#include "edgert/model.hpp"
#include "edgert/model_instance.hpp"
#include "edgert/runner.hpp"
#include "edgert/errors.hpp"
#include "edgert/sim_control.hpp"

namespace edgert {

/// How the actor system schedules work. The defaults suit a 2-core board: the "sharing"
/// policy wakes a worker at once for work arriving from outside the actor system (the
/// "stealing" policy's moderate polling adds ~100 us to every such request) and idles at
/// no CPU cost. Overridden by EDGERT_SCHEDULER_POLICY / EDGERT_SCHEDULER_THREADS /
/// EDGERT_SCHEDULER_MAX_THROUGHPUT when those are set.
struct SchedulerOptions {
  std::string policy = "sharing";  // "sharing" or "stealing"
  unsigned threads = 0;            // 0: one per online core
  unsigned max_throughput = 100;   // messages an actor may handle per turn
};

struct ContextOptions {
  /// Which simulated boards exist (system grammar, docs/device-specs.md); empty means
  /// $EDGERT_SYSTEM, else "m2,pcie,devboard,sbc,duo,host".
  std::string system;
  /// Where board files live; empty means $EDGERT_BOARD_CONFIGS, else the board_configs
  /// shipped beside the edgert binaries.
  std::string board_config_dir;
  /// Where leases and shared board state live; empty means $EDGERT_RUNTIME_DIR, else
  /// $XDG_RUNTIME_DIR/edgert, else /tmp/edgert-<uid>.
  std::string runtime_dir;
  SchedulerOptions scheduler;
  /// The longest any single call waits for the runtime to answer.
  std::chrono::milliseconds request_timeout{10000};
  /// Simulated boards run on a virtual clock that only Context::sim() moves (SimControl::
  /// advance), with virtual_time job pacing: deterministic and far faster than real time.
  /// Their settings then live in this process only; leases stay shared across processes.
  bool virtual_time = false;
};

class Context;
struct context_core;

/// An exclusive lease on sub-devices of one device, held until release() or destruction.
/// Other processes (and other Contexts) get DeviceInUse naming this process meanwhile.
class Connection {
 public:
  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  const std::string& device() const noexcept { return device_; }
  const std::vector<unsigned>& sub_devices() const noexcept { return sub_devices_; }
  bool released() const noexcept { return lease_id_ == 0; }
  /// Frees the lease. Idempotent; a no-op once the Context is released.
  void release();

  /// Loads `model` onto this connection's sub-devices (all, or options.num_sub_devices).
  /// Throws InvalidArgument (bad options, dynamic shapes), OutOfMemory (does not fit the
  /// device), Closed (connection released).
  ModelInstance load_model_instance(const Model& model, ModelInstanceOptions options = {});

 private:
  friend class Context;
  Connection(std::shared_ptr<context_core> core, std::string device,
             std::vector<unsigned> sub_devices, std::uint64_t lease_id);

  std::shared_ptr<context_core> core_;
  std::string device_;
  std::vector<unsigned> sub_devices_;
  std::uint64_t lease_id_ = 0;
};

class Context {
 public:
  /// Builds the system of boards and starts the runtime. Throws InvalidArgument (bad
  /// system spec or options), InvalidConfiguration (bad board file, with file and line),
  /// IoError (unreadable board directory or runtime directory).
  explicit Context(ContextOptions options = {});
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  /// Every device, with its leases filled in (in_use / in_use_by), across processes.
  std::vector<DeviceInfo> list_devices();
  DeviceInfo device_info(const std::string& device);

  /// Applies settings. True when they took effect at once, false when pending: poll
  /// device_ready() or wait with wait_device_ready(). Throws InvalidConfiguration for an
  /// unknown key or a value the board does not allow, NotImplemented on the host device.
  bool configure_device(const std::string& device, const DeviceSettings& settings);
  /// Polls the device once: true when no configuration is pending.
  bool device_ready(const std::string& device);
  /// Waits until the pending configuration settles: true when it did, false on timeout.
  bool wait_device_ready(const std::string& device, std::chrono::milliseconds timeout);
  DeviceConfiguration read_device_configuration(const std::string& device);
  /// Returns the board to its defaults; brings a faulted device back to ready.
  void reset_device(const std::string& device);
  /// The device's health now: its state (faulted, recovering, ...), the fault and the
  /// last fault, recoveries completed, and each sub-device's health (ok, degraded, hung,
  /// faulted, with the reason).
  DeviceHealth device_health(const std::string& device);

  /// Leases `num_sub_devices` free sub-devices of `device`, or exactly the sub-devices a
  /// "dev:X:Y" / "dev:X:Y-Z" name lists (then num_sub_devices must be 0 or match).
  /// Throws DeviceInUse naming the holder when they are taken.
  Connection device_connect(const std::string& device, unsigned num_sub_devices = 1);

  /// Loads an ONNX model (and the manifest.json beside it, if any). Throws InvalidArgument
  /// for a missing, truncated or malformed file, NotImplemented naming unsupported ops.
  Model load_model(const std::filesystem::path& path);
  /// Loads a serialised ONNX model; external data is looked up under `base_dir`.
  Model load_model_from_bytes(const std::string& bytes, const std::filesystem::path& base_dir = {});

  /// Serves `model` on options.device with options.worker_num execution units (leasing
  /// that many sub-devices until the Runner closes). Throws InvalidArgument (bad options or
  /// device spec, dynamic input shapes), DeviceInUse, OutOfMemory (does not fit the device).
  Runner create_runner(const Model& model, RunnerOptions options = {});
  /// The same for streaming through a bounded queue.
  Queue create_queue(const Model& model, QueueOptions options = {});

  /// The simulator's control: fault injection on simulated boards and, for a context
  /// created with ContextOptions::virtual_time, the simulated clock. Calls on a device
  /// that is not simulated throw NotImplemented.
  SimControl sim();

  /// Frees every lease and stops every actor. Idempotent; later calls throw Closed.
  void release();
  bool released() const noexcept;

 private:
  std::shared_ptr<context_core> core_;
};

}  // namespace edgert
