// Reading manifest.json (see engine/manifest.hpp).
#include "engine/manifest.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <limits>
#include <sstream>

namespace edgert::engine {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

dtype dtype_from_name(const std::string& name) {
  for (dtype t : {dtype::f32, dtype::u8, dtype::i8, dtype::u16, dtype::i16, dtype::i32, dtype::i64,
                  dtype::boolean, dtype::f16, dtype::f64, dtype::u32, dtype::u64, dtype::bf16})
    if (to_string(t) == name) return t;
  if (name == "bool") return dtype::boolean;
  return dtype::undefined;
}

failure bad(const std::string& where, const std::string& why) {
  return fail(errc::invalid_argument, "manifest: " + where + ": " + why);
}

result<std::int64_t> get_int(const json& v, const std::string& where) {
  if (!v.is_number_integer()) return bad(where, "expected an integer");
  return v.get<std::int64_t>();
}

result<shape_t> get_shape(const json& v, const std::string& where) {
  if (!v.is_array()) return bad(where, "expected an array of dimensions");
  shape_t shape;
  for (std::size_t i = 0; i < v.size(); ++i) {
    auto d = get_int(v[i], where + "[" + std::to_string(i) + "]");
    if (!d) return d.error();
    if (*d < 0) return bad(where, "dimension " + std::to_string(i) + " is negative");
    shape.push_back(*d);
  }
  return shape;
}

result<std::string> get_string(const json& obj, const char* key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::string();
  if (!it->is_string()) return bad(where + "." + key, "expected a string");
  return it->get<std::string>();
}

result<manifest_tensor> parse_tensor(const json& v, const std::string& where, bool is_input,
                                     const fs::path& base_dir) {
  if (!v.is_object()) return bad(where, "expected an object");
  manifest_tensor t;
  auto name = get_string(v, "name", where);
  if (!name) return name.error();
  if (name->empty()) return bad(where, "has no name");
  t.name = *name;

  auto type = get_string(v, "dtype", where);
  if (!type) return type.error();
  if (!type->empty()) {
    t.type = dtype_from_name(*type);
    if (t.type == dtype::undefined) return bad(where + ".dtype", "unknown type '" + *type + "'");
  }
  if (auto it = v.find("shape"); it != v.end() && !it->is_null()) {
    auto shape = get_shape(*it, where + ".shape");
    if (!shape) return shape.error();
    t.shape = std::move(*shape);
  }
  auto layout = get_string(v, "layout", where);
  if (!layout) return layout.error();
  t.layout = *layout;
  if (t.shape && !t.layout.empty() && t.layout.size() != t.shape->size())
    return bad(where + ".layout", "'" + t.layout + "' does not match the rank of the shape");

  if (auto it = v.find("quantization"); it != v.end() && !it->is_null()) {
    const std::string qw = where + ".quantization";
    if (!it->is_object()) return bad(qw, "expected an object or null");
    auto s = it->find("scale");
    auto z = it->find("zero_point");
    if (s == it->end() || !s->is_number()) return bad(qw + ".scale", "expected a number");
    if (z == it->end()) return bad(qw + ".zero_point", "missing");
    auto zp = get_int(*z, qw + ".zero_point");
    if (!zp) return zp.error();
    double scale = s->get<double>();
    if (!(scale > 0) || scale > std::numeric_limits<float>::max())
      return bad(qw + ".scale", "must be positive and finite");
    if (*zp < std::numeric_limits<std::int32_t>::min() || *zp > std::numeric_limits<std::int32_t>::max())
      return bad(qw + ".zero_point", "out of range");
    t.quantization = quant_params{static_cast<float>(scale), static_cast<std::int32_t>(*zp)};
  }

  if (auto it = v.find("padding"); it != v.end() && !it->is_null()) {
    const std::string pw = where + ".padding";
    if (!it->is_array()) return bad(pw, "expected an array of [before, after] pairs");
    for (std::size_t i = 0; i < it->size(); ++i) {
      const json& pair = (*it)[i];
      const std::string ew = pw + "[" + std::to_string(i) + "]";
      if (!pair.is_array() || pair.size() != 2) return bad(ew, "expected [before, after]");
      auto before = get_int(pair[0], ew);
      auto after = get_int(pair[1], ew);
      if (!before) return before.error();
      if (!after) return after.error();
      if (*before < 0 || *after < 0) return bad(ew, "padding cannot be negative");
      t.padding.push_back(dim_padding{*before, *after});
    }
    if (t.shape && t.padding.size() != t.shape->size())
      return bad(pw, "has " + std::to_string(t.padding.size()) + " entries for a shape of rank " +
                         std::to_string(t.shape->size()));
  }

  std::string file;
  if (is_input) {
    auto sample = get_string(v, "sample", where);
    if (!sample) return sample.error();
    file = *sample;
  } else if (auto it = v.find("expected"); it != v.end() && it->is_object()) {
    auto expected = get_string(*it, "file", where + ".expected");
    if (!expected) return expected.error();
    file = *expected;
  }
  if (!file.empty()) t.file = fs::path(file).is_absolute() ? fs::path(file) : base_dir / file;
  return t;
}

result<std::vector<manifest_tensor>> parse_tensors(const json& doc, const char* key, bool is_input,
                                                   const fs::path& base_dir) {
  std::vector<manifest_tensor> out;
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return out;
  if (!it->is_array()) return bad(key, "expected an array");
  for (std::size_t i = 0; i < it->size(); ++i) {
    auto t = parse_tensor((*it)[i], std::string(key) + "[" + std::to_string(i) + "]", is_input, base_dir);
    if (!t) return t.error();
    out.push_back(std::move(*t));
  }
  return out;
}

const manifest_tensor* find_named(const std::vector<manifest_tensor>& list, const std::string& name) {
  for (const auto& t : list)
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace

const manifest_tensor* model_manifest::find_input(const std::string& n) const {
  return find_named(inputs, n);
}

const manifest_tensor* model_manifest::find_output(const std::string& n) const {
  return find_named(outputs, n);
}

result<model_manifest> parse_manifest(std::string_view text, const fs::path& base_dir) {
  json doc = json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded()) return fail(errc::invalid_argument, "manifest: not valid JSON");
  if (!doc.is_object()) return fail(errc::invalid_argument, "manifest: expected a JSON object");
  auto schema = get_string(doc, "schema", "manifest");
  if (!schema) return schema.error();
  if (*schema != "edgert.model_manifest")
    return bad("schema", "expected 'edgert.model_manifest', found '" + *schema + "'");
  if (auto it = doc.find("version"); it != doc.end()) {
    auto version = get_int(*it, "version");
    if (!version) return version.error();
    if (*version != 1)
      return fail(errc::not_implemented,
                  "manifest: version " + std::to_string(*version) + " is not supported (1 is)");
  }

  model_manifest m;
  for (auto [key, field] : {std::pair{"name", &m.name}, std::pair{"description", &m.description},
                            std::pair{"quantization_format", &m.quantization_format}}) {
    auto value = get_string(doc, key, "manifest");
    if (!value) return value.error();
    *field = *value;
  }
  if (auto it = doc.find("model"); it != doc.end() && !it->is_null()) {
    if (!it->is_object()) return bad("model", "expected an object");
    auto file = get_string(*it, "file", "model");
    if (!file) return file.error();
    m.model_file = *file;
  }
  if (auto it = doc.find("macs"); it != doc.end() && !it->is_null()) {
    auto macs = get_int(*it, "macs");
    if (!macs) return macs.error();
    if (*macs < 0) return bad("macs", "cannot be negative");
    m.macs = static_cast<std::uint64_t>(*macs);
  }
  auto inputs = parse_tensors(doc, "inputs", true, base_dir);
  if (!inputs) return inputs.error();
  auto outputs = parse_tensors(doc, "outputs", false, base_dir);
  if (!outputs) return outputs.error();
  m.inputs = std::move(*inputs);
  m.outputs = std::move(*outputs);
  return m;
}

result<model_manifest> read_manifest(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    return fail(errc::io_error, "cannot read manifest '" + path.string() + "': not a file");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof())
    return fail(errc::io_error, "cannot read manifest '" + path.string() + "'");
  auto m = parse_manifest(text.str(), path.parent_path());
  if (!m) return fail(m.code(), "'" + path.string() + "': " + m.error().message);
  m->path = path;
  return m;
}

result<std::optional<model_manifest>> find_manifest_for(const fs::path& model_file) {
  const fs::path candidate = model_file.parent_path() / "manifest.json";
  std::error_code ec;
  if (!fs::exists(candidate, ec)) return std::optional<model_manifest>();
  auto m = read_manifest(candidate);
  if (!m) return m.error();
  if (!m->model_file.empty() && fs::path(m->model_file).filename() != model_file.filename())
    return std::optional<model_manifest>();  // it describes another model in the folder
  return std::optional<model_manifest>(std::move(*m));
}

}  // namespace edgert::engine
