// The ONNX loader: models built in memory with engine_onnx_builder.hpp, converted to
// engine::graph, and every class of malformed model rejected with a clear error.
#include <doctest/doctest.h>

#include <cstring>
#include <fstream>

#include "engine/onnx_loader.hpp"
#include "engine_onnx_builder.hpp"
#include "support/temp_dir.hpp"

using namespace edgert;
using namespace edgert::engine;
using edgert::test::dyn;
using edgert::test::onnx_model;

namespace {

// y = Relu(x + w), x: [N, 3], w: [3] initializer.
onnx_model add_relu_model() {
  onnx_model m;
  m.input("x", {dyn, 3});
  m.initializer("w", {3}, {1, -2, 3});
  m.output("y", {dyn, 3});
  m.node("Add", {"x", "w"}, {"sum"}, "add");
  m.node("Relu", {"sum"}, {"y"}, "relu");
  return m;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

SCENARIO("a small model loads with its nodes inputs outputs and initializers") {
  auto g = load_onnx_bytes(add_relu_model().bytes(), ".");
  REQUIRE(g.ok());
  REQUIRE(g->nodes.size() == 2);
  CHECK(g->nodes[0].op_type == "Add");
  CHECK(g->nodes[0].inputs == std::vector<std::string>{"x", "w"});
  CHECK(g->nodes[1].name == "relu");
  REQUIRE(g->inputs.size() == 1);
  CHECK(g->inputs[0].name == "x");
  CHECK(g->inputs[0].type == dtype::f32);
  REQUIRE(g->inputs[0].shape.has_value());
  CHECK(*g->inputs[0].shape == shape_t{-1, 3});
  REQUIRE(g->outputs.size() == 1);
  CHECK(g->outputs[0].name == "y");
  REQUIRE(g->initializers.count("w") == 1);
  CHECK(g->initializers.at("w").data<float>()[1] == -2.0f);
  CHECK(g->opset() == 13);
}

SCENARIO("shape inference gives intermediate values a type and shape") {
  auto g = load_onnx_bytes(add_relu_model().bytes(), ".");
  REQUIRE(g.ok());
  REQUIRE(g->values.count("sum") == 1);
  const auto& sum = g->values.at("sum");
  CHECK(sum.type == dtype::f32);
  REQUIRE(sum.shape.has_value());
  CHECK(sum.shape->size() == 2);
  CHECK((*sum.shape)[1] == 3);
  CHECK((*sum.shape)[0] == -1);
}

SCENARIO("an initializer also listed as a graph input is not a graph input") {
  auto m = add_relu_model();
  m.input("w", {3});
  auto g = load_onnx_bytes(m.bytes(), ".");
  REQUIRE(g.ok());
  REQUIRE(g->inputs.size() == 1);
  CHECK(g->inputs[0].name == "x");
}

SCENARIO("nodes stored out of order come out topologically sorted") {
  onnx_model m;
  m.input("x", {2});
  m.output("z", {2});
  m.node("Neg", {"y"}, {"z"}, "second");
  m.node("Relu", {"x"}, {"y"}, "first");
  auto g = load_onnx_bytes(m.bytes(), ".");
  REQUIRE(g.ok());
  CHECK(g->nodes[0].name == "first");
  CHECK(g->nodes[1].name == "second");
}

SCENARIO("attributes of every kind are converted") {
  onnx_model m;
  m.input("x", {2});
  m.output("y", {2});
  auto& n = m.node("Custom", {"x"}, {"y"}, "c");
  n.set_domain("test.domain");
  auto add = [&](const char* name, onnx::AttributeProto_AttributeType type) {
    auto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(type);
    return a;
  };
  add("f", onnx::AttributeProto_AttributeType_FLOAT)->set_f(0.5f);
  add("i", onnx::AttributeProto_AttributeType_INT)->set_i(-7);
  add("s", onnx::AttributeProto_AttributeType_STRING)->set_s("same");
  *add("t", onnx::AttributeProto_AttributeType_TENSOR)->mutable_t() = test::float_tensor("", {2}, {4, 5});
  auto* fs = add("fs", onnx::AttributeProto_AttributeType_FLOATS);
  fs->add_floats(1.5f);
  fs->add_floats(2.5f);
  auto* is = add("is", onnx::AttributeProto_AttributeType_INTS);
  is->add_ints(3);
  is->add_ints(-1);
  auto* ss = add("ss", onnx::AttributeProto_AttributeType_STRINGS);
  ss->add_strings("a");
  ss->add_strings("b");
  add("g", onnx::AttributeProto_AttributeType_GRAPH)->mutable_g()->set_name("body");
  auto* op = m.proto.add_opset_import();
  op->set_domain("test.domain");
  op->set_version(2);

  auto g = load_onnx_bytes(m.bytes(), ".");
  REQUIRE(g.ok());
  const node& c = g->nodes.at(0);
  CHECK(c.domain == "test.domain");
  CHECK(g->opset("test.domain") == 2);
  CHECK(c.get_float("f", 0) == 0.5f);
  CHECK(c.get_int("i", 0) == -7);
  CHECK(c.get_string("s", "") == "same");
  REQUIRE(c.find("t") != nullptr);
  CHECK(c.find("t")->type == attribute::kind::t);
  CHECK(c.find("t")->t.data<float>()[1] == 5.0f);
  CHECK(c.get_floats("fs") == std::vector<float>{1.5f, 2.5f});
  CHECK(c.get_ints("is") == std::vector<std::int64_t>{3, -1});
  CHECK(c.find("ss")->strings == std::vector<std::string>{"a", "b"});
  CHECK(c.find("g")->type == attribute::kind::graph);
}

SCENARIO("a sparse tensor attribute is not implemented") {
  onnx_model m;
  m.output("y", {2});
  auto& n = m.node("Constant", {}, {"y"}, "k");
  auto* a = n.add_attribute();
  a->set_name("sparse_value");
  a->set_type(onnx::AttributeProto_AttributeType_SPARSE_TENSOR);
  auto g = load_onnx_bytes(m.bytes(), ".");
  REQUIRE_FALSE(g.ok());
  CHECK(g.code() == errc::not_implemented);
  CHECK(contains(g.error().message, "sparse_value"));
}

SCENARIO("a symbolic input dimension becomes -1") {
  onnx_model m;
  m.input("x", {dyn, dyn, 4});
  m.output("y", {dyn, dyn, 4});
  m.node("Relu", {"x"}, {"y"});
  auto g = load_onnx_bytes(m.bytes(), ".");
  REQUIRE(g.ok());
  CHECK(*g->inputs[0].shape == shape_t{-1, -1, 4});
}

SCENARIO("bytes that are not protobuf are not an ONNX model") {
  auto g = load_onnx_bytes("this is plainly a text file, not a model\n\xff\xff\xff", ".");
  REQUIRE_FALSE(g.ok());
  CHECK(g.code() == errc::invalid_argument);
  CHECK(contains(g.error().message, "is not an ONNX model"));
}

SCENARIO("an empty file is not an ONNX model") {
  auto g = load_onnx_bytes("", ".");
  REQUIRE_FALSE(g.ok());
  CHECK(g.code() == errc::invalid_argument);
  CHECK(contains(g.error().message, "is not an ONNX model"));
}

SCENARIO("a truncated model is rejected") {
  auto m = add_relu_model();
  m.initializer("big", {64}, std::vector<float>(64, 1.0f));
  std::string bytes = m.bytes();
  auto g = load_onnx_bytes(std::string_view(bytes).substr(0, bytes.size() - 40), ".");
  REQUIRE_FALSE(g.ok());
  CHECK(g.code() == errc::invalid_argument);
  CHECK(contains(g.error().message, "truncated"));
}

SCENARIO("a missing file is an io_error naming the path") {
  auto g = load_onnx_file("/nonexistent/dir/model.onnx");
  REQUIRE_FALSE(g.ok());
  CHECK(g.code() == errc::io_error);
  CHECK(contains(g.error().message, "/nonexistent/dir/model.onnx"));
}

SCENARIO("a model file loads and errors name the file") {
  test::temp_dir dir;
  add_relu_model().save(dir.path() / "good.onnx");
  CHECK(load_onnx_file(dir.path() / "good.onnx").ok());
  std::ofstream(dir.path() / "bad.onnx") << "garbage\xff\xfe";
  auto bad = load_onnx_file(dir.path() / "bad.onnx");
  REQUIRE_FALSE(bad.ok());
  CHECK(contains(bad.error().message, "bad.onnx' is not an ONNX model"));
}

SCENARIO("a graph without nodes is rejected") {
  onnx_model m;
  m.input("x", {2});
  m.output("x", {2});
  auto g = load_onnx_bytes(m.bytes(), ".");
  REQUIRE_FALSE(g.ok());
  CHECK(g.code() == errc::invalid_argument);
  CHECK(contains(g.error().message, "no nodes"));
}

SCENARIO("a node input that nothing produces is reported") {
  onnx_model m;
  m.input("x", {2});
  m.output("y", {2});
  m.node("Add", {"x", "ghost"}, {"y"}, "adder");
  auto g = load_onnx_bytes(m.bytes(), ".");
  REQUIRE_FALSE(g.ok());
  CHECK(g.code() == errc::invalid_argument);
  CHECK(contains(g.error().message, "missing initializer or input 'ghost' for node Add (node 'adder')"));
}

SCENARIO("a cycle is reported with a node in it") {
  onnx_model m;
  m.input("x", {2});
  m.output("y", {2});
  m.node("Relu", {"x"}, {"r"}, "before");
  m.node("Add", {"r", "b"}, {"a"}, "loop_a");
  m.node("Neg", {"a"}, {"b"}, "loop_b");
  m.node("Relu", {"a"}, {"y"}, "after");
  auto g = load_onnx_bytes(m.bytes(), ".");
  REQUIRE_FALSE(g.ok());
  CHECK(g.code() == errc::invalid_argument);
  CHECK(contains(g.error().message, "cycle"));
  CHECK(contains(g.error().message, "loop_a"));
  CHECK(contains(g.error().message, "loop_b"));
  CHECK_FALSE(contains(g.error().message, "after"));
}

SCENARIO("two nodes producing the same value are rejected") {
  onnx_model m;
  m.input("x", {2});
  m.output("y", {2});
  m.node("Relu", {"x"}, {"y"}, "one");
  m.node("Neg", {"x"}, {"y"}, "two");
  auto g = load_onnx_bytes(m.bytes(), ".");
  REQUIRE_FALSE(g.ok());
  CHECK(g.code() == errc::invalid_argument);
  CHECK(contains(g.error().message, "duplicate output name 'y'"));
}

SCENARIO("a node overwriting a graph input is rejected") {
  onnx_model m;
  m.input("x", {2});
  m.output("x", {2});
  m.node("Relu", {"x"}, {"x"}, "self");
  auto g = load_onnx_bytes(m.bytes(), ".");
  REQUIRE_FALSE(g.ok());
  CHECK(contains(g.error().message, "duplicate output name 'x'"));
}

SCENARIO("shapes that contradict the declared ones fail at shape inference") {
  onnx_model m;
  m.input("x", {4, 5});
  m.output("y", {2, 3});
  m.node("Relu", {"x"}, {"y"}, "relu");
  auto g = load_onnx_bytes(m.bytes(), ".");
  REQUIRE_FALSE(g.ok());
  CHECK(g.code() == errc::invalid_argument);
  CHECK(contains(g.error().message, "shape inference"));
}

SCENARIO("a sequence-typed graph input is not implemented") {
  onnx_model m;
  auto* in = m.graph().add_input();
  in->set_name("seq");
  in->mutable_type()->mutable_sequence_type()->mutable_elem_type()->mutable_tensor_type()->set_elem_type(1);
  m.output("y", {dyn});
  m.node("SequenceAt", {"seq", "i"}, {"y"});
  m.input("i", {}, onnx::TensorProto_DataType_INT64);
  auto g = load_onnx_bytes(m.bytes(), ".");
  REQUIRE_FALSE(g.ok());
  CHECK(g.code() == errc::not_implemented);
  CHECK(contains(g.error().message, "'seq' has sequence type"));
}

SCENARIO("tensor_from_proto reads raw_data") {
  onnx::TensorProto p;
  p.set_data_type(onnx::TensorProto_DataType_INT16);
  p.add_dims(3);
  std::int16_t values[] = {-1, 2, 300};
  p.set_raw_data(std::string(reinterpret_cast<const char*>(values), sizeof values));
  auto t = tensor_from_proto(p, ".");
  REQUIRE(t.ok());
  CHECK(t->type() == dtype::i16);
  CHECK(t->shape() == shape_t{3});
  CHECK(t->data<std::int16_t>()[2] == 300);
}

SCENARIO("tensor_from_proto reads each typed field") {
  auto make = [](int type, std::vector<std::int64_t> dims) {
    onnx::TensorProto p;
    p.set_data_type(type);
    for (auto d : dims) p.add_dims(d);
    return p;
  };
  GIVEN("double_data") {
    auto p = make(onnx::TensorProto_DataType_DOUBLE, {2});
    p.add_double_data(0.25);
    p.add_double_data(-8);
    auto t = tensor_from_proto(p, ".");
    REQUIRE(t.ok());
    CHECK(t->data<double>()[1] == -8.0);
  }
  GIVEN("int64_data") {
    auto p = make(onnx::TensorProto_DataType_INT64, {1, 2});
    p.add_int64_data(-5000000000LL);
    p.add_int64_data(7);
    auto t = tensor_from_proto(p, ".");
    REQUIRE(t.ok());
    CHECK(t->shape() == shape_t{1, 2});
    CHECK(t->data<std::int64_t>()[0] == -5000000000LL);
  }
  GIVEN("uint64_data for uint32 and uint64") {
    auto p32 = make(onnx::TensorProto_DataType_UINT32, {1});
    p32.add_uint64_data(4000000000u);
    auto p64 = make(onnx::TensorProto_DataType_UINT64, {1});
    p64.add_uint64_data(18000000000000000000ull);
    auto t32 = tensor_from_proto(p32, ".");
    auto t64 = tensor_from_proto(p64, ".");
    REQUIRE(t32.ok());
    REQUIRE(t64.ok());
    CHECK(t32->data<std::uint32_t>()[0] == 4000000000u);
    CHECK(t64->data<std::uint64_t>()[0] == 18000000000000000000ull);
  }
  GIVEN("int32_data for the small integer types and bool") {
    auto i8 = make(onnx::TensorProto_DataType_INT8, {2});
    i8.add_int32_data(-128);
    i8.add_int32_data(127);
    auto u16 = make(onnx::TensorProto_DataType_UINT16, {1});
    u16.add_int32_data(65535);
    auto b = make(onnx::TensorProto_DataType_BOOL, {3});
    b.add_int32_data(1);
    b.add_int32_data(0);
    b.add_int32_data(5);
    auto ti8 = tensor_from_proto(i8, ".");
    auto tu16 = tensor_from_proto(u16, ".");
    auto tb = tensor_from_proto(b, ".");
    REQUIRE(ti8.ok());
    REQUIRE(tu16.ok());
    REQUIRE(tb.ok());
    CHECK(ti8->data<std::int8_t>()[0] == -128);
    CHECK(tu16->data<std::uint16_t>()[0] == 65535);
    CHECK(tb->type() == dtype::boolean);
    CHECK(tb->data<std::uint8_t>()[2] == 1);
  }
  GIVEN("int32_data holding float16 and bfloat16 bit patterns") {
    auto h = make(onnx::TensorProto_DataType_FLOAT16, {1});
    h.add_int32_data(0x3C00);  // 1.0
    auto bf = make(onnx::TensorProto_DataType_BFLOAT16, {1});
    bf.add_int32_data(0xC000);  // -2.0
    auto th = tensor_from_proto(h, ".");
    auto tbf = tensor_from_proto(bf, ".");
    REQUIRE(th.ok());
    REQUIRE(tbf.ok());
    CHECK(half_to_float(th->data<std::uint16_t>()[0]) == 1.0f);
    CHECK(bfloat16_to_float(tbf->data<std::uint16_t>()[0]) == -2.0f);
  }
  GIVEN("a scalar in float_data") {
    auto t = tensor_from_proto(test::float_tensor("s", {}, {3.5f}), ".");
    REQUIRE(t.ok());
    CHECK(t->rank() == 0);
    CHECK(t->data<float>()[0] == 3.5f);
  }
}

SCENARIO("tensor_from_proto rejects bad tensors with clear errors") {
  GIVEN("a value count that does not match the shape") {
    auto t = tensor_from_proto(test::float_tensor("w", {2, 2}, {1, 2, 3}), ".");
    REQUIRE_FALSE(t.ok());
    CHECK(t.code() == errc::invalid_argument);
    CHECK(contains(t.error().message, "tensor 'w' has 3 values in float_data"));
  }
  GIVEN("raw_data of the wrong size") {
    onnx::TensorProto p;
    p.set_data_type(onnx::TensorProto_DataType_FLOAT);
    p.add_dims(2);
    p.set_raw_data(std::string(7, '\0'));
    auto t = tensor_from_proto(p, ".");
    REQUIRE_FALSE(t.ok());
    CHECK(contains(t.error().message, "7 bytes of raw_data"));
  }
  GIVEN("a string tensor") {
    onnx::TensorProto p;
    p.set_data_type(onnx::TensorProto_DataType_STRING);
    p.add_string_data("hi");
    auto t = tensor_from_proto(p, ".");
    REQUIRE_FALSE(t.ok());
    CHECK(t.code() == errc::not_implemented);
    CHECK(contains(t.error().message, "string"));
  }
  GIVEN("an unknown data type") {
    onnx::TensorProto p;
    p.set_data_type(99);
    auto t = tensor_from_proto(p, ".");
    REQUIRE_FALSE(t.ok());
    CHECK(t.code() == errc::invalid_argument);
    CHECK(contains(t.error().message, "unknown data type 99"));
  }
  GIVEN("a negative dimension") {
    auto t = tensor_from_proto(test::float_tensor("n", {-2}, {}), ".");
    REQUIRE_FALSE(t.ok());
    CHECK(contains(t.error().message, "negative dimension"));
  }
}

SCENARIO("external data is read from a file beside the model") {
  test::temp_dir dir;
  float values[] = {1.5f, -2.5f, 3.5f, 4.5f};
  {
    std::ofstream out(dir.path() / "weights.bin", std::ios::binary);
    out << "HEADER!!";  // 8 bytes before the data
    out.write(reinterpret_cast<const char*>(values), sizeof values);
  }
  auto make = [](const std::string& location, const std::string& offset, const std::string& length,
                 std::vector<std::int64_t> dims = {2, 2}) {
    onnx::TensorProto p;
    p.set_name("w");
    p.set_data_type(onnx::TensorProto_DataType_FLOAT);
    for (auto d : dims) p.add_dims(d);
    p.set_data_location(onnx::TensorProto_DataLocation_EXTERNAL);
    auto add = [&](const char* key, const std::string& value) {
      if (value.empty()) return;
      auto* e = p.add_external_data();
      e->set_key(key);
      e->set_value(value);
    };
    add("location", location);
    add("offset", offset);
    add("length", length);
    return p;
  };
  WHEN("an initializer of a model file points at it") {
    auto m = add_relu_model();
    m.graph().clear_initializer();
    *m.graph().add_initializer() = make("weights.bin", "12", "", {3});
    m.save(dir.path() / "model.onnx");
    auto g = load_onnx_file(dir.path() / "model.onnx");
    REQUIRE(g.ok());
    const tensor& w = g->initializers.at("w");
    CHECK(w.data<float>()[0] == -2.5f);
    CHECK(w.data<float>()[2] == 4.5f);
  }
  WHEN("offset and length are given") {
    auto t = tensor_from_proto(make("weights.bin", "8", "16"), dir.path());
    REQUIRE(t.ok());
    CHECK(t->data<float>()[3] == 4.5f);
  }
  WHEN("the file is missing") {
    auto t = tensor_from_proto(make("nothere.bin", "", ""), dir.path());
    REQUIRE_FALSE(t.ok());
    CHECK(t.code() == errc::io_error);
    CHECK(contains(t.error().message, "nothere.bin"));
  }
  WHEN("the length does not match the shape") {
    auto t = tensor_from_proto(make("weights.bin", "8", "12"), dir.path());
    REQUIRE_FALSE(t.ok());
    CHECK(t.code() == errc::invalid_argument);
  }
  WHEN("the file is too short for offset plus data") {
    auto t = tensor_from_proto(make("weights.bin", "12", ""), dir.path());
    REQUIRE_FALSE(t.ok());
    CHECK(contains(t.error().message, "fewer than offset 12"));
  }
  WHEN("the location leaves the model directory") {
    auto t = tensor_from_proto(make("../weights.bin", "", ""), dir.path());
    REQUIRE_FALSE(t.ok());
    CHECK(t.code() == errc::invalid_argument);
    CHECK(contains(t.error().message, "leaves the model's directory"));
  }
}

SCENARIO("load_tensor_pb reads a serialised TensorProto and its name") {
  test::temp_dir dir;
  test::save_proto(test::float_tensor("input_name", {2}, {0.5f, 1.5f}), dir.path() / "input_0.pb");
  std::string name;
  auto t = load_tensor_pb(dir.path() / "input_0.pb", &name);
  REQUIRE(t.ok());
  CHECK(name == "input_name");
  CHECK(t->data<float>()[1] == 1.5f);
  std::ofstream(dir.path() / "junk.pb") << "\xff\xff\xff\xff";
  auto junk = load_tensor_pb(dir.path() / "junk.pb");
  REQUIRE_FALSE(junk.ok());
  CHECK(junk.code() == errc::invalid_argument);
  CHECK(load_tensor_pb(dir.path() / "absent.pb").code() == errc::io_error);
}

SCENARIO("a backend test model from libonnx-testdata loads") {
  const std::filesystem::path model = "/usr/share/libonnx-testdata/data/node/test_conv_with_strides_padding/model.onnx";
  if (!std::filesystem::exists(model)) {
    MESSAGE("libonnx-testdata is not installed; skipped");
    return;
  }
  auto g = load_onnx_file(model);
  REQUIRE(g.ok());
  REQUIRE(g->nodes.size() == 1);
  CHECK(g->nodes[0].op_type == "Conv");
  CHECK(g->nodes[0].get_ints("strides") == std::vector<std::int64_t>{2, 2});
  CHECK(g->inputs.size() == 2);
  CHECK(read_all(model).size() > 0);
}
