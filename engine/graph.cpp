#include "engine/graph.hpp"

namespace edgert::engine {

const attribute* node::find(const std::string& key) const {
  auto i = attributes.find(key);
  return i == attributes.end() ? nullptr : &i->second;
}

std::int64_t node::get_int(const std::string& key, std::int64_t fallback) const {
  auto* a = find(key);
  return a ? a->i : fallback;
}

float node::get_float(const std::string& key, float fallback) const {
  auto* a = find(key);
  return a ? a->f : fallback;
}

std::string node::get_string(const std::string& key, const std::string& fallback) const {
  auto* a = find(key);
  return a ? a->s : fallback;
}

std::vector<std::int64_t> node::get_ints(const std::string& key) const {
  auto* a = find(key);
  return a ? a->ints : std::vector<std::int64_t>{};
}

std::vector<float> node::get_floats(const std::string& key) const {
  auto* a = find(key);
  return a ? a->floats : std::vector<float>{};
}

std::string node::describe() const {
  std::string label = domain.empty() ? op_type : domain + "." + op_type;
  return name.empty() ? label : label + " (node '" + name + "')";
}

std::int64_t graph::opset(const std::string& domain) const {
  auto i = opsets.find(domain);
  if (i != opsets.end()) return i->second;
  if (domain == "ai.onnx") return opset("");
  return 0;
}

}  // namespace edgert::engine
