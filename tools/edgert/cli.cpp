#include "cli.hpp"

#include <cstdio>
#include <iostream>

namespace edgert::cli {

ContextOptions global_options::context_options() const {
  ContextOptions options;
  options.system = system;
  options.board_config_dir = board_configs;
  options.runtime_dir = runtime_dir;
  return options;
}

int guarded(const std::function<int()>& body) {
  try {
    return body();
  } catch (const Error& e) {
    std::cerr << "edgert: " << to_string(e.code()) << ": " << e.what() << "\n";
    switch (e.code()) {
      case errc::device_in_use: return exit_device_in_use;
      case errc::timeout: return exit_timeout;
      case errc::invalid_argument: return exit_usage;
      default: return exit_error;
    }
  } catch (const std::exception& e) {
    std::cerr << "edgert: internal_error: " << e.what() << "\n";
    return exit_error;
  }
}

void print_json(const nlohmann::json& value) {
  std::cout << value.dump(2) << std::endl;
}

std::string human_bytes(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024.0 && unit < 4) {
    value /= 1024.0;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, value < 10 && unit > 0 ? "%.1f %s" : "%.0f %s", value,
                units[unit]);
  return text;
}

}  // namespace edgert::cli
