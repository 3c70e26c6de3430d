// Model metadata: quantize/pad helpers (exact values), manifest.json reading, and the
// tensor_info / op counts / parameters / MACs that describe_model_file and describe_graph
// derive from the committed MNIST models and from small models built in memory.
#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/model_info.hpp"
#include "engine/npy.hpp"
#include "engine/plan.hpp"
#include "engine/onnx_loader.hpp"
#include "engine_onnx_builder.hpp"
#include "support/temp_dir.hpp"

using namespace edgert;
using namespace edgert::engine;

namespace {

std::filesystem::path model_dir(const char* name) {
  return std::filesystem::path(EDGERT_TEST_DATA_DIR) / "models" / name;
}

tensor f32(shape_t shape, const std::vector<float>& values) {
  tensor t(dtype::f32, std::move(shape));
  REQUIRE(static_cast<std::size_t>(t.elements()) == values.size());
  std::memcpy(t.raw(), values.data(), t.bytes());
  return t;
}

template <class T>
std::vector<T> values_of(const tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.elements());
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

// A one-element initializer of the given ONNX type, stored as raw bytes.
void scalar_initializer(test::onnx_model& m, const std::string& name, int onnx_type, const void* bytes,
                        std::size_t size) {
  auto* t = m.graph().add_initializer();
  t->set_name(name);
  t->set_data_type(onnx_type);
  t->set_raw_data(std::string(static_cast<const char*>(bytes), size));
}

graph load_built(const test::onnx_model& m) {
  auto g = load_onnx_bytes(m.bytes(), {});
  REQUIRE_MESSAGE(g.ok(), g.error().message);
  return std::move(*g);
}

model_info describe_built(const test::onnx_model& m, const model_manifest* manifest = nullptr) {
  auto g = load_built(m);
  auto header = read_model_header(m.bytes());
  REQUIRE(header.ok());
  auto info = describe_graph(g, *header, manifest);
  REQUIRE_MESSAGE(info.ok(), info.error().message);
  return std::move(*info);
}

// input [1, 4] -> Relu -> output [1, 4], for manifest tests.
test::onnx_model relu_model() {
  test::onnx_model m;
  m.input("x", {1, 4});
  m.node("Relu", {"x"}, {"y"});
  m.output("y", {1, 4});
  return m;
}

model_manifest manifest_from(const std::string& text) {
  auto m = parse_manifest(text);
  REQUIRE_MESSAGE(m.ok(), m.error().message);
  return std::move(*m);
}

}  // namespace

TEST_CASE("quantize_and_pad rounds half to even and saturates int8") {
  auto q = quantize_and_pad(f32({8}, {0.25f, 0.75f, 1.25f, -0.25f, -0.75f, 1.0f, 100.0f, -100.0f}),
                            dtype::i8, quant_params{0.5f, 0}, {});
  REQUIRE_MESSAGE(q.ok(), q.error().message);
  REQUIRE(q->type() == dtype::i8);
  CHECK(values_of<std::int8_t>(*q) == std::vector<std::int8_t>{0, 2, 2, 0, -2, 2, 127, -128});
}

TEST_CASE("quantize_and_pad to uint8 adds the zero point before saturating") {
  auto q = quantize_and_pad(f32({5}, {0.0f, -1.0f, 0.5f, 2.0f, -2.0f}), dtype::u8, quant_params{0.01f, 128}, {});
  REQUIRE(q.ok());
  CHECK(values_of<std::uint8_t>(*q) == std::vector<std::uint8_t>{128, 28, 178, 255, 0});
}

TEST_CASE("quantize_and_pad fills the padding with the zero point") {
  auto q = quantize_and_pad(f32({2, 2}, {1, 2, 3, 4}), dtype::i8, quant_params{1.0f, -5},
                            {{1, 0}, {0, 2}});
  REQUIRE_MESSAGE(q.ok(), q.error().message);
  CHECK(q->shape() == shape_t{3, 4});
  CHECK(values_of<std::int8_t>(*q) ==
        std::vector<std::int8_t>{-5, -5, -5, -5, -4, -3, -5, -5, -2, -1, -5, -5});
}

