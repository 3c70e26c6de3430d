// Parsing of fault scripts (TOML) into fault_script; the format is documented in
// sim/fault_plan.hpp.
//
// toml++ reports syntax errors by exception and the checks below throw a file-local
// exception; parse_fault_script() catches both, so nothing is thrown across the sim
// interface. Pure functions; any thread may call them.
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <sstream>

#include "sim/fault_plan.hpp"

namespace edgert::sim {

namespace {

// Thrown inside this file only; `what` is the complete "origin:line:column: ..." message.
struct fault_file_error {
  std::string what;
};

constexpr double max_time_ms = 1e12;  // about 31 years, the timing model's limit too

class fault_file_reader {
 public:
  explicit fault_file_reader(const std::string& origin) : origin_(origin) {}

  [[noreturn]] void fail_at(const toml::source_region& where, const std::string& what) const {
    const auto line = std::max<std::uint32_t>(where.begin.line, 1);
    const auto column = std::max<std::uint32_t>(where.begin.column, 1);
    throw fault_file_error{origin_ + ":" + std::to_string(line) + ":" + std::to_string(column) +
                           ": " + what};
  }

  void only_keys(const toml::table& table, std::initializer_list<std::string_view> keys,
                 const std::string& where) const {
    for (auto&& [key, value] : table) {
      if (std::find(keys.begin(), keys.end(), key.str()) != keys.end()) continue;
      std::string valid;
      for (std::string_view k : keys) valid += (valid.empty() ? "" : ", ") + std::string(k);
      fail_at(key.source(), "unknown key '" + std::string(key.str()) + "' in " + where +
                                "; valid keys: " + valid);
    }
  }

  std::int64_t integer(const toml::node& node, const std::string& what, std::int64_t min,
                       std::int64_t max) const {
    const auto* i = node.as_integer();
    if (!i) fail_at(node.source(), what + " must be an integer");
    if (i->get() < min || i->get() > max) {
      fail_at(node.source(), what + " = " + std::to_string(i->get()) + " is out of range (" +
                                 std::to_string(min) + " to " + std::to_string(max) + ")");
    }
    return i->get();
  }

  double number(const toml::node& node, const std::string& what, double min, double max) const {
    double value = 0;
    if (const auto* i = node.as_integer()) {
      value = static_cast<double>(i->get());
    } else if (const auto* f = node.as_floating_point()) {
      value = f->get();
    } else {
      fail_at(node.source(), what + " must be a number");
    }
    if (!(value >= min && value <= max)) {
      std::ostringstream msg;
      msg << what << " = " << value << " is out of range (" << min << " to " << max << ")";
      fail_at(node.source(), msg.str());
    }
    return value;
  }

  std::string text(const toml::node& node, const std::string& what) const {
    const auto* s = node.as_string();
    if (!s) fail_at(node.source(), what + " must be a string");
    return s->get();
  }

