// The text and JSON forms of a model_info (see engine/model_info.hpp).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "engine/model_info.hpp"

namespace edgert::engine {

namespace {

using ordered_json = nlohmann::ordered_json;

// 1234567 -> "1,234,567"
std::string grouped(std::uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string scaled(double value, const char* const* units, double base) {
  int unit = 0;
  while (value >= base && units[unit + 1] != nullptr) {
    value /= base;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f%s" : "%.2f %s", value, units[unit]);
  return text;
}

std::string bytes_text(std::uint64_t bytes) {
  static const char* const units[] = {" B", "KiB", "MiB", "GiB", nullptr};
  return scaled(static_cast<double>(bytes), units, 1024.0);
}

std::string count_text(std::uint64_t n) {
  static const char* const units[] = {"", "K", "M", "G", nullptr};
  return scaled(static_cast<double>(n), units, 1000.0);
}

// The scale as the shortest decimal that reads back as the same float.
std::string float_text(float v) {
  char text[32];
  for (int digits = 6; digits <= 9; ++digits) {
    std::snprintf(text, sizeof text, "%.*g", digits, static_cast<double>(v));
    if (std::strtof(text, nullptr) == v) break;
  }
  return text;
}

std::string shape_text(const tensor_info& t) {
  if (!t.rank_known) return "[?]";
  std::string out = "[";
  for (std::size_t i = 0; i < t.shape.size(); ++i) {
    if (i) out += ", ";
    out += t.shape[i] < 0 ? "?" : std::to_string(t.shape[i]);
  }
  return out + "]";
}

std::string padding_text(const std::vector<dim_padding>& padding) {
  std::string out = "padding";
  for (const auto& p : padding) out += " " + std::to_string(p.before) + "+" + std::to_string(p.after);
  return out;
}

std::string domain_name(const std::string& domain) { return domain.empty() ? "ai.onnx" : domain; }

// op counts, most frequent first, then by name.
std::vector<std::pair<std::string, std::size_t>> sorted_ops(const model_info& info) {
  std::vector<std::pair<std::string, std::size_t>> ops(info.op_counts.begin(), info.op_counts.end());
  std::stable_sort(ops.begin(), ops.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return ops;
}

// Column widths shared by the input and output lines.
struct tensor_columns {
  std::size_t name = 4, type = 5, shape = 5;
  void fit(const std::vector<tensor_info>& list) {
    for (const auto& t : list) {
      name = std::max(name, t.name.size());
      type = std::max(type, to_string(t.type).size());
      shape = std::max(shape, shape_text(t).size());
    }
  }
};

void tensor_lines(std::ostringstream& out, const char* title, const std::vector<tensor_info>& list,
                  const tensor_columns& w) {
  out << title << "\n";
  const std::size_t name_width = w.name, type_width = w.type, shape_width = w.shape;
  for (const auto& t : list) {
    char head[512];
    std::snprintf(head, sizeof head, "  %-*s  %-*s  %-*s  %-5s  ", static_cast<int>(name_width),
                  t.name.c_str(), static_cast<int>(type_width), std::string(to_string(t.type)).c_str(),
                  static_cast<int>(shape_width), shape_text(t).c_str(),
                  t.layout.empty() ? "-" : t.layout.c_str());
    out << head << (t.is_static() ? bytes_text(t.size_bytes()) : std::string("dynamic"));
    if (t.quantization)
      out << "  scale " << float_text(t.quantization->scale) << " zero_point " << t.quantization->zero_point;
    if (!is_unpadded(t.padding))
      out << "  " << padding_text(t.padding) << " (logical " << to_string(t.unpadded_shape) << ")";
    out << "\n";
  }
}

ordered_json tensor_json(const tensor_info& t) {
  ordered_json j;
  j["name"] = t.name;
  j["dtype"] = std::string(to_string(t.type));
  if (t.rank_known) {
    j["shape"] = t.shape;
    j["unpadded_shape"] = t.unpadded_shape;
  } else {
    j["shape"] = nullptr;
    j["unpadded_shape"] = nullptr;
  }
  j["layout"] = t.layout;
  j["elements"] = t.elements();
  if (t.is_static()) j["size_bytes"] = t.size_bytes();
  else j["size_bytes"] = nullptr;
  if (t.quantization)
    j["quantization"] = {{"scale", t.quantization->scale}, {"zero_point", t.quantization->zero_point}};
  else
    j["quantization"] = nullptr;
  ordered_json pad = ordered_json::array();
  for (const auto& p : t.padding) pad.push_back({p.before, p.after});
  j["padding"] = pad;
  return j;
}

}  // namespace

std::string model_summary(const model_info& info) {
  std::ostringstream out;
  out << "model        " << info.name << "\n";
  if (!info.path.empty()) out << "file         " << info.path.string() << "\n";
  if (!info.manifest.empty()) out << "manifest     " << info.manifest.string() << "\n";
  if (!info.description.empty()) out << "description  " << info.description << "\n";
  if (!info.header.producer_name.empty())
    out << "producer     " << info.header.producer_name
        << (info.header.producer_version.empty() ? "" : " " + info.header.producer_version) << "\n";
  out << "format       ONNX, IR version " << info.header.ir_version << ", opset";
  bool first = true;
  for (const auto& [domain, version] : info.opsets) {
    out << (first ? " " : ", ") << domain_name(domain) << " " << version;
    first = false;
  }
  out << "\n";
  out << "quantization " << info.quantization_format << "\n";
  for (const auto& [key, value] : info.header.metadata) out << "metadata     " << key << " = " << value << "\n";
  tensor_columns columns;
  columns.fit(info.inputs);
  columns.fit(info.outputs);
  tensor_lines(out, "inputs", info.inputs, columns);
  tensor_lines(out, "outputs", info.outputs, columns);
  out << "nodes        " << info.node_count << "\n";
  std::size_t op_width = 0;
  for (const auto& [op, count] : info.op_counts) op_width = std::max(op_width, op.size());
  for (const auto& [op, count] : sorted_ops(info)) {
    char line[256];
    std::snprintf(line, sizeof line, "  %-*s  %zu\n", static_cast<int>(op_width), op.c_str(), count);
    out << line;
  }
  out << "parameters   " << grouped(info.parameter_count) << " (" << count_text(info.parameter_count)
      << ") in " << info.initializer_count << " initializers, " << bytes_text(info.parameter_bytes) << "\n";
  out << "MACs         " << grouped(info.macs) << " (" << count_text(info.macs) << ")"
      << (info.macs_source == "plan" ? ", from the plan" : ", counted from Conv/Gemm/MatMul shapes")
      << (info.macs_complete ? "" : ", incomplete: some shapes are unknown") << "\n";
  for (const auto& w : info.warnings) out << "warning      " << w << "\n";
  return out.str();
}

std::string model_summary_json(const model_info& info) {
  ordered_json j;
  j["name"] = info.name;
  j["file"] = info.path.string();
  j["manifest"] = info.manifest.empty() ? ordered_json(nullptr) : ordered_json(info.manifest.string());
  j["description"] = info.description;
  j["producer"] = {{"name", info.header.producer_name}, {"version", info.header.producer_version}};
  j["ir_version"] = info.header.ir_version;
  j["domain"] = info.header.domain;
  j["model_version"] = info.header.model_version;
  ordered_json opsets = ordered_json::object();
  for (const auto& [domain, version] : info.opsets) opsets[domain_name(domain)] = version;
  j["opsets"] = opsets;
  j["metadata"] = ordered_json(info.header.metadata);
  j["quantization_format"] = info.quantization_format;
  j["inputs"] = ordered_json::array();
  for (const auto& t : info.inputs) j["inputs"].push_back(tensor_json(t));
  j["outputs"] = ordered_json::array();
  for (const auto& t : info.outputs) j["outputs"].push_back(tensor_json(t));
  j["node_count"] = info.node_count;
  ordered_json ops = ordered_json::object();
  for (const auto& [op, count] : sorted_ops(info)) ops[op] = count;
  j["op_counts"] = ops;
  j["initializer_count"] = info.initializer_count;
  j["parameter_count"] = info.parameter_count;
  j["parameter_bytes"] = info.parameter_bytes;
  j["macs"] = info.macs;
  j["macs_source"] = info.macs_source;
  j["macs_complete"] = info.macs_complete;
  j["warnings"] = info.warnings;
  return j.dump(2);
}

}  // namespace edgert::engine
