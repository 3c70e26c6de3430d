#include "api/execution_units.hpp"

#include <filesystem>
#include <functional>

#include "actors/exec/board_runner.hpp"
#include "actors/exec/plan_runner.hpp"
#include "actors/exec/process_runner.hpp"
#include "api/context_core.hpp"
#include "api/unwrap.hpp"

namespace edgert {

namespace {

using unit_pointer = std::unique_ptr<exec::job_runner>;

std::chrono::nanoseconds recovery_wait(const SupervisionOptions& s) {
  if (s.recovery_policy == RecoveryPolicy::reject) return std::chrono::nanoseconds::zero();
  return s.recovery_timeout;
}

void check_supervision(const SupervisionOptions& s) {
  if (s.watchdog < std::chrono::milliseconds::zero() ||
      s.watchdog_floor <= std::chrono::milliseconds::zero())
    throw InvalidArgument("supervision.watchdog must be 0 (automatic) or positive and "
                          "supervision.watchdog_floor positive");
  if (s.restart_window <= std::chrono::milliseconds::zero())
    throw InvalidArgument("supervision.restart_window must be positive");
  if (s.recovery_timeout < std::chrono::milliseconds::zero())
    throw InvalidArgument("supervision.recovery_timeout must not be negative");
}

// What a unit's worker process serves (process isolation): the model as loaded, the
// plan's thread count and batch, the job's tensor sizes, and the real-time watchdog.
exec::worker_spec worker_spec_for(const serving_core& serving, const std::string& name,
                                  const serving_options& options) {
  exec::worker_spec spec;
  spec.instance = name;
  spec.executable = unwrap(exec::find_worker_executable());
  const auto& model = *serving.model;
  if (model.source_bytes) {
    spec.model_bytes = model.source_bytes;
    spec.base_dir = model.base_dir;
  } else if (!model.info.path.empty()) {
    std::error_code ec;
    spec.model_file = std::filesystem::absolute(model.info.path, ec);
    if (ec) spec.model_file = model.info.path;
  } else {
    throw InvalidArgument(model.info.name + " cannot be served with process isolation: "
                          "it was not loaded from a file or from bytes");
  }
  spec.threads = options.threads;
  spec.batch = options.batch_size;
  for (auto& t : serving.inputs) spec.input_bytes.push_back(t.size_bytes());
  for (auto& t : serving.outputs) spec.output_bytes.push_back(t.size_bytes());
  spec.watchdog = options.supervision.watchdog;
  spec.watchdog_floor = options.supervision.watchdog_floor;
  return spec;
}

}  // namespace

InstanceHealth to_public(const exec::instance_health& h) {
  InstanceHealth out;
  switch (h.state) {
    case exec::instance_state::ok: out.state = InstanceState::ok; break;
    case exec::instance_state::restarting: out.state = InstanceState::restarting; break;
    case exec::instance_state::failed: out.state = InstanceState::failed; break;
  }
  out.reason = h.reason;
  out.restarts_in_window = h.restarts_in_window;
  out.restarts_total = h.restarts_total;
  out.max_restarts = h.max_restarts;
  return out;
}

std::vector<unit_pointer> build_execution_units(serving_core& serving,
                                                const std::shared_ptr<const engine::plan>& plan,
                                                const DeviceInfo& device,
                                                const std::vector<unsigned>& sub_devices,
                                                std::size_t units, const serving_options& options) {
  const auto& supervision = options.supervision;
  check_supervision(supervision);
  const std::string name = serving.model->info.name + " on " + device.name;
  exec::supervision_options budget;
  budget.max_restarts = supervision.max_restarts;
  budget.restart_window = supervision.restart_window;
  serving.supervisor = std::make_shared<exec::instance_supervisor>(name, budget);
  const unsigned batch = options.batch_size;
  std::vector<unit_pointer> runners;

  // The computation of a unit: the plan on the unit's own thread, or (process isolation)
  // in a worker process. A unit built at load waits for its worker to be ready, so a
  // worker that cannot start fails the load; a restarted unit's worker starts while the
  // failed request completes, and is connected at the unit's next job.
  std::function<result<unit_pointer>(bool)> compute;
  if (supervision.process_isolation) {
    serving.workers = unwrap(exec::worker_controls::create());
    compute = [spec = worker_spec_for(serving, name, options),
               controls = serving.workers](bool at_load) -> result<unit_pointer> {
      auto made = exec::process_runner::create(spec, controls, at_load);
      if (!made) return made.error();
      return unit_pointer(std::move(*made));
    };
  } else {
    compute = [plan, batch](bool) -> result<unit_pointer> {
      auto made = exec::plan_runner::create(plan, batch);
      if (!made) return made.error();
      return unit_pointer(std::move(*made));
    };
  }

  if (device.board_type == BoardType::host) {
    auto make = [compute]() { return compute(false); };
    for (std::size_t w = 0; w < units; ++w)
      runners.push_back(std::make_unique<exec::supervised_runner>(serving.supervisor, make,
                                                                  unwrap(compute(true))));
    return runners;
  }

  auto& context = *serving.context;
  auto device_handle = context.lookup(device.name).first;
  std::shared_ptr<const device_readiness> readiness;
  if (auto found = context.readiness.find(device.name); found != context.readiness.end())
    readiness = found->second;
  // Attach once at load: a device out of service fails the load per the recovery policy.
  const auto wait = recovery_wait(supervision);
  driver_actor driver;
  std::uint64_t epoch = 0;
  context.await_answer(
      device_handle,
      context.request_timeout + std::chrono::duration_cast<std::chrono::milliseconds>(wait),
      [&](driver_actor& d, std::uint64_t e) {
        driver = std::move(d);
        epoch = e;
      },
      attach_atom::value, std::chrono::duration_cast<caf::timespan>(wait));

  sim::job_cost cost;
  cost.macs = plan->cost().macs * batch;
  cost.input_bytes = plan->cost().input_bytes * batch;
  cost.output_bytes = plan->cost().output_bytes * batch;
  exec::board_unit_options unit_options;
  unit_options.watchdog.budget = supervision.watchdog;
  unit_options.watchdog.floor = supervision.watchdog_floor;
  unit_options.watchdog.owner = name;
  unit_options.recovery_wait = wait;
  caf::actor_system* system = context.system.get();
  for (std::size_t w = 0; w < units; ++w) {
    const unsigned sub = sub_devices[w % sub_devices.size()];
    // A restarted unit starts detached: it attaches (and so waits out a recovery) at its
    // first job.
    auto make = [=]() -> result<unit_pointer> {
      auto computes = compute(false);
      if (!computes) return computes.error();
      return unit_pointer(new exec::board_runner(*system, device_handle, readiness, driver_actor{},
                                                 0, {sub}, std::move(*computes), cost,
                                                 unit_options));
    };
    auto first = std::make_unique<exec::board_runner>(
        *system, device_handle, readiness, driver, epoch, std::vector<unsigned>{sub},
        unwrap(compute(true)), cost, unit_options);
    runners.push_back(
        std::make_unique<exec::supervised_runner>(serving.supervisor, make, std::move(first)));
  }
  return runners;
}

}  // namespace edgert