 private:
  const std::string& origin_;
};

sim_duration from_ms(double ms) { return sim_duration(std::llround(ms * 1e6)); }

result<errc> parse_errc(std::string_view text) {
  std::string names;
  for (int value = 1; value <= static_cast<int>(errc::io_error); ++value) {
    const auto code = static_cast<errc>(value);
    if (text == to_string(code)) return code;
    names += (names.empty() ? "" : ", ") + std::string(to_string(code));
  }
  return fail(errc::invalid_configuration,
              "unknown error code '" + std::string(text) + "'; valid codes: " + names);
}

fault read_fault(const fault_file_reader& r, const toml::table& table, std::size_t index) {
  const std::string where = "fault " + std::to_string(index + 1);
  r.only_keys(table,
              {"kind", "core", "at_ms", "after", "probability", "count", "code", "message",
               "clock_mhz", "duration_ms", "factor"},
              where);
  fault f;
  const toml::node* kind = table.get("kind");
  if (!kind) r.fail_at(table.source(), where + " is missing required key 'kind'");
  auto parsed_kind = parse_fault_kind(r.text(*kind, where + " kind"));
  if (!parsed_kind) r.fail_at(kind->source(), where + ": " + parsed_kind.error().message);
  f.kind = *parsed_kind;

  if (const auto* n = table.get("core")) f.core = static_cast<unsigned>(r.integer(*n, where + " core", 0, 63));

  int triggers = 0;
  if (const auto* n = table.get("at_ms")) {
    f.trigger = fault_trigger::at_time(from_ms(r.number(*n, where + " at_ms", 0, max_time_ms)));
    ++triggers;
  }
  if (const auto* n = table.get("after")) {
    f.trigger = fault_trigger::after(static_cast<std::uint64_t>(
        r.integer(*n, where + " after", 0, std::numeric_limits<std::int64_t>::max())));
    ++triggers;
  }
  if (const auto* n = table.get("probability")) {
    f.trigger = fault_trigger::with_probability(r.number(*n, where + " probability", 0, 1));
    ++triggers;
  }
  if (triggers > 1) {
    r.fail_at(table.source(), where + " has more than one trigger; give at most one of at_ms, "
                                      "after and probability");
  }

  if (const auto* n = table.get("count")) {
    f.count = static_cast<std::uint32_t>(r.integer(*n, where + " count", 1, 1'000'000'000));
  }
  if (const auto* n = table.get("code")) {
    auto code = parse_errc(r.text(*n, where + " code"));
    if (!code) r.fail_at(n->source(), where + ": " + code.error().message);
    f.code = *code;
  }
  if (const auto* n = table.get("message")) f.message = r.text(*n, where + " message");
  if (const auto* n = table.get("clock_mhz")) {
    f.clock_mhz = static_cast<unsigned>(r.integer(*n, where + " clock_mhz", 1, 100'000));
  }
  if (const auto* n = table.get("duration_ms")) {
    f.duration = from_ms(r.number(*n, where + " duration_ms", 0, max_time_ms));
  }
  if (const auto* n = table.get("factor")) {
    f.factor = r.number(*n, where + " factor", 1, 1e6);
  }
  // Checks that need no board (the core range needs one and waits for install()).
  auto valid = validate(f, 64);
  if (!valid) r.fail_at(table.source(), valid.error().message);
  return f;
}

fault_script read_script(const fault_file_reader& r, const toml::table& document) {
  r.only_keys(document, {"seed", "fault"}, "the fault script");
  fault_script script;
  if (const auto* n = document.get("seed")) {
    script.seed = static_cast<std::uint64_t>(
        r.integer(*n, "seed", 0, std::numeric_limits<std::int64_t>::max()));
  }
  if (const auto* n = document.get("fault")) {
    const auto* faults = n->as_array();
    if (!faults) r.fail_at(n->source(), "'fault' must be an array of tables ([[fault]])");
    for (std::size_t i = 0; i < faults->size(); ++i) {
      const toml::node& element = *faults->get(i);
      const auto* table = element.as_table();
      if (!table) r.fail_at(element.source(), "every [[fault]] entry must be a table");
      script.faults.push_back(read_fault(r, *table, i));
    }
  }
  return script;
}

}  // namespace

result<fault_script> parse_fault_script(std::string_view toml_text, const std::string& origin) {
  fault_file_reader reader(origin);
  try {
    toml::table document = toml::parse(toml_text, std::string_view(origin));
    return read_script(reader, document);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    return fail(errc::invalid_configuration,
                origin + ":" + std::to_string(std::max<std::uint32_t>(where.line, 1)) + ":" +
                    std::to_string(std::max<std::uint32_t>(where.column, 1)) + ": " +
                    std::string(e.description()));
  } catch (const fault_file_error& e) {
    return fail(errc::invalid_configuration, e.what);
  }
}

result<fault_script> load_fault_script(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    return fail(errc::io_error, "cannot read fault script '" + file.string() +
                                    "': it does not exist or is not a regular file");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in.is_open()) return fail(errc::io_error, "cannot open fault script '" + file.string() + "'");
  std::ostringstream text;
  if (in.peek() != std::ifstream::traits_type::eof()) text << in.rdbuf();
  if (in.bad()) return fail(errc::io_error, "cannot read fault script '" + file.string() + "'");
  return parse_fault_script(text.str(), file.string());
}

}  // namespace edgert::sim
