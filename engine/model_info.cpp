// Describing a model: tensor_info for its inputs and outputs, op counts, parameters, MACs
// (see engine/model_info.hpp). The text and JSON summaries are in model_summary.cpp.
#include "engine/model_info.hpp"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <algorithm>
#include <climits>
#include <set>
#include <unordered_map>

#include "engine/onnx_detail.hpp"
#include "engine/onnx_loader.hpp"
#include "engine/plan.hpp"

namespace edgert::engine {

namespace fs = std::filesystem;

namespace {

// Ops that move quantized values around without changing their scale or zero point.
const std::set<std::string> quant_transparent = {"Identity", "Reshape", "Flatten", "Squeeze",
                                                 "Unsqueeze", "Transpose", "MaxPool"};

// Ops that keep their first input's layout in their output.
const std::set<std::string> layout_transparent = {
    "Identity", "QuantizeLinear", "DequantizeLinear", "Relu", "Clip", "LeakyRelu", "PRelu",
    "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Softplus", "Cast", "Add", "Sub", "Mul",
    "Div", "Softmax", "Dropout"};

// Ops whose data input and output are channel-first images (NCW, NCHW, NCDHW).
const std::set<std::string> channel_first = {
    "Conv", "ConvInteger", "QLinearConv", "ConvTranspose", "MaxPool", "AveragePool",
    "GlobalAveragePool", "GlobalMaxPool", "BatchNormalization", "InstanceNormalization", "LRN",
    "DepthToSpace", "SpaceToDepth", "Resize", "Upsample", "LpPool", "MaxUnpool"};

// A graph index: who produces and who consumes each value.
struct graph_links {
  std::unordered_map<std::string, std::size_t> producer;
  std::unordered_map<std::string, std::vector<std::pair<std::size_t, std::size_t>>> consumers;

