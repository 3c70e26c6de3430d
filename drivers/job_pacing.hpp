// job_pacing: how a simulated board turns device time into completion of jobs.
//
//   virtual_time  launch_job() runs the job's compute synchronously; the job is done once
//                 the board's clock (virtual in tests) reaches its start + device time.
//                 Jobs on one sub-device run back to back in device time, so a job
//                 launched while its sub-device is busy queues until the previous one
//                 ends. Deterministic; the default on a virtual clock.
//   paced         compute runs on a worker thread (one per sub-device); the job is done
//                 when its compute has finished and no earlier than its start + device
//                 time on the board's clock, with the same queueing as virtual_time. The
//                 default on a real clock.
//   fast          compute runs on a worker thread and the job is done as soon as it has
//                 finished; device time is still computed and reported, but not waited for.
//
// The environment variable EDGERT_SIM_PACING=virtual|paced|fast chooses the mode of every
// simulated board whose driver was not given one explicitly. The host driver always runs
// jobs as fast, with the measured compute time as device time.
#pragma once

#include <optional>
#include <string_view>

#include "common/result.hpp"

namespace edgert {

enum class pacing_mode { virtual_time, paced, fast };

/// "virtual", "paced" or "fast" (the spelling EDGERT_SIM_PACING uses).
std::string_view to_string(pacing_mode mode) noexcept;
/// Parses "virtual", "paced" or "fast"; invalid_configuration otherwise.
result<pacing_mode> parse_pacing_mode(std::string_view text);

/// The name of the environment variable: "EDGERT_SIM_PACING".
inline constexpr const char* pacing_environment_variable = "EDGERT_SIM_PACING";

/// The mode EDGERT_SIM_PACING asks for: none when it is unset or empty,
/// invalid_configuration (naming the variable and the valid values) when it is set to
/// anything else. Reads the environment; call it from one thread at a time with setenv().
result<std::optional<pacing_mode>> pacing_from_environment();

}  // namespace edgert
