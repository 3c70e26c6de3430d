#include "sim/clock.hpp"

namespace edgert::sim {

// steady_clock is CLOCK_MONOTONIC on Linux: one time line for every process since boot,
// which lets a pending configuration written by one process settle in another.
sim_time real_clock::now() const {
  return std::chrono::duration_cast<sim_time>(
      std::chrono::steady_clock::now().time_since_epoch());
}

std::shared_ptr<sim_clock> make_real_clock() { return std::make_shared<real_clock>(); }

}  // namespace edgert::sim