TEST_CASE("depad_and_dequantize reverses quantize_and_pad on grid values") {
  const std::vector<float> grid = {-1.5f, 0.0f, 0.25f, 31.75f, -32.0f, 2.0f};
  const std::vector<dim_padding> pad = {{0, 1}, {2, 1}};
  auto stored = quantize_and_pad(f32({2, 3}, grid), dtype::i8, quant_params{0.25f, 0}, pad);
  REQUIRE(stored.ok());
  CHECK(stored->shape() == shape_t{3, 6});
  auto back = depad_and_dequantize(*stored, quant_params{0.25f, 0}, pad);
  REQUIRE_MESSAGE(back.ok(), back.error().message);
  CHECK(back->shape() == shape_t{2, 3});
  CHECK(values_of<float>(*back) == grid);
}

TEST_CASE("float32 tensors are padded with zeros and depadded without quantization") {
  auto stored = quantize_and_pad(f32({1, 2}, {7, 8}), dtype::f32, std::nullopt, {{0, 0}, {1, 1}});
  REQUIRE(stored.ok());
  CHECK(values_of<float>(*stored) == std::vector<float>{0, 7, 8, 0});
  auto back = depad_and_dequantize(*stored, std::nullopt, {{0, 0}, {1, 1}});
  REQUIRE(back.ok());
  CHECK(values_of<float>(*back) == std::vector<float>{7, 8});
}

TEST_CASE("quantize_and_pad reports bad types, parameters and paddings") {
  const auto x = f32({2}, {1, 2});
  CHECK(quantize_and_pad(tensor(dtype::i32, {2}), dtype::i8, quant_params{1, 0}, {}).code() ==
        errc::invalid_argument);
  CHECK(quantize_and_pad(x, dtype::i8, std::nullopt, {}).code() == errc::invalid_argument);
  CHECK(quantize_and_pad(x, dtype::f32, quant_params{1, 0}, {}).code() == errc::invalid_argument);
  CHECK(quantize_and_pad(x, dtype::i8, quant_params{0.0f, 0}, {}).code() == errc::invalid_argument);
  CHECK(quantize_and_pad(x, dtype::i8, quant_params{1, 200}, {}).code() == errc::invalid_argument);
  CHECK(quantize_and_pad(x, dtype::u8, quant_params{1, -1}, {}).code() == errc::invalid_argument);
  CHECK(quantize_and_pad(x, dtype::i8, quant_params{1, 0}, {{0, 0}, {0, 0}}).code() ==
        errc::invalid_argument);
  CHECK(quantize_and_pad(x, dtype::i8, quant_params{1, 0}, {{-1, 0}}).code() == errc::invalid_argument);
  auto i16 = quantize_and_pad(x, dtype::i16, quant_params{1, 0}, {});
  CHECK(i16.code() == errc::not_implemented);
  CHECK(i16.error().message.find("int16") != std::string::npos);
}

TEST_CASE("depad_and_dequantize rejects a padding larger than the tensor") {
  tensor stored(dtype::i8, {1, 3});
  auto r = depad_and_dequantize(stored, quant_params{1, 0}, {{0, 0}, {2, 2}});
  CHECK(r.code() == errc::invalid_argument);
  CHECK(r.error().message.find("larger") != std::string::npos);
  CHECK(depad_and_dequantize(stored, std::nullopt, {}).code() == errc::invalid_argument);
}

TEST_CASE("quantizing the float MNIST sample reproduces the quantized models' samples") {
  auto sample = read_npy(model_dir("mnist_cnn") / "input_0.npy");
  REQUIRE(sample.ok());
  for (const char* name : {"mnist_cnn_qdq", "mnist_cnn_qlinear"}) {
    CAPTURE(name);
    auto manifest = read_manifest(model_dir(name) / "manifest.json");
    REQUIRE_MESSAGE(manifest.ok(), manifest.error().message);
    const auto& in = manifest->inputs.at(0);
    auto expected = read_npy(in.file);
    REQUIRE(expected.ok());
    auto q = quantize_and_pad(*sample, in.type, in.quantization, in.padding);
    REQUIRE_MESSAGE(q.ok(), q.error().message);
    REQUIRE(q->type() == expected->type());
    REQUIRE(q->shape() == expected->shape());
    CHECK(std::memcmp(q->raw(), expected->raw(), q->bytes()) == 0);
  }
}

