// The engine's model representation: a graph of nodes over named values, converted from
// ONNX once at load (engine/onnx_loader.hpp). Plain data; a graph is owned by its model and
// immutable once loaded.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/tensor.hpp"

namespace edgert::engine {

struct attribute {
  enum class kind { f, i, s, t, floats, ints, strings, graph };
  kind type = kind::i;
  float f = 0;
  std::int64_t i = 0;
  std::string s;
  tensor t;
  std::vector<float> floats;
  std::vector<std::int64_t> ints;
  std::vector<std::string> strings;
};

struct node {
  std::string name;
  std::string op_type;
  std::string domain;  // "" is the default ONNX domain
  std::vector<std::string> inputs;   // "" marks an omitted optional input
  std::vector<std::string> outputs;  // "" marks an unused optional output
  std::map<std::string, attribute> attributes;

  const attribute* find(const std::string& key) const;
  std::int64_t get_int(const std::string& key, std::int64_t fallback) const;
  float get_float(const std::string& key, float fallback) const;
  std::string get_string(const std::string& key, const std::string& fallback) const;
  std::vector<std::int64_t> get_ints(const std::string& key) const;
  std::vector<float> get_floats(const std::string& key) const;
  /// "Conv (node 'conv1')" for messages.
  std::string describe() const;
};

/// What is known statically about a value: its type and, if known, each dimension (-1 for a
/// dimension that is only known at run time, e.g. a symbolic batch size).
struct value_info {
  std::string name;
  dtype type = dtype::undefined;
  std::optional<shape_t> shape;
};

struct graph {
  std::vector<node> nodes;                  // topologically sorted after loading
  std::map<std::string, tensor> initializers;
  std::vector<value_info> inputs;           // graph inputs that are not initializers
  std::vector<value_info> outputs;
  std::map<std::string, value_info> values; // every value with inferred type/shape
  std::map<std::string, std::int64_t> opsets;  // domain -> opset version ("" = ONNX)
  std::int64_t opset(const std::string& domain = "") const;
};

}  // namespace edgert::engine
