// execution_units: builds the supervised execution units of one served model: a plan
// runner per unit on the host device, a board runner (driver jobs under a watchdog,
// attach and recovery through the device actor) per unit on a board, each wrapped in a
// supervised_runner sharing the model's instance_supervisor (actors/exec/supervisor.hpp).
//
// Ownership: the runners go to the serving core's service; the supervisor is kept in
// serving.supervisor as well, for health(). Called once, while the serving core is built.
#pragma once

#include <memory>
#include <vector>

#include "actors/exec/job_runner.hpp"
#include "api/serving_core.hpp"
#include "engine/plan.hpp"

namespace edgert {

/// `units` runners; unit i runs on sub_devices[i % size]. Sets serving.supervisor. Throws
/// like the facade (e.g. DeviceFault when the board is out of service and the recovery
/// policy is reject, or it does not recover in time).
std::vector<std::unique_ptr<exec::job_runner>> build_execution_units(
    serving_core& serving, const std::shared_ptr<const engine::plan>& plan,
    const DeviceInfo& device, const std::vector<unsigned>& sub_devices, std::size_t units,
    const serving_options& options);

/// The public view of a supervisor's health.
InstanceHealth to_public(const exec::instance_health& h);

}  // namespace edgert