TEST_CASE("a committed manifest gives layout, quantization, padding and files") {
  auto m = read_manifest(model_dir("mnist_cnn_qdq") / "manifest.json");
  REQUIRE_MESSAGE(m.ok(), m.error().message);
  CHECK(m->name == "mnist_cnn_qdq");
  CHECK(m->quantization_format == "qdq");
  CHECK(m->macs == std::optional<std::uint64_t>(791840));
  REQUIRE(m->inputs.size() == 1);
  const auto& in = m->inputs[0];
  CHECK(in.type == dtype::i8);
  CHECK(in.shape == std::optional<shape_t>(shape_t{1, 1, 28, 28}));
  CHECK(in.layout == "NCHW");
  REQUIRE(in.quantization.has_value());
  CHECK(in.quantization->scale == 0.003936767578125f);
  CHECK(in.quantization->zero_point == -128);
  CHECK(in.padding.size() == 4);
  CHECK(std::filesystem::exists(in.file));
  REQUIRE(m->outputs.size() == 1);
  CHECK(m->outputs[0].layout == "NC");
  CHECK(std::filesystem::exists(m->outputs[0].file));
}

TEST_CASE("malformed manifests are rejected naming the field") {
  CHECK(parse_manifest("{not json").code() == errc::invalid_argument);
  CHECK(parse_manifest(R"({"schema": "other"})").code() == errc::invalid_argument);
  CHECK(parse_manifest(R"({"schema": "edgert.model_manifest", "version": 2})").code() ==
        errc::not_implemented);
  auto scale = parse_manifest(
      R"({"schema": "edgert.model_manifest", "inputs": [{"name": "x", "quantization": {"scale": "big", "zero_point": 0}}]})");
  CHECK(scale.code() == errc::invalid_argument);
  CHECK(scale.error().message.find("inputs[0].quantization.scale") != std::string::npos);
  auto pad = parse_manifest(
      R"({"schema": "edgert.model_manifest", "inputs": [{"name": "x", "shape": [1, 2], "padding": [[0, 0]]}]})");
  CHECK(pad.code() == errc::invalid_argument);
  CHECK(pad.error().message.find("padding") != std::string::npos);
  CHECK(read_manifest("/nonexistent/manifest.json").code() == errc::io_error);
}

TEST_CASE("describe_model_file reads the QDQ MNIST model with its manifest") {
  auto info = describe_model_file(model_dir("mnist_cnn_qdq") / "model.onnx");
  REQUIRE_MESSAGE(info.ok(), info.error().message);
  CHECK(info->name == "mnist_cnn_qdq");
  CHECK(info->header.producer_name == "edgert tools/gen_models");
  CHECK(info->header.ir_version == 8);
  CHECK(info->opsets.at("") == 13);
  CHECK(info->quantization_format == "qdq");
  CHECK_FALSE(info->manifest.empty());
  REQUIRE(info->inputs.size() == 1);
  const auto& in = info->inputs[0];
  CHECK(in.type == dtype::i8);
  CHECK(in.shape == shape_t{1, 1, 28, 28});
  CHECK(in.layout == "NCHW");
  CHECK(in.size_bytes() == 784);
  CHECK(in.elements() == 784);
  REQUIRE(in.quantization.has_value());
  CHECK(in.quantization->zero_point == -128);
  CHECK(info->outputs.at(0).size_bytes() == 10);
  CHECK(info->op_counts.at("Conv") == 2);
  CHECK(info->op_counts.at("Gemm") == 1);
  CHECK(info->macs == 791840);
  CHECK(info->macs_complete);
  CHECK(info->warnings.empty());
}

TEST_CASE("the graph alone gives the quantization of QDQ and QLinear inputs and outputs") {
  for (const char* name : {"mnist_cnn_qdq", "mnist_cnn_qlinear"}) {
    CAPTURE(name);
    test::temp_dir dir;  // the model without its manifest
    std::filesystem::copy_file(model_dir(name) / "model.onnx", dir.path() / "model.onnx");
    auto bare = describe_model_file(dir.path() / "model.onnx");
    REQUIRE_MESSAGE(bare.ok(), bare.error().message);
    CHECK(bare->manifest.empty());
    auto manifest = read_manifest(model_dir(name) / "manifest.json");
    REQUIRE(manifest.ok());
    REQUIRE(bare->inputs.at(0).quantization.has_value());
    CHECK(*bare->inputs[0].quantization == *manifest->inputs.at(0).quantization);
    REQUIRE(bare->outputs.at(0).quantization.has_value());
    CHECK(*bare->outputs[0].quantization == *manifest->outputs.at(0).quantization);
    CHECK(bare->inputs[0].layout == "NCHW");
    CHECK(bare->outputs[0].layout == "NC");
    CHECK(bare->macs == 791840);
  }
}

