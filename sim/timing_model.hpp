// timing_model: how long a simulated board takes to run one job.
//
// The device time of a job on one sub-device, or on a fused group of sub-devices, is
//
//   compute   = MACs / (MACs per cycle per core x cores x utilisation x clock Hz / slowdown)
//   transfer  = (input bytes + output bytes) / DMA bandwidth
//   fixed     = DMA latency per transfer (input and output, each when it moves any bytes)
//               + the job launch cost
//   device time = compute + transfer + fixed
//
// A fused group runs in lockstep: the work is split evenly, so the group is as fast as
// its slowest core times the number of cores. Clock, utilisation and slowdown are per
// core; a thermal throttle lowers a core's clock and a slow-core fault raises its
// slowdown (see sim/fault_plan.hpp). Every figure but the job's cost comes from the
// board config and the board's applied settings: a pending configuration does not count
// until it has settled.
//
// Pure functions over plain values; any thread may call them.
#pragma once

#include <cstdint>
#include <vector>

#include "common/result.hpp"
#include "sim/board_config.hpp"
#include "sim/clock.hpp"

namespace edgert::sim {

class board;

/// What one job asks of the device.
struct job_cost {
  std::uint64_t macs = 0;          // multiply-accumulates the job performs
  std::uint64_t input_bytes = 0;   // copied host -> device before compute
  std::uint64_t output_bytes = 0;  // copied device -> host after compute
};

/// The speed of one core while it runs a job.
struct core_rate {
  unsigned clock_mhz = 0;              // effective clock (after any thermal throttle)
  unsigned mvm_utilisation_pct = 100;  // 1..100
  double slowdown = 1.0;               // > 0; 2 means the core computes at half speed
};

/// The parts of a device time; total() is what a job occupies its sub-devices for.
struct device_time_breakdown {
  sim_duration compute{0};
  sim_duration transfer{0};
  sim_duration fixed{0};  // DMA latencies and the launch cost
  sim_duration total() const { return compute + transfer + fixed; }
};

/// Device time of `cost` on the group of cores described by `cores` (one entry per core
/// of the group). Durations are rounded to the nearest nanosecond. Fails with
/// invalid_argument for an empty group, a utilisation outside 1..100 or a slowdown that
/// is not positive, with invalid_configuration when the job computes or transfers on a
/// board without a clock or DMA bandwidth, and with invalid_argument when the result
/// would be longer than about 31 years.
result<device_time_breakdown> estimate_device_time(const board_config& config,
                                                   const std::vector<core_rate>& cores,
                                                   const job_cost& cost);

/// The rates `sub_devices` of `b` run at under its applied settings, with no faults.
/// Fails with invalid_argument for a sub-device beyond the board.
result<std::vector<core_rate>> applied_core_rates(const board& b,
                                                  const std::vector<unsigned>& sub_devices);

}  // namespace edgert::sim
