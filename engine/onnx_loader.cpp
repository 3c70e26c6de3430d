// Conversion of an ONNX ModelProto into an engine::graph (see engine/onnx_loader.hpp).
#include "engine/onnx_loader.hpp"

#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <queue>
#include <set>
#include <unordered_map>

#include "engine/onnx_detail.hpp"

namespace edgert::engine {

namespace fs = std::filesystem;

namespace {

std::string normalise_domain(const std::string& domain) {
  return domain == "ai.onnx" ? std::string{} : domain;
}

const char* type_case_name(const onnx::TypeProto& t) {
  switch (t.value_case()) {
    case onnx::TypeProto::kTensorType: return "tensor";
    case onnx::TypeProto::kSequenceType: return "sequence";
    case onnx::TypeProto::kMapType: return "map";
    case onnx::TypeProto::kOptionalType: return "optional";
    case onnx::TypeProto::kSparseTensorType: return "sparse tensor";
    case onnx::TypeProto::kOpaqueType: return "opaque";
    default: return "unset";
  }
}

// Converts a tensor-typed ValueInfoProto. `role` ("graph input", ...) labels errors. Types the
// engine cannot hold are not_implemented; an unset type gives dtype::undefined and no shape.
result<value_info> convert_value_info(const onnx::ValueInfoProto& vi, const std::string& role) {
  value_info out;
  out.name = vi.name();
  const auto& type = vi.type();
  if (type.value_case() == onnx::TypeProto::VALUE_NOT_SET) return out;
  if (!type.has_tensor_type())
    return fail(errc::not_implemented, role + " '" + vi.name() + "' has " +
                                           type_case_name(type) +
                                           " type; the engine supports tensors only");
  const auto& tt = type.tensor_type();
  if (tt.elem_type() != 0) {
    out.type = from_onnx(tt.elem_type());
    if (out.type == dtype::undefined || !is_supported(out.type))
      return fail(errc::not_implemented, role + " '" + vi.name() + "' has element type " +
                                             onnx_type_name(tt.elem_type()) +
                                             ", which the engine does not support");
  }
  if (tt.has_shape()) {
    shape_t shape;
    for (const auto& d : tt.shape().dim())
      shape.push_back(d.has_dim_value() && d.dim_value() >= 0 ? d.dim_value() : -1);
    out.shape = std::move(shape);
  }
  return out;
}

// The attribute type, deduced from the populated field for files written before the type
// field existed.
int attribute_type(const onnx::AttributeProto& a) {
  if (a.type() != onnx::AttributeProto_AttributeType_UNDEFINED) return a.type();
  if (a.has_f()) return onnx::AttributeProto_AttributeType_FLOAT;
  if (a.has_i()) return onnx::AttributeProto_AttributeType_INT;
  if (a.has_s()) return onnx::AttributeProto_AttributeType_STRING;
  if (a.has_t()) return onnx::AttributeProto_AttributeType_TENSOR;
  if (a.has_g()) return onnx::AttributeProto_AttributeType_GRAPH;
  if (a.floats_size()) return onnx::AttributeProto_AttributeType_FLOATS;
  if (a.ints_size()) return onnx::AttributeProto_AttributeType_INTS;
  if (a.strings_size()) return onnx::AttributeProto_AttributeType_STRINGS;
  if (a.graphs_size()) return onnx::AttributeProto_AttributeType_GRAPHS;
  return onnx::AttributeProto_AttributeType_UNDEFINED;
}

result<attribute> convert_attribute(const onnx::AttributeProto& a, const node& owner,
                                    const fs::path& base_dir) {
  attribute out;
  auto where = [&] { return "attribute '" + a.name() + "' of " + owner.describe(); };
  switch (attribute_type(a)) {
    case onnx::AttributeProto_AttributeType_FLOAT:
      out.type = attribute::kind::f;
      out.f = a.f();
      break;
    case onnx::AttributeProto_AttributeType_INT:
      out.type = attribute::kind::i;
      out.i = a.i();
      break;
    case onnx::AttributeProto_AttributeType_STRING:
      out.type = attribute::kind::s;
      out.s = a.s();
      break;
    case onnx::AttributeProto_AttributeType_TENSOR: {
      out.type = attribute::kind::t;
      auto t = tensor_from_proto(a.t(), base_dir);
      if (!t) return fail(t.code(), where() + ": " + t.error().message);
      out.t = std::move(t.value());
      break;
    }
    case onnx::AttributeProto_AttributeType_GRAPH:
    case onnx::AttributeProto_AttributeType_GRAPHS:
      out.type = attribute::kind::graph;
      break;
    case onnx::AttributeProto_AttributeType_FLOATS:
      out.type = attribute::kind::floats;
      out.floats.assign(a.floats().begin(), a.floats().end());
      break;
    case onnx::AttributeProto_AttributeType_INTS:
      out.type = attribute::kind::ints;
      out.ints.assign(a.ints().begin(), a.ints().end());
      break;
    case onnx::AttributeProto_AttributeType_STRINGS:
      out.type = attribute::kind::strings;
      out.strings.assign(a.strings().begin(), a.strings().end());
      break;
    case onnx::AttributeProto_AttributeType_TENSORS:
    case onnx::AttributeProto_AttributeType_SPARSE_TENSOR:
    case onnx::AttributeProto_AttributeType_SPARSE_TENSORS:
    case onnx::AttributeProto_AttributeType_TYPE_PROTO:
    case onnx::AttributeProto_AttributeType_TYPE_PROTOS:
      return fail(errc::not_implemented,
                  where() + " has type " +
                      onnx::AttributeProto_AttributeType_Name(
                          static_cast<onnx::AttributeProto_AttributeType>(a.type())) +
                      ", which the engine does not support");
    default:
      return fail(errc::invalid_argument, where() + " has no value");
  }
  return out;
}

result<node> convert_node(const onnx::NodeProto& np, const fs::path& base_dir) {
  node n;
  n.name = np.name();
  n.op_type = np.op_type();
  n.domain = normalise_domain(np.domain());
  n.inputs.assign(np.input().begin(), np.input().end());
  n.outputs.assign(np.output().begin(), np.output().end());
  if (n.op_type.empty())
    return fail(errc::invalid_argument, "node '" + n.name + "' has no op_type");
  for (const auto& a : np.attribute()) {
    if (n.attributes.count(a.name()))
      return fail(errc::invalid_argument,
                  n.describe() + " has two attributes named '" + a.name() + "'");
    auto converted = convert_attribute(a, n, base_dir);
    if (!converted) return converted.error();
    n.attributes.emplace(a.name(), std::move(converted.value()));
  }
  return n;
}

// Orders nodes so every node follows the producers of its inputs, keeping the file's order
// where the dependencies allow. `producer` maps a value to the index of the node making it.
result<std::vector<node>> topological_sort(std::vector<node> nodes,
                                           const std::unordered_map<std::string, std::size_t>& producer) {
  const std::size_t count = nodes.size();
  std::vector<std::size_t> pending(count, 0);
  std::vector<std::vector<std::size_t>> consumers(count);
  for (std::size_t i = 0; i < count; ++i)
    for (const auto& in : nodes[i].inputs) {
      if (in.empty()) continue;
      auto p = producer.find(in);
      if (p == producer.end()) continue;
      ++pending[i];
      consumers[p->second].push_back(i);
    }
  std::priority_queue<std::size_t, std::vector<std::size_t>, std::greater<>> ready;
  for (std::size_t i = 0; i < count; ++i)
    if (pending[i] == 0) ready.push(i);
  std::vector<std::size_t> order;
  order.reserve(count);
  while (!ready.empty()) {
    std::size_t i = ready.top();
    ready.pop();
    order.push_back(i);
    for (auto c : consumers[i])
      if (--pending[c] == 0) ready.push(c);
  }
  if (order.size() < count) {
    // Every node left waits on another node left, so walking from one to the producer of an
    // unresolved input must eventually revisit a node: that walk's tail is a cycle.
    std::size_t at = 0;
    while (pending[at] == 0) ++at;
    std::vector<std::size_t> path;
    std::vector<int> seen_at(count, -1);
    while (seen_at[at] < 0) {
      seen_at[at] = static_cast<int>(path.size());
      path.push_back(at);
      for (const auto& in : nodes[at].inputs) {
        auto p = producer.find(in);
        if (!in.empty() && p != producer.end() && pending[p->second] > 0) {
          at = p->second;
          break;
        }
      }
    }
    std::string cycle;
    for (std::size_t k = static_cast<std::size_t>(seen_at[at]); k < path.size(); ++k)
      cycle += nodes[path[k]].describe() + " -> ";
    cycle += nodes[at].describe();
    return fail(errc::invalid_argument, "the graph has a cycle: " + cycle);
  }
  std::vector<node> sorted;
  sorted.reserve(count);
  for (auto i : order) sorted.push_back(std::move(nodes[i]));
  return sorted;
}

result<graph> convert_model(onnx::ModelProto& model, const fs::path& base_dir,
                            const std::string& label) {
  if (!model.has_graph() || model.ir_version() <= 0)
    return fail(errc::invalid_argument,
                label + " is not an ONNX model: it has no " +
                    (model.ir_version() <= 0 ? "ir_version" : "graph"));
  graph g;
  for (const auto& op : model.opset_import())
    g.opsets[normalise_domain(op.domain())] = op.version();

  const auto& gp = model.graph();
  if (gp.node_size() == 0) return fail(errc::invalid_argument, label + ": the graph has no nodes");
  if (gp.output_size() == 0)
    return fail(errc::invalid_argument, label + ": the graph has no outputs");
  if (gp.sparse_initializer_size() > 0)
    return fail(errc::not_implemented, label + ": sparse initializers are not supported");

  for (const auto& init : gp.initializer()) {
    if (init.name().empty())
      return fail(errc::invalid_argument, label + ": an initializer has no name");
    if (g.initializers.count(init.name()))
      return fail(errc::invalid_argument,
                  label + ": two initializers are named '" + init.name() + "'");
    auto t = tensor_from_proto(init, base_dir);
    if (!t) return fail(t.code(), label + ": initializer: " + t.error().message);
    g.initializers.emplace(init.name(), std::move(t.value()));
  }

  std::set<std::string> available;  // values defined before any node runs
  for (const auto& [name, t] : g.initializers) {
    available.insert(name);
    g.values[name] = value_info{name, t.type(), t.shape()};
  }
  for (const auto& vi : gp.input()) {
    if (g.initializers.count(vi.name())) continue;  // an input with a default: a constant
    if (vi.name().empty()) return fail(errc::invalid_argument, label + ": a graph input has no name");
    if (!available.insert(vi.name()).second)
      return fail(errc::invalid_argument, label + ": two graph inputs are named '" + vi.name() + "'");
    auto v = convert_value_info(vi, "graph input");
    if (!v) return fail(v.code(), label + ": " + v.error().message);
    g.inputs.push_back(v.value());
    g.values[vi.name()] = std::move(v.value());
  }

  std::vector<node> nodes;
  nodes.reserve(static_cast<std::size_t>(gp.node_size()));
  std::unordered_map<std::string, std::size_t> producer;
  for (const auto& np : gp.node()) {
    auto n = convert_node(np, base_dir);
    if (!n) return fail(n.code(), label + ": " + n.error().message);
    for (const auto& out : n->outputs) {
      if (out.empty()) continue;
      if (available.count(out))
        return fail(errc::invalid_argument,
                    label + ": duplicate output name '" + out + "': " + n->describe() +
                        " produces a value that is already a graph input or initializer");
      auto [it, inserted] = producer.emplace(out, nodes.size());
      if (!inserted)
        return fail(errc::invalid_argument,
                    label + ": duplicate output name '" + out + "': produced by both " +
                        (it->second < nodes.size() ? nodes[it->second].describe()
                                                   : n->describe()) +
                        " and " + n->describe());
    }
    nodes.push_back(std::move(n.value()));
  }
  for (const auto& n : nodes)
    for (const auto& in : n.inputs)
      if (!in.empty() && !available.count(in) && !producer.count(in))
        return fail(errc::invalid_argument,
                    label + ": missing initializer or input '" + in + "' for node " + n.describe());

  for (const auto& vi : gp.output())
    if (!available.count(vi.name()) && !producer.count(vi.name()))
      return fail(errc::invalid_argument, label + ": graph output '" + vi.name() +
                                              "' is not produced by any node, input or initializer");
  auto sorted = topological_sort(std::move(nodes), producer);
  if (!sorted) return fail(sorted.code(), label + ": " + sorted.error().message);
  g.nodes = std::move(sorted.value());

  // Shape inference runs once the graph is known to be well formed; it adds value_info.
  try {
    onnx::ShapeInferenceOptions options(/*check_type=*/false, /*error_mode=*/0,
                                        /*enable_data_propagation=*/false);
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), options);
  } catch (const std::exception& e) {
    return fail(errc::invalid_argument, label + ": shape inference failed: " + e.what());
  }

