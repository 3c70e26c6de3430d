// Parsing of scenario files (TOML via toml++) into edgert::cli::scenario. Every problem is
// reported as InvalidConfiguration "file:line:column: what"; toml++'s own syntax errors
// are caught and reported the same way. Pure functions; any thread may call them.
#include "scenario_file.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <initializer_list>
#include <sstream>

namespace edgert::cli {

namespace {

struct scenario_error {
  std::string what;
};

class reader {
 public:
  explicit reader(std::string origin) : origin_(std::move(origin)) {}

  [[noreturn]] void fail_at(const toml::source_region& where, const std::string& what) const {
    throw scenario_error{origin_ + ":" + std::to_string(std::max<std::uint32_t>(where.begin.line, 1)) +
                         ":" + std::to_string(std::max<std::uint32_t>(where.begin.column, 1)) +
                         ": " + what};
  }

  void only_keys(const toml::table& t, std::initializer_list<std::string_view> keys,
                 const std::string& where) const {
    for (auto&& [key, value] : t) {
      if (std::find(keys.begin(), keys.end(), key.str()) != keys.end()) continue;
      std::string valid;
      for (auto k : keys) valid += (valid.empty() ? "" : ", ") + std::string(k);
      fail_at(key.source(), "unknown key '" + std::string(key.str()) + "' in " + where +
                                "; valid keys: " + valid);
    }
  }

  const toml::node& need(const toml::table& t, const char* key, const std::string& where) const {
    const toml::node* n = t.get(key);
    if (!n) fail_at(t.source(), where + " needs '" + key + "'");
    return *n;
  }

  std::string text(const toml::node& n, const std::string& what) const {
    if (const auto* s = n.as_string()) return s->get();
    fail_at(n.source(), what + " must be a string");
  }

  std::int64_t integer(const toml::node& n, const std::string& what, std::int64_t min,
                       std::int64_t max) const {
    const auto* i = n.as_integer();
    if (!i) fail_at(n.source(), what + " must be an integer");
    if (i->get() < min || i->get() > max)
      fail_at(n.source(), what + " = " + std::to_string(i->get()) + " is out of range (" +
                              std::to_string(min) + " to " + std::to_string(max) + ")");
    return i->get();
  }

  double number(const toml::node& n, const std::string& what, double min, double max) const {
    double v = 0;
    if (const auto* i = n.as_integer())
      v = static_cast<double>(i->get());
    else if (const auto* f = n.as_floating_point())
      v = f->get();
    else
      fail_at(n.source(), what + " must be a number");
    if (!(v >= min && v <= max)) {
      std::ostringstream m;
      m << what << " = " << v << " is out of range (" << min << " to " << max << ")";
      fail_at(n.source(), m.str());
    }
    return v;
  }

  bool boolean(const toml::node& n, const std::string& what) const {
    if (const auto* b = n.as_boolean()) return b->get();
    fail_at(n.source(), what + " must be true or false");
  }

  const std::string& origin() const { return origin_; }

