// Parsing of board files (TOML) into board_config; the schema is documented in
// board_configs/README.md.
//
// toml++ reports syntax errors by exception; the semantic checks below report theirs with
// a file-local exception too. Both are caught in parse_board_config() and turned into a
// failure, so nothing is thrown across the sim interface.
#include "sim/board_config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <vector>
#include <limits>
#include <optional>
#include <sstream>
#include <string_view>

namespace edgert::sim {

std::string_view to_string(board_type t) noexcept {
  switch (t) {
    case board_type::pcie: return "pcie";
    case board_type::m2: return "m2";
    case board_type::devboard: return "devboard";
    case board_type::sbc: return "sbc";
    case board_type::host: return "host";
  }
  return "unknown";
}

result<board_type> parse_board_type(std::string_view text) {
  for (board_type t : {board_type::pcie, board_type::m2, board_type::devboard, board_type::sbc,
                       board_type::host}) {
    if (text == to_string(t)) return t;
  }
  return fail(errc::invalid_configuration,
              "unknown board type '" + std::string(text) +
                  "'; valid types: pcie, m2, devboard, sbc, host");
}

namespace {

// Thrown inside this file only; `what` is the complete "origin:line:column: ..." message.
struct board_file_error {
  std::string what;
};

// Sanity bounds: they keep every value within the range of the field it lands in and
// catch unit mix-ups (a bandwidth in bytes, a settle time in nanoseconds).
constexpr std::int64_t max_sub_devices = 64;
constexpr std::int64_t max_clock_mhz = 100'000;
constexpr std::int64_t max_macs_per_cycle = std::int64_t{1} << 32;
constexpr std::int64_t max_memory_mib = std::int64_t{1} << 24;  // 16 TiB
constexpr std::int64_t max_local_kib = std::int64_t{1} << 24;   // 16 GiB
constexpr double max_bandwidth_gb_per_s = 10'000;
constexpr double max_settle_ms = 3'600'000;  // one hour
constexpr double max_cost_us = 1'000'000;    // one second

std::string join(const std::vector<unsigned>& values) {
  std::string out;
  for (unsigned v : values) {
    if (!out.empty()) out += ", ";
    out += std::to_string(v);
  }
  return out;
}

std::string join(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::string_view n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

std::string_view type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

// Reads one table of a board file. Every getter records the key it was asked for, and
// reject_unknown_keys() then refuses any other key, so a misspelt key is an error rather
// than a silently ignored line.
class table_reader {
 public:
  table_reader(const std::string& origin, const toml::table& table, std::string name,
               std::initializer_list<std::string_view> keys)
      : origin_(origin), table_(table), name_(std::move(name)), keys_(keys) {}

  [[noreturn]] void fail_at(const toml::source_region& where, const std::string& what) const {
    // A node built without a source (never the case for parsed text) reports line 0;
    // the file start is the best position then.
    const auto line = std::max<std::uint32_t>(where.begin.line, 1);
    const auto column = std::max<std::uint32_t>(where.begin.column, 1);
    throw board_file_error{origin_ + ":" + std::to_string(line) + ":" + std::to_string(column) +
                           ": " + what};
  }

  void reject_unknown_keys() const {
    for (auto&& [key, value] : table_) {
      if (std::find(keys_.begin(), keys_.end(), key.str()) != keys_.end()) continue;
      if (name_.empty()) {
        fail_at(key.source(), "unknown table or key '" + std::string(key.str()) +
                                  "'; valid tables: " + join(keys_));
      }
      fail_at(key.source(), "unknown key '" + std::string(key.str()) + "' in [" + name_ +
                                "]; valid keys: " + join(keys_));
    }
  }

  std::string text(std::string_view key, std::optional<std::string> fallback = {}) const {
    const toml::node* node = find(key, fallback.has_value());
    if (!node) return *fallback;
    if (auto* s = node->as_string()) return s->get();
    wrong_type(*node, key, "a string");
  }

  bool flag(std::string_view key, std::optional<bool> fallback = {}) const {
    const toml::node* node = find(key, fallback.has_value());
    if (!node) return *fallback;
    if (auto* b = node->as_boolean()) return b->get();
    wrong_type(*node, key, "a boolean (true or false)");
  }

  std::int64_t integer(std::string_view key, std::int64_t min, std::int64_t max,
                       std::optional<std::int64_t> fallback = {}) const {
    const toml::node* node = find(key, fallback.has_value());
    if (!node) return *fallback;
    return checked_integer(*node, path(key), min, max);
  }

  double number(std::string_view key, double min, double max,
                std::optional<double> fallback = {}) const {
    const toml::node* node = find(key, fallback.has_value());
    if (!node) return *fallback;
    double value = 0;
    if (auto* i = node->as_integer()) {
      value = static_cast<double>(i->get());
    } else if (auto* f = node->as_floating_point()) {
      value = f->get();
    } else {
      wrong_type(*node, key, "a number");
    }
    if (!(value >= min && value <= max)) {  // also rejects nan
      std::ostringstream msg;
      msg << path(key) << " = " << value << " is out of range (" << min << " to " << max << ")";
      fail_at(node->source(), msg.str());
    }
    return value;
  }

  // A non-empty array of integers, each within min..max.
  std::vector<std::pair<std::int64_t, const toml::node*>> integer_array(std::string_view key,
                                                                        std::int64_t min,
                                                                        std::int64_t max) const {
    const toml::node* node = find(key, false);
    const toml::array* array = node->as_array();
    if (!array) wrong_type(*node, key, "an array of integers");
    if (array->empty()) fail_at(node->source(), path(key) + " must not be empty");
    std::vector<std::pair<std::int64_t, const toml::node*>> out;
    for (const toml::node& element : *array) {
      out.emplace_back(checked_integer(element, path(key) + " element", min, max), &element);
    }
    return out;
  }

  const toml::node* node(std::string_view key) const { return table_.get(key); }
  std::string path(std::string_view key) const { return name_ + "." + std::string(key); }

 private:
  const toml::node* find(std::string_view key, bool optional) const {
    const toml::node* node = table_.get(key);
    if (!node && !optional) {
      fail_at(table_.source(), "[" + name_ + "] is missing required key '" + std::string(key) + "'");
    }
    return node;
  }

  std::int64_t checked_integer(const toml::node& node, const std::string& what, std::int64_t min,
                               std::int64_t max) const {
    auto* i = node.as_integer();
    if (!i) {
      fail_at(node.source(), what + " must be an integer, not " + std::string(type_name(node)));
    }
    const std::int64_t value = i->get();
    if (value < min || value > max) {
      fail_at(node.source(), what + " = " + std::to_string(value) + " is out of range (" +
                                 std::to_string(min) + " to " + std::to_string(max) + ")");
    }
    return value;
  }

  [[noreturn]] void wrong_type(const toml::node& node, std::string_view key,
                               std::string_view expected) const {
    fail_at(node.source(), path(key) + " must be " + std::string(expected) + ", not " +
                               std::string(type_name(node)));
  }

  const std::string& origin_;
  const toml::table& table_;
  std::string name_;
  std::vector<std::string_view> keys_;
};

const toml::table& require_table(const table_reader& root, const toml::table& document,
                                 std::string_view name) {
  const toml::node* node = document.get(name);
  if (!node) root.fail_at(document.source(), "missing table [" + std::string(name) + "]");
  const toml::table* table = node->as_table();
  if (!table) {
    root.fail_at(node->source(), "'" + std::string(name) + "' must be a table, not " +
                                     std::string(type_name(*node)));
  }
  return *table;
}

// An absent optional table reads as an empty one, so every key in it takes its default.
const toml::table& optional_table(const table_reader& root, const toml::table& document,
                                  std::string_view name) {
  static const toml::table empty;
  if (!document.get(name)) return empty;
  return require_table(root, document, name);
}

std::chrono::nanoseconds from_ms(double ms) {
  return std::chrono::nanoseconds(std::llround(ms * 1e6));
}
std::chrono::nanoseconds from_us(double us) {
  return std::chrono::nanoseconds(std::llround(us * 1e3));
}

void read_board_table(const std::string& origin, const toml::table& table, board_config& c) {
  table_reader r(origin, table, "board",
                 {"product", "type", "revision", "firmware", "flashed_firmware",
                  "board_controller", "sub_devices", "fusable"});
  r.reject_unknown_keys();
  c.product = r.text("product");
  const std::string type_text = r.text("type");
  auto type = parse_board_type(type_text);
  if (!type) r.fail_at(r.node("type")->source(), "board.type: " + type.error().message);
  c.type = *type;
  c.board_revision = r.text("revision");
  c.firmware_version = r.text("firmware");
  c.flashed_firmware_version = r.text("flashed_firmware", c.firmware_version);
  c.board_controller_version = r.text("board_controller");
  c.sub_devices = static_cast<unsigned>(r.integer("sub_devices", 1, max_sub_devices));
  c.fusable = r.flag("fusable", false);
  if (c.fusable && c.sub_devices < 2) {
    r.fail_at(r.node("fusable")->source(),
              "board.fusable = true needs at least 2 sub_devices, the board has " +
                  std::to_string(c.sub_devices));
  }
}

void read_compute_table(const std::string& origin, const toml::table& table, board_config& c) {
  table_reader r(origin, table, "compute",
                 {"macs_per_cycle_per_core", "clock_profiles_mhz", "default_clock_mhz",
                  "max_core_clock_mhz", "min_mvm_utilisation_pct", "max_mvm_utilisation_pct",
                  "reconfigure_settle_ms"});
  r.reject_unknown_keys();
  c.macs_per_cycle_per_core =
      static_cast<std::uint64_t>(r.integer("macs_per_cycle_per_core", 1, max_macs_per_cycle));

  c.clock_profiles_mhz.clear();
  for (const auto& [mhz, node] : r.integer_array("clock_profiles_mhz", 1, max_clock_mhz)) {
    if (!c.clock_profiles_mhz.empty() && mhz <= c.clock_profiles_mhz.back()) {
      r.fail_at(node->source(), "compute.clock_profiles_mhz must be strictly ascending; " +
                                    std::to_string(mhz) + " follows " +
                                    std::to_string(c.clock_profiles_mhz.back()));
    }
    c.clock_profiles_mhz.push_back(static_cast<unsigned>(mhz));
  }
  const std::string allowed = "[" + join(c.clock_profiles_mhz) + "]";
  const unsigned largest = c.clock_profiles_mhz.back();

  c.default_clock_mhz = static_cast<unsigned>(r.integer("default_clock_mhz", 1, max_clock_mhz));
  const auto& profiles = c.clock_profiles_mhz;
  if (std::find(profiles.begin(), profiles.end(), c.default_clock_mhz) == profiles.end()) {
    r.fail_at(r.node("default_clock_mhz")->source(),
              "compute.default_clock_mhz = " + std::to_string(c.default_clock_mhz) +
                  " is not one of compute.clock_profiles_mhz " + allowed);
  }

  c.max_core_clock_mhz =
      static_cast<unsigned>(r.integer("max_core_clock_mhz", 1, max_clock_mhz, largest));
  if (c.max_core_clock_mhz > largest) {
    r.fail_at(r.node("max_core_clock_mhz")->source(),
              "compute.max_core_clock_mhz = " + std::to_string(c.max_core_clock_mhz) +
                  " is above the largest clock profile (" + std::to_string(largest) + ")");
  }
  if (c.max_core_clock_mhz < c.default_clock_mhz) {
    r.fail_at(r.node("max_core_clock_mhz")->source(),
              "compute.max_core_clock_mhz = " + std::to_string(c.max_core_clock_mhz) +
                  " is below compute.default_clock_mhz (" + std::to_string(c.default_clock_mhz) +
                  "), so the default settings would break it");
  }

  c.min_mvm_utilisation_pct =
      static_cast<unsigned>(r.integer("min_mvm_utilisation_pct", 1, 100, 1));
  c.max_mvm_utilisation_pct =
      static_cast<unsigned>(r.integer("max_mvm_utilisation_pct", 1, 100, 100));
  if (c.min_mvm_utilisation_pct > c.max_mvm_utilisation_pct) {
    r.fail_at(r.node("min_mvm_utilisation_pct")->source(),
              "compute.min_mvm_utilisation_pct = " + std::to_string(c.min_mvm_utilisation_pct) +
                  " is above compute.max_mvm_utilisation_pct = " +
                  std::to_string(c.max_mvm_utilisation_pct));
  }
  c.reconfigure_settle_time = from_ms(r.number("reconfigure_settle_ms", 0, max_settle_ms, 0.0));
}

void read_memory_table(const std::string& origin, const toml::table& table, board_config& c) {
  table_reader r(origin, table, "memory", {"device_mib", "core_local_kib"});
  r.reject_unknown_keys();
  c.device_memory_bytes =
      static_cast<std::uint64_t>(r.integer("device_mib", 1, max_memory_mib)) << 20;
  c.core_local_memory_bytes =
      static_cast<std::uint64_t>(r.integer("core_local_kib", 0, max_local_kib, 0)) << 10;
}

void read_dma_table(const std::string& origin, const toml::table& table, board_config& c) {
  table_reader r(origin, table, "dma", {"bandwidth_gb_per_s", "latency_us"});
  r.reject_unknown_keys();
  const double gb_per_s = r.number("bandwidth_gb_per_s", 0, max_bandwidth_gb_per_s);
  if (gb_per_s <= 0) {
    r.fail_at(r.node("bandwidth_gb_per_s")->source(),
              "dma.bandwidth_gb_per_s must be greater than 0");
  }
  c.dma_bandwidth_bytes_per_second = gb_per_s * 1e9;
  c.dma_latency = from_us(r.number("latency_us", 0, max_cost_us, 0.0));
}

void read_launch_table(const std::string& origin, const toml::table& table, board_config& c) {
  table_reader r(origin, table, "launch", {"job_cost_us"});
  r.reject_unknown_keys();
  c.job_launch_cost = from_us(r.number("job_cost_us", 0, max_cost_us, 0.0));
}

void read_source_table(const std::string& origin, const toml::table& table, board_config& c) {
  table_reader r(origin, table, "source", {"notes"});
  r.reject_unknown_keys();
  c.figures_source = r.text("notes", std::string());
}

board_config read_document(const std::string& origin, const toml::table& document,
                           const std::string& kind) {
  // The root reader's "keys" are the table names.
  table_reader root(origin, document, "",
                    {"board", "compute", "memory", "dma", "launch", "source"});
  root.reject_unknown_keys();
  board_config c;
  c.kind = kind;
  read_board_table(origin, require_table(root, document, "board"), c);
  read_compute_table(origin, require_table(root, document, "compute"), c);
  read_memory_table(origin, require_table(root, document, "memory"), c);
  read_dma_table(origin, require_table(root, document, "dma"), c);
  read_launch_table(origin, optional_table(root, document, "launch"), c);
  read_source_table(origin, optional_table(root, document, "source"), c);
  return c;
}

// Kinds appear in system specs ("m2*2,sbc") and device names, so they are restricted to
// characters the spec grammar treats as part of a name.
bool valid_kind(const std::string& kind) {
  if (kind.empty()) return false;
  return std::all_of(kind.begin(), kind.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-';
  });
}

}  // namespace

result<board_config> parse_board_config(std::string_view toml_text, const std::string& origin,
                                        const std::string& kind) {
  if (!valid_kind(kind)) {
    return fail(errc::invalid_configuration,
                origin + ": board kind '" + kind +
                    "' must be made of letters, digits, '_' and '-' (it is the file stem)");
  }
  try {
    toml::table document = toml::parse(toml_text, std::string_view(origin));
    return read_document(origin, document, kind);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return fail(errc::invalid_configuration,
                origin + ":" + std::to_string(std::max<std::uint32_t>(where.line, 1)) + ":" +
                    std::to_string(std::max<std::uint32_t>(where.column, 1)) + ": " +
                    std::string(e.description()));
  } catch (const board_file_error& e) {
    return fail(errc::invalid_configuration, e.what);
  }
}

}  // namespace edgert::sim