  // Intermediate values, where inference found them (declared inputs and initializers win).
  for (const auto& vi : gp.value_info()) {
    auto v = convert_value_info(vi, "value");
    if (v && !vi.name().empty()) g.values.emplace(vi.name(), std::move(v.value()));
  }
  for (const auto& vi : gp.output()) {
    auto v = convert_value_info(vi, "graph output");
    if (!v) return fail(v.code(), label + ": " + v.error().message);
    auto known = g.values.find(vi.name());
    if (known != g.values.end()) {
      if (v->type == dtype::undefined) v->type = known->second.type;
      if (!v->shape) v->shape = known->second.shape;
    }
    g.outputs.push_back(v.value());
    g.values[vi.name()] = std::move(v.value());
  }

  return g;
}

result<graph> load_bytes(std::string_view bytes, const fs::path& base_dir,
                         const std::string& label) {
  if (bytes.empty()) return fail(errc::invalid_argument, label + " is not an ONNX model: it is empty");
  if (bytes.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    return fail(errc::not_implemented,
                label + " is larger than 2 GiB; store its weights as external data");
  onnx::ModelProto model;
  if (!model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    return fail(errc::invalid_argument,
                label + " is not an ONNX model: protobuf parsing failed (not a model, or truncated)");
  try {
    return convert_model(model, base_dir, label);
  } catch (const std::bad_alloc&) {
    return fail(errc::out_of_memory, label + " does not fit in memory");
  } catch (const std::exception& e) {
    return fail(errc::invalid_argument, label + " could not be loaded: " + e.what());
  }
}

}  // namespace

void prepare_onnx_schemas() { (void)onnx::OpSchemaRegistry::Schema("Relu", 14, ""); }

result<graph> load_onnx_bytes(std::string_view bytes, const fs::path& base_dir) {
  return load_bytes(bytes, base_dir, "the model");
}

result<graph> load_onnx_file(const fs::path& path) {
  auto bytes = read_file_bytes(path);
  if (!bytes) return bytes.error();
  return load_bytes(*bytes, path.parent_path(), "'" + path.string() + "'");
}

}  // namespace edgert::engine