TEST_CASE("the fp32 MNIST model has no quantization and counts its parameters") {
  auto info = describe_model_file(model_dir("mnist_cnn") / "model.onnx");
  REQUIRE_MESSAGE(info.ok(), info.error().message);
  CHECK(info->quantization_format == "none");
  CHECK_FALSE(info->inputs.at(0).quantization.has_value());
  CHECK(info->inputs[0].size_bytes() == 784 * 4);
  // conv1 8x1x5x5 + 8, conv2 16x8x5x5 + 16, fc 784x10 + 10 (or 10x784 + 10).
  CHECK(info->parameter_count >= 208 + 3216 + 7850);
  CHECK(info->parameter_bytes >= info->parameter_count * 4);
  CHECK(info->node_count == 8);
}

TEST_CASE("MACs of MatMul, Gemm with transA and Conv come from their shapes") {
  test::onnx_model m;
  m.input("a", {2, 3});
  m.initializer("b", {3, 4}, std::vector<float>(12, 1.0f));
  m.node("MatMul", {"a", "b"}, {"ab"});
  m.initializer("c", {2, 5}, std::vector<float>(10, 1.0f));
  auto& gemm = m.node("Gemm", {"ab", "c"}, {"g"});  // ab is [2, 4]: transA gives M 4, K 2
  auto* trans = gemm.add_attribute();
  trans->set_name("transA");
  trans->set_type(onnx::AttributeProto::INT);
  trans->set_i(1);
  m.output("g", {4, 5});
  auto info = describe_built(m);
  CHECK(info.macs == 2 * 4 * 3 + 4 * 5 * 2);
  CHECK(info.macs_complete);
  CHECK(info.parameter_count == 22);
  CHECK(info.parameter_bytes == 88);
  CHECK(info.initializer_count == 2);
}

TEST_CASE("a symbolic batch leaves the size unknown and the MACs incomplete") {
  test::onnx_model m;
  m.input("x", {test::dyn, 1, 4, 4});
  m.initializer("w", {2, 1, 3, 3}, std::vector<float>(18, 0.5f));
  m.node("Conv", {"x", "w"}, {"y"});
  m.output("y", {test::dyn, 2, 2, 2});
  auto info = describe_built(m);
  const auto& in = info.inputs.at(0);
  CHECK(in.layout == "NCHW");
  CHECK(in.shape == shape_t{-1, 1, 4, 4});
  CHECK(in.elements() == -1);
  CHECK(in.size_bytes() == 0);
  CHECK_FALSE(in.is_static());
  CHECK_FALSE(info.macs_complete);
  CHECK(info.outputs.at(0).layout == "NCHW");
  CHECK(model_summary(info).find("dynamic") != std::string::npos);
}

TEST_CASE("a manifest padding turns the graph shape into the stored shape") {
  auto manifest = manifest_from(R"({"schema": "edgert.model_manifest", "name": "padded",
      "inputs": [{"name": "x", "dtype": "float32", "shape": [1, 2], "layout": "NC",
                  "padding": [[0, 0], [1, 1]]}]})");
  auto info = describe_built(relu_model(), &manifest);
  CHECK(info.name == "padded");
  const auto& in = info.inputs.at(0);
  CHECK(in.shape == shape_t{1, 4});
  CHECK(in.unpadded_shape == shape_t{1, 2});
  CHECK(in.layout == "NC");
  CHECK(in.padding.size() == 2);
  CHECK(info.outputs.at(0).layout == "");
}

TEST_CASE("a manifest that disagrees with the graph is rejected") {
  auto shape = manifest_from(R"({"schema": "edgert.model_manifest",
      "inputs": [{"name": "x", "shape": [1, 3]}]})");
  auto g = load_built(relu_model());
  auto r = describe_graph(g, {}, &shape);
  CHECK(r.code() == errc::invalid_argument);
  CHECK(r.error().message.find("[1, 3]") != std::string::npos);

  auto type = manifest_from(R"({"schema": "edgert.model_manifest",
      "inputs": [{"name": "x", "dtype": "int8"}]})");
  CHECK(describe_graph(g, {}, &type).code() == errc::invalid_argument);

  auto name = manifest_from(R"({"schema": "edgert.model_manifest",
      "outputs": [{"name": "nothere"}]})");
  auto unknown = describe_graph(g, {}, &name);
  CHECK(unknown.code() == errc::invalid_argument);
  CHECK(unknown.error().message.find("nothere") != std::string::npos);

  auto quant = manifest_from(R"({"schema": "edgert.model_manifest",
      "inputs": [{"name": "x", "quantization": {"scale": 0.5, "zero_point": 0}}]})");
  CHECK(describe_graph(g, {}, &quant).code() == errc::invalid_argument);
}

