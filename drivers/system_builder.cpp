// build_system: turns a system spec into one driver per board.
#include <unistd.h>

#include <map>

#include "drivers/host_driver.hpp"
#include "drivers/sim_driver.hpp"

namespace edgert {

namespace {

const sim::board_config* find_kind(const std::vector<sim::board_config>& configs,
                                   const std::string& kind) {
  for (const auto& config : configs) {
    if (config.kind == kind) return &config;
  }
  return nullptr;
}

std::string known_kinds(const std::vector<sim::board_config>& configs) {
  std::string list;
  for (const auto& config : configs) list += config.kind + ", ";
  return list + "host";
}

std::string entry_text(const sim::system_entry& entry) {
  std::string text = entry.kind;
  if (entry.cores) text += "(" + std::to_string(*entry.cores) + ")";
  return text;
}

}  // namespace

result<std::vector<std::unique_ptr<driver>>> build_system(const system_options& options) {
  auto entries = sim::parse_system_spec(options.spec);
  if (!entries) return entries.error();

  // Check every entry before building anything, so a bad spec creates no boards.
  const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  const unsigned host_cores = online > 0 ? static_cast<unsigned>(online) : 1;
  for (const auto& entry : *entries) {
    const sim::board_config* config = nullptr;
    unsigned available = host_cores;
    if (entry.kind != "host") {
      config = find_kind(options.board_configs, entry.kind);
      if (config == nullptr) {
        return fail(errc::invalid_argument, "unknown board kind '" + entry.kind +
                                                "' in system spec '" + options.spec +
                                                "'; known kinds: " +
                                                known_kinds(options.board_configs));
      }
      available = config->sub_devices;
    }
    if (entry.cores && (*entry.cores == 0 || *entry.cores > available)) {
      return fail(errc::invalid_argument,
                  "'" + entry_text(entry) + "' in system spec '" + options.spec + "' asks for " +
                      std::to_string(*entry.cores) + " cores; a " + entry.kind + " board has 1 to " +
                      std::to_string(available));
    }
  }

  std::shared_ptr<const sim::sim_clock> clock = options.clock;
  if (!clock) clock = sim::make_real_clock();
  std::map<std::string, unsigned> next_ordinal;  // kind -> boards of that kind so far
  std::vector<std::unique_ptr<driver>> drivers;
  for (const auto& entry : *entries) {
    for (unsigned copy = 0; copy < entry.count; ++copy) {
      const std::string name = "dev:" + std::to_string(drivers.size());
      const unsigned ordinal = next_ordinal[entry.kind]++;
      if (entry.kind == "host") {
        drivers.push_back(
            std::make_unique<host_driver>(name, options.leases, entry.cores.value_or(0), ordinal));
      } else {
        sim::board board(*find_kind(options.board_configs, entry.kind), clock,
                         entry.cores.value_or(0));
        drivers.push_back(std::make_unique<sim_driver>(name, std::move(board), options.leases,
                                                       options.state_dir, ordinal,
                                                       options.pacing));
      }
    }
  }
  return drivers;
}

}  // namespace edgert