 private:
  std::string origin_;
};

constexpr double max_ms = 1e9;

const std::vector<std::pair<std::string, step_kind>>& step_names() {
  static const std::vector<std::pair<std::string, step_kind>> names = {
      {"configure", step_kind::configure},     {"expect_pending", step_kind::expect_pending},
      {"expect_ready", step_kind::expect_ready}, {"advance", step_kind::advance},
      {"wait", step_kind::wait},               {"submit", step_kind::submit},
      {"inject", step_kind::inject},           {"clear_faults", step_kind::clear_faults},
      {"reset", step_kind::reset},             {"connect", step_kind::connect},
      {"release", step_kind::release},         {"spawn_holder", step_kind::spawn_holder},
      {"kill_holder", step_kind::kill_holder}, {"expect", step_kind::expect},
      {"expect_device", step_kind::expect_device}, {"crash_worker", step_kind::crash_worker},
  };
  return names;
}

bool is_errc_name(const std::string& name) {
  for (int v = 0; v <= static_cast<int>(errc::io_error); ++v)
    if (name == to_string(static_cast<errc>(v))) return true;
  return false;
}

std::filesystem::path resolve_model(const reader& r, const toml::node& n, const std::string& text,
                                    const std::filesystem::path& scenario_dir,
                                    const std::filesystem::path& examples_dir) {
  std::error_code ec;
  for (const auto& base : {scenario_dir, examples_dir}) {
    auto candidate = (base / text).lexically_normal();
    if (std::filesystem::is_directory(candidate, ec)) candidate /= "model.onnx";
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
  }
  r.fail_at(n.source(), "model '" + text + "' is neither beside the scenario nor among the "
                        "example models (" + examples_dir.string() + ")");
}

scenario_model read_model(const reader& r, const toml::table& t, std::size_t index,
                          const std::filesystem::path& dir, const std::filesystem::path& examples) {
  const std::string where = "model " + std::to_string(index + 1);
  r.only_keys(t, {"name", "path", "device", "workers", "api", "max_in_flight",
                  "input_queue_size", "output_queue_size", "overflow", "submit_timeout_ms", "isolate"},
              where);
  scenario_model m;
  m.line = static_cast<int>(t.source().begin.line);
  m.name = r.text(r.need(t, "name", where), where + " name");
  const auto& path = r.need(t, "path", where);
  m.path = resolve_model(r, path, r.text(path, where + " path"), dir, examples);
  if (auto* n = t.get("device")) m.device = r.text(*n, where + " device");
  if (auto* n = t.get("workers")) m.workers = static_cast<unsigned>(r.integer(*n, where + " workers", 1, 64));
  if (auto* n = t.get("api")) {
    m.api = r.text(*n, where + " api");
    if (m.api != "runner" && m.api != "queue") r.fail_at(n->source(), where + " api must be runner or queue");
  }
  if (auto* n = t.get("max_in_flight"))
    m.max_in_flight = static_cast<unsigned>(r.integer(*n, where + " max_in_flight", 1, 65535));
  if (auto* n = t.get("input_queue_size"))
    m.input_queue_size = static_cast<unsigned>(r.integer(*n, where + " input_queue_size", 1, 65535));
  if (auto* n = t.get("output_queue_size"))
    m.output_queue_size = static_cast<unsigned>(r.integer(*n, where + " output_queue_size", 1, 65535));
  if (auto* n = t.get("overflow")) {
    auto o = r.text(*n, where + " overflow");
    if (o == "block") m.overflow = Overflow::block;
    else if (o == "reject") m.overflow = Overflow::reject;
    else if (o == "drop_oldest") m.overflow = Overflow::drop_oldest;
    else r.fail_at(n->source(), where + " overflow must be block, reject or drop_oldest");
  }
  if (auto* n = t.get("submit_timeout_ms"))
    m.submit_timeout = std::chrono::milliseconds(r.integer(*n, where + " submit_timeout_ms", 1, 60000));
  if (auto* n = t.get("isolate")) m.isolate = r.boolean(*n, where + " isolate");
  return m;
}

Fault read_fault(const reader& r, const toml::table& t, const std::string& where) {
  // The fault keys are those of a fault script; rebuild one [[fault]] table and let
  // parse_fault_spec check it exactly as a script or --inject would.
  std::string spec = r.text(r.need(t, "kind", where), where + " kind") + "@";
  for (auto&& [key, value] : t) {
    const std::string k(key.str());
    if (k == "do" || k == "device" || k == "kind" || k == "at") continue;
    if (k == "code" || k == "message") {
      spec += k + "=" + r.text(value, where + " " + k) + ",";
      if (k == "message" && r.text(value, where + " " + k).find(',') != std::string::npos)
        r.fail_at(value.source(), where + " message must not contain ','");
    } else if (const auto* i = value.as_integer()) {
      spec += k + "=" + std::to_string(i->get()) + ",";
    } else if (const auto* f = value.as_floating_point()) {
      std::ostringstream s;
      s.precision(17);
      s << f->get();
      spec += k + "=" + s.str() + ",";
    } else {
      r.fail_at(value.source(), where + " " + k + " must be a number");
    }
  }
  try {
    return parse_fault_spec(spec);
  } catch (const Error& e) {
    r.fail_at(t.source(), where + ": " + e.what());
  }
}

model_expectation read_model_expectation(const reader& r, const toml::table& t,
                                         const std::string& where) {
  model_expectation e;
  e.model = r.text(r.need(t, "model", where), where + " model");
  auto count = [&](const char* key, std::optional<std::uint64_t>& out) {
    if (auto* n = t.get(key))
      out = static_cast<std::uint64_t>(r.integer(*n, where + " " + key, 0, 1'000'000'000));
  };
  count("submitted", e.submitted);
  count("completed", e.completed);
  count("results", e.results);
  count("pending", e.pending);
  if (auto* n = t.get("errors")) {
    const auto* table = n->as_table();
    if (!table) r.fail_at(n->source(), where + " errors must be a table { code = count }");
    std::map<std::string, std::uint64_t> errors;
    for (auto&& [key, value] : *table) {
      const std::string code(key.str());
      if (!is_errc_name(code) || code == "ok")
        r.fail_at(key.source(), where + " errors: '" + code + "' is not an error code");
      auto c = static_cast<std::uint64_t>(r.integer(value, where + " errors." + code, 0, 1'000'000'000));
      if (c) errors[code] = c;
    }
    e.errors = errors;
  }
  if (auto* n = t.get("latency_min_ms")) e.latency_min_ms = r.number(*n, where + " latency_min_ms", 0, max_ms);
  if (auto* n = t.get("latency_max_ms")) e.latency_max_ms = r.number(*n, where + " latency_max_ms", 0, max_ms);
  if (auto* n = t.get("since_ms")) e.since_ms = r.number(*n, where + " since_ms", 0, max_ms);
  return e;
}

device_expectation read_device_expectation(const reader& r, const toml::table& t,
                                           const std::string& where) {
  device_expectation e;
  e.device = r.text(r.need(t, "device", where), where + " device");
  if (auto* n = t.get("state")) {
    e.state = r.text(*n, where + " state");
    static const char* states[] = {"offline", "configuring", "ready", "faulted", "recovering"};
    if (std::find(std::begin(states), std::end(states), *e.state) == std::end(states))
      r.fail_at(n->source(), where + " state must be offline, configuring, ready, faulted or recovering");
  }
  if (auto* n = t.get("ready")) e.ready = r.boolean(*n, where + " ready");
  if (auto* n = t.get("in_use")) e.in_use = r.boolean(*n, where + " in_use");
  if (auto* n = t.get("health")) {
    const auto* list = n->as_array();
    if (!list) r.fail_at(n->source(), where + " health must be an array of states, one per core");
    std::vector<std::string> health;
    for (auto&& item : *list) {
      auto s = r.text(item, where + " health entry");
      if (s != "ok" && s != "degraded" && s != "hung" && s != "faulted")
        r.fail_at(item.source(), where + " health entries are ok, degraded, hung or faulted");
      health.push_back(s);
    }
    e.health = health;
  }
  if (auto* n = t.get("configuration")) {
    const auto* table = n->as_table();
    if (!table) r.fail_at(n->source(), where + " configuration must be a table");
    std::map<std::string, std::string> config;
    for (auto&& [key, value] : *table) {
      if (const auto* i = value.as_integer())
        config[std::string(key.str())] = std::to_string(i->get());
      else
        config[std::string(key.str())] = r.text(value, where + " configuration." + std::string(key.str()));
    }
    e.configuration = config;
  }
  return e;
}

scenario_step read_step(const reader& r, const toml::table& t, std::size_t index,
                        const scenario& sc) {
  const std::string where = "step " + std::to_string(index + 1);
  scenario_step s;
  s.line = static_cast<int>(t.source().begin.line);
  const auto& what = r.need(t, "do", where);
  const auto name = r.text(what, where + " do");
  bool known = false;
  std::string names;
  for (auto& [n, k] : step_names()) {
    names += (names.empty() ? "" : ", ") + n;
    if (n == name) {
      s.kind = k;
      known = true;
    }
  }
  if (!known) r.fail_at(what.source(), where + ": unknown step '" + name + "'; steps: " + names);
  const std::string w = where + " (" + name + ")";
  auto device = [&] { s.device = r.text(r.need(t, "device", w), w + " device"); };
  auto model = [&] {
    s.model = r.text(r.need(t, "model", w), w + " model");
    for (auto& m : sc.models)
      if (m.name == s.model) return;
    r.fail_at(t.get("model")->source(), w + ": no model named '" + s.model + "'");
  };
  if (auto* n = t.get("at")) s.at_ms = r.number(*n, w + " at", 0, max_ms);
  switch (s.kind) {
    case step_kind::configure: {
      r.only_keys(t, {"do", "at", "device", "settings", "expect"}, w);
      device();
      const auto& settings = r.need(t, "settings", w);
      const auto* table = settings.as_table();
      if (!table) r.fail_at(settings.source(), w + " settings must be a table");
      for (auto&& [key, value] : *table)
        s.settings[std::string(key.str())] =
            r.integer(value, w + " settings." + std::string(key.str()), 0, 1'000'000);
      s.expect = "complete";
      if (auto* n = t.get("expect")) {
        s.expect = r.text(*n, w + " expect");
        if (s.expect != "complete" && s.expect != "pending" && !is_errc_name(s.expect))
          r.fail_at(n->source(), w + " expect must be complete, pending or an error code");
      }
      break;
    }
    case step_kind::expect_pending:
    case step_kind::expect_ready:
    case step_kind::clear_faults:
    case step_kind::reset:
    case step_kind::release:
    case step_kind::kill_holder:
      r.only_keys(t, {"do", "at", "device"}, w);
      device();
      break;
    case step_kind::advance:
    case step_kind::wait:
      r.only_keys(t, {"do", "at", "ms"}, w);
      if (!t.get("ms") && !t.get("at")) r.fail_at(t.source(), w + " needs 'ms' or 'at'");
      if (auto* n = t.get("ms")) s.ms = r.number(*n, w + " ms", 0, max_ms);
      break;
    case step_kind::submit:
      r.only_keys(t, {"do", "at", "model", "count", "interval_ms"}, w);
      if (const auto* list = r.need(t, "model", w).as_array()) {
        for (auto&& item : *list) {
          auto name = r.text(item, w + " model");
          bool found = false;
          for (auto& m : sc.models) found = found || m.name == name;
          if (!found) r.fail_at(item.source(), w + ": no model named '" + name + "'");
          s.models.push_back(name);
        }
        if (s.models.empty()) r.fail_at(list->source(), w + " model list is empty");
        s.model = s.models.front();
      } else {
        model();
        s.models.push_back(s.model);
      }
      s.count = static_cast<std::uint64_t>(r.integer(r.need(t, "count", w), w + " count", 1, 10'000'000));
      if (auto* n = t.get("interval_ms")) s.interval_ms = r.number(*n, w + " interval_ms", 0, max_ms);
      break;
    case step_kind::inject:
      r.only_keys(t, {"do", "at", "device", "kind", "core", "at_ms", "after", "probability",
                      "count", "code", "message", "clock_mhz", "duration_ms", "factor"},
                  w);
      device();
      s.fault = read_fault(r, t, w);
      break;
    case step_kind::connect:
    case step_kind::spawn_holder:
      r.only_keys(t, {"do", "at", "device", "sub_devices", "expect"}, w);
      device();
      if (auto* n = t.get("sub_devices")) s.sub_devices = static_cast<unsigned>(r.integer(*n, w + " sub_devices", 0, 64));
      s.expect = "ok";
      if (auto* n = t.get("expect")) {
        s.expect = r.text(*n, w + " expect");
        if (!is_errc_name(s.expect)) r.fail_at(n->source(), w + " expect must be ok or an error code");
      }
      break;
    case step_kind::expect:
      r.only_keys(t, {"do", "at", "model", "submitted", "completed", "results", "pending",
                      "errors", "latency_min_ms", "latency_max_ms", "since_ms"},
                  w);
      model();
      s.model_expect = read_model_expectation(r, t, w);
      break;
    case step_kind::expect_device:
      r.only_keys(t, {"do", "at", "device", "state", "ready", "health", "in_use", "configuration"}, w);
      device();
      s.device_expect = read_device_expectation(r, t, w);
      break;
    case step_kind::crash_worker: {
      r.only_keys(t, {"do", "at", "model"}, w);
      model();
      for (auto& m : sc.models)
        if (m.name == s.model && !m.isolate)
          r.fail_at(t.get("model")->source(), w + ": model '" + s.model +
                                                  "' is not isolated (set isolate = true on it)");
      break;
    }
  }
  return s;
}

scenario read_scenario(const reader& r, const toml::table& doc, const std::filesystem::path& file,
                       const std::filesystem::path& examples) {
  r.only_keys(doc, {"name", "description", "seed", "system", "board_configs", "model", "step"},
              "the scenario");
  scenario sc;
  sc.file = file;
  sc.name = file.stem().string();
  if (auto* n = doc.get("name")) sc.name = r.text(*n, "name");
  if (auto* n = doc.get("description")) sc.description = r.text(*n, "description");
  if (auto* n = doc.get("seed"))
    sc.seed = static_cast<std::uint64_t>(r.integer(*n, "seed", 0, std::numeric_limits<std::int64_t>::max()));
  if (auto* n = doc.get("system")) sc.system = r.text(*n, "system");
  if (auto* n = doc.get("board_configs")) {
    auto dir = std::filesystem::path(r.text(*n, "board_configs"));
    sc.board_configs = (dir.is_absolute() ? dir : file.parent_path() / dir).string();
  }
  auto array_of_tables = [&](const char* key, auto&& each) {
    const auto* n = doc.get(key);
    if (!n) return;
    const auto* list = n->as_array();
    if (!list) r.fail_at(n->source(), std::string("'") + key + "' must be an array of tables ([[" + key + "]])");
    for (std::size_t i = 0; i < list->size(); ++i) {
      const auto* table = list->get(i)->as_table();
      if (!table) r.fail_at(list->get(i)->source(), std::string("every [[") + key + "]] entry must be a table");
      each(*table, i);
    }
  };
  array_of_tables("model", [&](const toml::table& t, std::size_t i) {
    auto m = read_model(r, t, i, file.parent_path(), examples);
    for (auto& other : sc.models)
      if (other.name == m.name) r.fail_at(t.source(), "two models are named '" + m.name + "'");
    sc.models.push_back(std::move(m));
  });
  array_of_tables("step", [&](const toml::table& t, std::size_t i) {
    sc.steps.push_back(read_step(r, t, i, sc));
  });
  if (sc.steps.empty()) r.fail_at(doc.source(), "the scenario has no [[step]]");
  return sc;
}

}  // namespace

std::string to_string(step_kind kind) {
  for (auto& [name, k] : step_names())
    if (k == kind) return name;
  return "?";
}

scenario parse_scenario(const std::string& toml_text, const std::filesystem::path& file,
                        const std::filesystem::path& examples_dir) {
  reader r(file.string());
  try {
    toml::table doc = toml::parse(toml_text, file.string());
    return read_scenario(r, doc, file, examples_dir);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw InvalidConfiguration(file.string() + ":" + std::to_string(std::max<std::uint32_t>(where.line, 1)) +
                               ":" + std::to_string(std::max<std::uint32_t>(where.column, 1)) +
                               ": " + std::string(e.description()));
  } catch (const scenario_error& e) {
    throw InvalidConfiguration(e.what);
  }
}

scenario load_scenario(const std::filesystem::path& file, const std::filesystem::path& examples_dir) {
  std::ifstream in(file, std::ios::binary);
  if (!in.is_open()) throw IoError("cannot read scenario '" + file.string() + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_scenario(text.str(), file, examples_dir);
}

}  // namespace edgert::cli
