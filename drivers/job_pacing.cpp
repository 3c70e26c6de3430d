// job_pacing: names of the pacing modes and the EDGERT_SIM_PACING environment variable.
#include "drivers/job_pacing.hpp"

#include <cstdlib>
#include <string>

namespace edgert {

std::string_view to_string(pacing_mode mode) noexcept {
  switch (mode) {
    case pacing_mode::virtual_time: return "virtual";
    case pacing_mode::paced: return "paced";
    case pacing_mode::fast: return "fast";
  }
  return "unknown";
}

result<pacing_mode> parse_pacing_mode(std::string_view text) {
  for (pacing_mode mode : {pacing_mode::virtual_time, pacing_mode::paced, pacing_mode::fast}) {
    if (text == to_string(mode)) return mode;
  }
  return fail(errc::invalid_configuration,
              "unknown pacing mode '" + std::string(text) + "'; valid modes: virtual, paced, fast");
}

result<std::optional<pacing_mode>> pacing_from_environment() {
  const char* value = std::getenv(pacing_environment_variable);
  if (value == nullptr || *value == '\0') return std::optional<pacing_mode>();
  auto mode = parse_pacing_mode(value);
  if (!mode) {
    return fail(errc::invalid_configuration,
                std::string(pacing_environment_variable) + ": " + mode.error().message);
  }
  return std::optional<pacing_mode>(*mode);
}

}  // namespace edgert
