#include "drivers/driver.hpp"

namespace edgert {

result<job_id> driver::launch_job(const job_request&) {
  return fail(errc::not_implemented,
              "driver " + name() + " does not execute jobs: model execution is not available yet");
}

result<job_state> driver::poll_job(job_id id) {
  return fail(errc::not_implemented, "driver " + name() + " has no job " + std::to_string(id) +
                                         ": model execution is not available yet");
}

}  // namespace edgert