TEST_CASE("a quantized input found in the graph is reported without a manifest") {
  test::onnx_model m;
  m.input("q", {1, 3}, onnx::TensorProto_DataType_UINT8);
  const float scale = 0.125f;
  const std::uint8_t zero = 7;
  scalar_initializer(m, "s", onnx::TensorProto_DataType_FLOAT, &scale, sizeof scale);
  scalar_initializer(m, "z", onnx::TensorProto_DataType_UINT8, &zero, sizeof zero);
  m.node("Flatten", {"q"}, {"f"});
  m.node("DequantizeLinear", {"f", "s", "z"}, {"y"});
  m.output("y", {1, 3});
  auto info = describe_built(m);
  REQUIRE(info.inputs.at(0).quantization.has_value());
  CHECK(info.inputs[0].quantization->scale == 0.125f);
  CHECK(info.inputs[0].quantization->zero_point == 7);
  CHECK(info.quantization_format == "qdq");
  CHECK(info.inputs[0].layout == "NC");
}

TEST_CASE("read_model_header reads the producer and graph name and rejects garbage") {
  auto h = read_model_header(relu_model().bytes());
  REQUIRE(h.ok());
  CHECK(h->producer_name == "edgert-tests");
  CHECK(h->graph_name == "test");
  CHECK(h->ir_version == 8);
  CHECK(read_model_header(std::string("\xff\xff\xff\xff\xff\xff", 6)).code() == errc::invalid_argument);
}

TEST_CASE("describe_model_file fails clearly on missing and corrupt files") {
  CHECK(describe_model_file("/nonexistent/model.onnx").code() == errc::io_error);
  test::temp_dir dir;
  write_text(dir.path() / "model.onnx", "this is not a model");
  auto corrupt = describe_model_file(dir.path() / "model.onnx");
  CHECK(corrupt.code() == errc::invalid_argument);
  CHECK(corrupt.error().message.find("model.onnx") != std::string::npos);

  relu_model().save(dir.path() / "good.onnx");
  write_text(dir.path() / "manifest.json", "{broken");
  auto manifest = describe_model_file(dir.path() / "good.onnx");
  CHECK(manifest.code() == errc::invalid_argument);
  CHECK(manifest.error().message.find("manifest.json") != std::string::npos);
}

TEST_CASE("a manifest naming another model file is ignored") {
  test::temp_dir dir;
  relu_model().save(dir.path() / "a.onnx");
  write_text(dir.path() / "manifest.json",
             R"({"schema": "edgert.model_manifest", "model": {"file": "b.onnx"}, "name": "b"})");
  auto info = describe_model_file(dir.path() / "a.onnx");
  REQUIRE_MESSAGE(info.ok(), info.error().message);
  CHECK(info->manifest.empty());
  CHECK(info->name == "test");
}

TEST_CASE("the summary and its JSON form show tensors, ops, parameters and MACs") {
  auto info = describe_model_file(model_dir("mnist_cnn_qlinear") / "model.onnx");
  REQUIRE_MESSAGE(info.ok(), info.error().message);
  const auto text = model_summary(*info);
  CHECK(text.find("mnist_cnn_qlinear") != std::string::npos);
  CHECK(text.find("uint8") != std::string::npos);
  CHECK(text.find("[1, 1, 28, 28]") != std::string::npos);
  CHECK(text.find("QLinearConv") != std::string::npos);
  CHECK(text.find("791,840") != std::string::npos);
  auto j = nlohmann::json::parse(model_summary_json(*info));
  CHECK(j["name"] == "mnist_cnn_qlinear");
  CHECK(j["inputs"][0]["dtype"] == "uint8");
  CHECK(j["inputs"][0]["layout"] == "NCHW");
  CHECK(j["inputs"][0]["size_bytes"] == 784);
  CHECK(j["inputs"][0]["quantization"]["zero_point"].is_number_integer());
  CHECK(j["op_counts"]["QLinearConv"] == 2);
  CHECK(j["macs"] == 791840);
  CHECK(j["quantization_format"] == "qoperator");
}

TEST_CASE("a plan cost replaces the counted MACs") {
  model_info info;
  info.macs = 5;
  info.macs_complete = false;
  plan_cost cost;
  cost.macs = 42;
  apply_plan_cost(info, cost);
  CHECK(info.macs == 42);
  CHECK(info.macs_source == "plan");
  CHECK(info.macs_complete);
}
