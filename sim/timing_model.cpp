// timing_model: the device-time formula of sim/timing_model.hpp. Pure functions; no state.
#include "sim/timing_model.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "sim/board.hpp"

namespace edgert::sim {

namespace {

// Durations beyond this (about 31 years) are refused rather than risk overflowing the
// sum of the parts in nanoseconds.
constexpr long double max_part_ns = 1e18L;

result<sim_duration> to_duration(long double ns, const char* part) {
  if (!(ns >= 0) || ns > max_part_ns) {
    return fail(errc::invalid_argument,
                std::string("the job's ") + part + " time is too large to simulate");
  }
  return sim_duration(static_cast<std::int64_t>(std::llround(static_cast<double>(ns))));
}

}  // namespace

result<device_time_breakdown> estimate_device_time(const board_config& config,
                                                   const std::vector<core_rate>& cores,
                                                   const job_cost& cost) {
  if (cores.empty()) {
    return fail(errc::invalid_argument, "a job needs at least one sub-device to run on");
  }
  // Lockstep: the slowest core of the group sets the pace of every core.
  long double slowest_hz = 0;
  for (std::size_t i = 0; i < cores.size(); ++i) {
    const core_rate& core = cores[i];
    if (core.mvm_utilisation_pct < 1 || core.mvm_utilisation_pct > 100) {
      return fail(errc::invalid_argument,
                  "mvm utilisation " + std::to_string(core.mvm_utilisation_pct) +
                      "% is outside 1..100");
    }
    if (!(core.slowdown > 0) || !std::isfinite(core.slowdown)) {
      return fail(errc::invalid_argument, "a core's slowdown must be a positive number");
    }
    const long double hz = static_cast<long double>(core.clock_mhz) * 1e6L *
                           (core.mvm_utilisation_pct / 100.0L) / core.slowdown;
    slowest_hz = (i == 0) ? hz : std::min(slowest_hz, hz);
  }

  device_time_breakdown out;
  if (cost.macs > 0) {
    const long double macs_per_second = static_cast<long double>(config.macs_per_cycle_per_core) *
                                        static_cast<long double>(cores.size()) * slowest_hz;
    if (!(macs_per_second > 0)) {
      return fail(errc::invalid_configuration,
                  "board " + config.kind + " has no compute rate (clock or MACs per cycle is 0)");
    }
    auto compute = to_duration(static_cast<long double>(cost.macs) * 1e9L / macs_per_second,
                               "compute");
    if (!compute) return compute.error();
    out.compute = *compute;
  }

  const long double bytes =
      static_cast<long double>(cost.input_bytes) + static_cast<long double>(cost.output_bytes);
  if (bytes > 0) {
    if (!(config.dma_bandwidth_bytes_per_second > 0)) {
      return fail(errc::invalid_configuration,
                  "board " + config.kind + " has no DMA bandwidth to move the job's data");
    }
    auto transfer = to_duration(bytes * 1e9L / config.dma_bandwidth_bytes_per_second, "transfer");
    if (!transfer) return transfer.error();
    out.transfer = *transfer;
  }

  const int transfers = (cost.input_bytes > 0 ? 1 : 0) + (cost.output_bytes > 0 ? 1 : 0);
  out.fixed = config.dma_latency * transfers + config.job_launch_cost;
  return out;
}

result<std::vector<core_rate>> applied_core_rates(const board& b,
                                                  const std::vector<unsigned>& sub_devices) {
  const board_settings& settings = b.applied_settings();
  std::vector<core_rate> rates;
  rates.reserve(sub_devices.size());
  for (unsigned sub_device : sub_devices) {
    if (sub_device >= settings.cores.size()) {
      return fail(errc::invalid_argument, "sub-device " + std::to_string(sub_device) +
                                              " is beyond board " + b.config().kind + " (" +
                                              std::to_string(settings.cores.size()) +
                                              " sub-devices)");
    }
    core_rate rate;
    rate.clock_mhz = settings.cores[sub_device].clock_mhz;
    rate.mvm_utilisation_pct = settings.cores[sub_device].mvm_utilisation_pct;
    rates.push_back(rate);
  }
  return rates;
}

}  // namespace edgert::sim
