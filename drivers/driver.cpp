// Defaults of the driver interface for drivers without jobs, health or fault injection:
// each answers not_implemented and says which driver and what is missing.
#include "drivers/driver.hpp"

namespace edgert {

std::string_view to_string(health_state state) noexcept {
  switch (state) {
    case health_state::ok: return "ok";
    case health_state::degraded: return "degraded";
    case health_state::hung: return "hung";
    case health_state::faulted: return "faulted";
  }
  return "unknown";
}

std::chrono::nanoseconds driver::board_time() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::steady_clock::now().time_since_epoch());
}

result<job_id> driver::launch_job(const job_request&) {
  return fail(errc::not_implemented, "driver " + name() + " does not execute jobs");
}

result<job_status> driver::poll_job(job_id id) {
  return fail(errc::not_implemented, "driver " + name() + " does not execute jobs, so it has no job " +
                                         std::to_string(id));
}

result<void> driver::release_job(job_id id) {
  return fail(errc::not_implemented, "driver " + name() + " does not execute jobs, so it has no job " +
                                         std::to_string(id));
}

result<std::vector<core_health>> driver::read_health() {
  return fail(errc::not_implemented, "driver " + name() + " does not report sub-device health");
}

result<void> driver::inject_fault(const sim::fault& f) {
  return fail(errc::not_implemented, "driver " + name() + " cannot simulate a " +
                                         std::string(sim::to_string(f.kind)) + " fault");
}

result<void> driver::install_faults(const sim::fault_script&) {
  return fail(errc::not_implemented, "driver " + name() + " does not support fault injection");
}

}  // namespace edgert