  explicit graph_links(const graph& g) {
    for (std::size_t i = 0; i < g.nodes.size(); ++i) {
      for (const auto& out : g.nodes[i].outputs)
        if (!out.empty()) producer.emplace(out, i);
      for (std::size_t k = 0; k < g.nodes[i].inputs.size(); ++k)
        if (!g.nodes[i].inputs[k].empty()) consumers[g.nodes[i].inputs[k]].emplace_back(i, k);
    }
  }
};

// The one-element constant tensor named `name`: an initializer or a Constant node's value.
const tensor* scalar_constant(const graph& g, const graph_links& links, const std::string& name) {
  const tensor* t = nullptr;
  if (auto it = g.initializers.find(name); it != g.initializers.end()) {
    t = &it->second;
  } else if (auto p = links.producer.find(name); p != links.producer.end()) {
    const node& n = g.nodes[p->second];
    if (n.op_type == "Constant" && n.domain.empty())
      if (const attribute* a = n.find("value"); a && a->type == attribute::kind::t) t = &a->t;
  }
  return t && t->elements() == 1 ? t : nullptr;
}

// Quantization parameters given by node inputs `scale_at` and `zero_at` (the zero point may
// be omitted: 0). nullopt unless both are one-element constants of the expected types.
std::optional<quant_params> params_from(const graph& g, const graph_links& links, const node& n,
                                        std::size_t scale_at, std::size_t zero_at) {
  if (n.inputs.size() <= scale_at || n.inputs[scale_at].empty()) return std::nullopt;
  const tensor* scale = scalar_constant(g, links, n.inputs[scale_at]);
  if (!scale || scale->type() != dtype::f32) return std::nullopt;
  quant_params q{scale->data<float>()[0], 0};
  if (zero_at < n.inputs.size() && !n.inputs[zero_at].empty()) {
    const tensor* zero = scalar_constant(g, links, n.inputs[zero_at]);
    if (!zero) return std::nullopt;
    if (zero->type() == dtype::i8) q.zero_point = zero->data<std::int8_t>()[0];
    else if (zero->type() == dtype::u8) q.zero_point = zero->data<std::uint8_t>()[0];
    else return std::nullopt;
  }
  return q;
}

// Follows a graph input forward to the first node that states its quantization.
std::optional<quant_params> input_quantization(const graph& g, const graph_links& links,
                                               const std::string& value, int depth = 0) {
  auto it = links.consumers.find(value);
  if (it == links.consumers.end() || depth > 16) return std::nullopt;
  for (auto [index, slot] : it->second) {
    const node& n = g.nodes[index];
    if (!n.domain.empty()) continue;
    std::optional<quant_params> q;
    if ((n.op_type == "DequantizeLinear" || n.op_type == "QLinearConv") && slot == 0)
      q = params_from(g, links, n, 1, 2);
    else if (n.op_type == "QLinearMatMul" && (slot == 0 || slot == 3))
      q = params_from(g, links, n, slot + 1, slot + 2);
    else if (quant_transparent.count(n.op_type) && slot == 0 && !n.outputs.empty())
      q = input_quantization(g, links, n.outputs[0], depth + 1);
    if (q) return q;
  }
  return std::nullopt;
}

// Follows a graph output back to the node that states its quantization.
std::optional<quant_params> output_quantization(const graph& g, const graph_links& links,
                                                const std::string& value, int depth = 0) {
  auto it = links.producer.find(value);
  if (it == links.producer.end() || depth > 16) return std::nullopt;
  const node& n = g.nodes[it->second];
  if (!n.domain.empty()) return std::nullopt;
  if (n.op_type == "QuantizeLinear") return params_from(g, links, n, 1, 2);
  if (n.op_type == "QLinearConv" || n.op_type == "QLinearMatMul") return params_from(g, links, n, 6, 7);
  if (quant_transparent.count(n.op_type) && !n.inputs.empty())
    return output_quantization(g, links, n.inputs[0], depth + 1);
  return std::nullopt;
}

std::string channel_first_layout(std::size_t rank) {
  switch (rank) {
    case 3: return "NCW";
    case 4: return "NCHW";
    case 5: return "NCDHW";
    default: return "";
  }
}

// Walks from a value through layout-preserving consumers to an op that fixes its layout.
std::string input_layout(const graph& g, const graph_links& links, const std::string& value,
                         std::size_t rank, int depth = 0) {
  auto it = links.consumers.find(value);
  if (it == links.consumers.end() || depth > 16) return "";
  for (auto [index, slot] : it->second) {
    const node& n = g.nodes[index];
    if (!n.domain.empty() || slot != 0) continue;
    if (channel_first.count(n.op_type)) return channel_first_layout(rank);
    if ((n.op_type == "Gemm" || n.op_type == "Flatten") && rank == 2) return "NC";
    if (layout_transparent.count(n.op_type) && !n.outputs.empty()) {
      auto layout = input_layout(g, links, n.outputs[0], rank, depth + 1);
      if (!layout.empty()) return layout;
    }
  }
  return "";
}

// Walks from a value back through layout-preserving producers to an op that fixes its layout.
std::string output_layout(const graph& g, const graph_links& links, const std::string& value,
                          std::size_t rank, int depth = 0) {
  auto it = links.producer.find(value);
  if (it == links.producer.end() || depth > 16) return "";
  const node& n = g.nodes[it->second];
  if (!n.domain.empty()) return "";
  if (channel_first.count(n.op_type)) return channel_first_layout(rank);
  if (rank == 2 && (n.op_type == "Gemm" || n.op_type == "Flatten")) return "NC";
  // A 2-D product of a flattened image keeps its rows as the batch.
  if (rank == 2 && (n.op_type == "MatMul" || n.op_type == "QLinearMatMul" ||
                    n.op_type == "MatMulInteger") && !n.inputs.empty())
    return output_layout(g, links, n.inputs[0], rank, depth + 1);
  if (layout_transparent.count(n.op_type) && !n.inputs.empty())
    return output_layout(g, links, n.inputs[0], rank, depth + 1);
  return "";
}

std::optional<shape_t> static_shape(const graph& g, const std::string& name) {
  auto it = g.values.find(name);
  if (it == g.values.end() || !it->second.shape) return std::nullopt;
  for (auto d : *it->second.shape)
    if (d < 0) return std::nullopt;
  return it->second.shape;
}

std::uint64_t product(const shape_t& s, std::size_t from = 0) {
  std::uint64_t p = 1;
  for (std::size_t i = from; i < s.size(); ++i) p *= static_cast<std::uint64_t>(s[i]);
  return p;
}

// MACs of one node; nullopt when it is a counted op whose shapes are unknown.
std::optional<std::uint64_t> node_macs(const graph& g, const node& n) {
  if (!n.domain.empty()) return 0;
  const std::string& op = n.op_type;
  auto in_shape = [&](std::size_t k) -> std::optional<shape_t> {
    if (k >= n.inputs.size() || n.inputs[k].empty()) return std::nullopt;
    return static_shape(g, n.inputs[k]);
  };
  auto out_shape = [&]() -> std::optional<shape_t> {
    if (n.outputs.empty() || n.outputs[0].empty()) return std::nullopt;
    return static_shape(g, n.outputs[0]);
  };
  if (op == "Conv" || op == "ConvInteger" || op == "QLinearConv") {
    auto w = in_shape(op == "QLinearConv" ? 3 : 1);
    auto y = out_shape();
    if (!w || !y || w->size() < 2) return std::nullopt;
    return product(*y) * product(*w, 1);  // output elements x (C/group x kernel area)
  }
  if (op == "ConvTranspose") {
    auto x = in_shape(0);
    auto w = in_shape(1);
    if (!x || !w || w->size() < 2) return std::nullopt;
    return product(*x) * product(*w, 1);  // input elements x (M/group x kernel area)
  }
  if (op == "Gemm" || op == "MatMul" || op == "MatMulInteger" || op == "QLinearMatMul") {
    auto a = in_shape(0);
    auto y = out_shape();
    if (!a || !y || a->empty()) return std::nullopt;
    std::int64_t k = a->back();
    if (op == "Gemm" && n.get_int("transA", 0) != 0 && a->size() == 2) k = (*a)[0];
    return product(*y) * static_cast<std::uint64_t>(k);
  }
  return 0;
}

std::string op_key(const node& n) {
  if (n.domain.empty() || n.domain == "ai.onnx") return n.op_type;
  return n.domain + "." + n.op_type;
}

std::string infer_quantization_format(const graph& g) {
  bool qdq = false, qop = false, integer = false;
  for (const auto& n : g.nodes) {
    if (!n.domain.empty()) continue;
    if (n.op_type == "QLinearConv" || n.op_type == "QLinearMatMul") qop = true;
    else if (n.op_type == "QuantizeLinear" || n.op_type == "DequantizeLinear") qdq = true;
    else if (n.op_type == "ConvInteger" || n.op_type == "MatMulInteger") integer = true;
  }
  if (qop) return "qoperator";
  if (qdq) return "qdq";
  if (integer) return "integer";
  return "none";
}

std::string describe_quant(const quant_params& q) {
  return "scale " + std::to_string(q.scale) + ", zero point " + std::to_string(q.zero_point);
}

// Builds one tensor_info from the graph and, when present, its manifest entry.
result<tensor_info> make_tensor_info(const graph& g, const graph_links& links, const value_info& v,
                                     bool is_input, const manifest_tensor* m,
                                     std::vector<std::string>& warnings) {
  tensor_info t;
  t.name = v.name;
  t.type = v.type;
  t.rank_known = v.shape.has_value();
  if (v.shape) t.shape = *v.shape;
  t.unpadded_shape = t.shape;
  if (t.rank_known) {
    t.layout = is_input ? input_layout(g, links, v.name, t.shape.size())
                        : output_layout(g, links, v.name, t.shape.size());
  }
  if (t.type == dtype::i8 || t.type == dtype::u8)
    t.quantization = is_input ? input_quantization(g, links, v.name)
                              : output_quantization(g, links, v.name);
  if (!m) return t;

  const std::string what = std::string(is_input ? "input" : "output") + " '" + v.name + "'";
  if (m->type != dtype::undefined && m->type != t.type)
    return fail(errc::invalid_argument, "manifest: " + what + " is " +
                                            std::string(to_string(m->type)) + " but the model says " +
                                            std::string(to_string(t.type)));
  if (!m->padding.empty()) {
    if (!m->shape)
      return fail(errc::invalid_argument, "manifest: " + what + " has a padding but no shape");
    t.padding = m->padding;
  }
  if (m->shape) {
    auto stored = padded_shape(*m->shape, m->padding);
    if (!stored) return fail(errc::invalid_argument, "manifest: " + what + ": " + stored.error().message);
    bool agrees = t.rank_known && stored->size() == t.shape.size();
    for (std::size_t d = 0; agrees && d < t.shape.size(); ++d)
      agrees = t.shape[d] < 0 || t.shape[d] == (*stored)[d];
    if (!agrees)
      return fail(errc::invalid_argument,
                  "manifest: " + what + " has shape " + to_string(*m->shape) +
                      (is_unpadded(m->padding) ? "" : " (" + to_string(*stored) + " padded)") +
                      " but the model says " + (t.rank_known ? to_string(t.shape) : "unknown rank"));
    t.shape = *stored;  // fills run-time dimensions the manifest fixes
    t.rank_known = true;
    t.unpadded_shape = *m->shape;
  }
  if (!m->layout.empty()) {
    if (m->layout.size() != t.shape.size())
      return fail(errc::invalid_argument,
                  "manifest: " + what + " layout '" + m->layout + "' does not match rank " +
                      std::to_string(t.shape.size()));
    t.layout = m->layout;
  }
  if (m->quantization) {
    if (t.type != dtype::i8 && t.type != dtype::u8)
      return fail(errc::invalid_argument, "manifest: " + what + " has quantization parameters but is " +
                                              std::string(to_string(t.type)));
    if (t.quantization && !(*t.quantization == *m->quantization))
      warnings.push_back(what + ": the manifest's " + describe_quant(*m->quantization) +
                         " replaces the graph's " + describe_quant(*t.quantization));
    t.quantization = m->quantization;
  }
  return t;
}

}  // namespace

std::int64_t tensor_info::elements() const noexcept {
  if (!rank_known) return -1;
  for (auto d : shape)
    if (d < 0) return -1;
  return element_count(shape);
}

std::uint64_t tensor_info::size_bytes() const noexcept {
  auto n = elements();
  return n < 0 ? 0 : static_cast<std::uint64_t>(n) * size_of(type);
}

std::uint64_t count_macs(const graph& g, bool* complete) {
  std::uint64_t total = 0;
  if (complete) *complete = true;
  for (const auto& n : g.nodes) {
    auto m = node_macs(g, n);
    if (m) total += *m;
    else if (complete) *complete = false;
  }
  return total;
}

result<model_header> read_model_header(std::string_view bytes) {
  using google::protobuf::io::CodedInputStream;
  using google::protobuf::internal::WireFormatLite;
  const failure bad = fail(errc::invalid_argument, "not an ONNX model: the header cannot be read");
  CodedInputStream in(reinterpret_cast<const std::uint8_t*>(bytes.data()), static_cast<int>(bytes.size()));
  in.SetTotalBytesLimit(static_cast<int>(std::min<std::size_t>(bytes.size(), INT32_MAX)));
  model_header h;
  auto read_string = [&in](std::string& out) {
    std::uint32_t length = 0;
    return in.ReadVarint32(&length) && in.ReadString(&out, static_cast<int>(length));
  };
  while (std::uint32_t tag = in.ReadTag()) {
    const int field = static_cast<int>(WireFormatLite::GetTagFieldNumber(tag));
    const auto wire = WireFormatLite::GetTagWireType(tag);
    const bool varint = wire == WireFormatLite::WIRETYPE_VARINT;
    const bool delimited = wire == WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
    std::uint64_t number = 0;
    bool ok = true;
    if (field == 1 && varint) {
      ok = in.ReadVarint64(&number);
      h.ir_version = static_cast<std::int64_t>(number);
    } else if (field == 5 && varint) {
      ok = in.ReadVarint64(&number);
      h.model_version = static_cast<std::int64_t>(number);
    } else if (field == 2 && delimited) {
      ok = read_string(h.producer_name);
    } else if (field == 3 && delimited) {
      ok = read_string(h.producer_version);
    } else if (field == 4 && delimited) {
      ok = read_string(h.domain);
    } else if (field == 6 && delimited) {
      ok = read_string(h.doc_string);
    } else if ((field == 7 || field == 14) && delimited) {
      // GraphProto (its name is field 2) or StringStringEntryProto (key 1, value 2).
      std::uint32_t length = 0;
      if (!in.ReadVarint32(&length)) return bad;
      auto limit = in.PushLimit(static_cast<int>(length));
      std::string key, value;
      while (std::uint32_t inner = in.ReadTag()) {
        const int f = static_cast<int>(WireFormatLite::GetTagFieldNumber(inner));
        const bool text = WireFormatLite::GetTagWireType(inner) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
        if (field == 7 && f == 2 && text) ok = read_string(h.graph_name);
        else if (field == 14 && f == 1 && text) ok = read_string(key);
        else if (field == 14 && f == 2 && text) ok = read_string(value);
        else ok = WireFormatLite::SkipField(&in, inner);
        if (!ok) return bad;
      }
      if (!in.ConsumedEntireMessage()) return bad;
      in.PopLimit(limit);
      if (field == 14 && !key.empty()) h.metadata[key] = value;
    } else {
      ok = WireFormatLite::SkipField(&in, tag);
    }
    if (!ok) return bad;
  }
  if (!in.ConsumedEntireMessage()) return bad;
  return h;
}

result<model_info> describe_graph(const graph& g, const model_header& header,
                                  const model_manifest* manifest) {
  model_info info;
  info.header = header;
  info.opsets = g.opsets;
  info.name = manifest && !manifest->name.empty() ? manifest->name : header.graph_name;
  info.description = manifest && !manifest->description.empty() ? manifest->description : header.doc_string;
  if (manifest) info.manifest = manifest->path;
  info.quantization_format = manifest && !manifest->quantization_format.empty()
                                 ? manifest->quantization_format
                                 : infer_quantization_format(g);

  const graph_links links(g);
  for (const auto& v : g.inputs) {
    auto t = make_tensor_info(g, links, v, true, manifest ? manifest->find_input(v.name) : nullptr,
                              info.warnings);
    if (!t) return t.error();
    info.inputs.push_back(std::move(*t));
  }
  for (const auto& v : g.outputs) {
    auto t = make_tensor_info(g, links, v, false, manifest ? manifest->find_output(v.name) : nullptr,
                              info.warnings);
    if (!t) return t.error();
    info.outputs.push_back(std::move(*t));
  }
  if (manifest) {
    for (const auto& m : manifest->inputs)
      if (!std::any_of(g.inputs.begin(), g.inputs.end(), [&](const value_info& v) { return v.name == m.name; }))
        return fail(errc::invalid_argument, "manifest: input '" + m.name + "' is not a graph input");
    for (const auto& m : manifest->outputs)
      if (!std::any_of(g.outputs.begin(), g.outputs.end(), [&](const value_info& v) { return v.name == m.name; }))
        return fail(errc::invalid_argument, "manifest: output '" + m.name + "' is not a graph output");
  }

  info.node_count = g.nodes.size();
  for (const auto& n : g.nodes) ++info.op_counts[op_key(n)];
  info.initializer_count = g.initializers.size();
  for (const auto& [name, t] : g.initializers) {
    info.parameter_count += static_cast<std::uint64_t>(t.elements());
    info.parameter_bytes += t.bytes();
  }
  info.macs = count_macs(g, &info.macs_complete);
  info.macs_source = "shapes";
  if (manifest && manifest->macs && info.macs_complete && *manifest->macs != info.macs)
    info.warnings.push_back("the manifest states " + std::to_string(*manifest->macs) +
                            " MACs, the graph's shapes give " + std::to_string(info.macs));
  return info;
}

result<model_info> describe_model_file(const fs::path& model_file, std::shared_ptr<const graph>* loaded_out) {
  auto loaded = load_onnx_file(model_file);
  if (!loaded) return loaded.error();
  auto bytes = read_file_bytes(model_file);
  if (!bytes) return bytes.error();
  auto header = read_model_header(*bytes);
  if (!header) return fail(header.code(), "'" + model_file.string() + "' is " + header.error().message);
  auto manifest = find_manifest_for(model_file);
  if (!manifest) return manifest.error();
  auto info = describe_graph(*loaded, *header, *manifest ? &**manifest : nullptr);
  if (!info) {
    const fs::path where = *manifest ? (*manifest)->path : model_file;
    return fail(info.code(), "'" + where.string() + "': " + info.error().message);
  }
  info->path = model_file;
  if (info->name.empty()) info->name = model_file.stem().string();
  if (loaded_out) *loaded_out = std::make_shared<const graph>(std::move(*loaded));
  return info;
}

void apply_plan_cost(model_info& info, const plan_cost& cost) {
  info.macs = cost.macs;
  info.macs_source = "plan";
  info.macs_complete = true;
}

}  // namespace edgert::engine
