// Builds small ONNX models in memory for the engine tests, so no test needs a model file
// from elsewhere. Header-only; include it from *_test.cpp files only.
#pragma once

#ifndef ONNX_NAMESPACE
#define ONNX_NAMESPACE onnx
#endif
#ifndef ONNX_ML
#define ONNX_ML 1
#endif
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace edgert::test {

/// Dimension value meaning "symbolic" (written as dim_param "N").
constexpr std::int64_t dyn = -1;

class onnx_model {
 public:
  explicit onnx_model(std::int64_t opset = 13) {
    proto.set_ir_version(8);
    proto.set_producer_name("edgert-tests");
    auto* op = proto.add_opset_import();
    op->set_domain("");
    op->set_version(opset);
    proto.mutable_graph()->set_name("test");
  }

  onnx::GraphProto& graph() { return *proto.mutable_graph(); }

  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs, const std::string& name = "") {
    auto* n = graph().add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (const auto& i : inputs) n->add_input(i);
    for (const auto& o : outputs) n->add_output(o);
    return *n;
  }

  static void set_type(onnx::ValueInfoProto& vi, int elem_type, const std::vector<std::int64_t>& dims) {
    auto* tt = vi.mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elem_type);
    auto* shape = tt->mutable_shape();
    for (auto d : dims) {
      auto* dim = shape->add_dim();
      if (d == dyn) dim->set_dim_param("N");
      else dim->set_dim_value(d);
    }
  }

  onnx::ValueInfoProto& input(const std::string& name, const std::vector<std::int64_t>& dims,
                              int elem_type = onnx::TensorProto_DataType_FLOAT) {
    auto* vi = graph().add_input();
    vi->set_name(name);
    set_type(*vi, elem_type, dims);
    return *vi;
  }

  onnx::ValueInfoProto& output(const std::string& name, const std::vector<std::int64_t>& dims,
                               int elem_type = onnx::TensorProto_DataType_FLOAT) {
    auto* vi = graph().add_output();
    vi->set_name(name);
    set_type(*vi, elem_type, dims);
    return *vi;
  }

  onnx::TensorProto& initializer(const std::string& name, const std::vector<std::int64_t>& dims,
                                 const std::vector<float>& values) {
    auto* t = graph().add_initializer();
    fill_float(*t, name, dims, values);
    return *t;
  }

  static void fill_float(onnx::TensorProto& t, const std::string& name,
                         const std::vector<std::int64_t>& dims, const std::vector<float>& values) {
    t.set_name(name);
    t.set_data_type(onnx::TensorProto_DataType_FLOAT);
    for (auto d : dims) t.add_dims(d);
    for (auto v : values) t.add_float_data(v);
  }

  std::string bytes() const { return proto.SerializeAsString(); }

  void save(const std::filesystem::path& path) const {
    std::ofstream out(path, std::ios::binary);
    out << bytes();
  }

  onnx::ModelProto proto;
};

/// A float TensorProto with its values in float_data.
inline onnx::TensorProto float_tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                                      const std::vector<float>& values) {
  onnx::TensorProto t;
  onnx_model::fill_float(t, name, dims, values);
  return t;
}

inline void save_proto(const google::protobuf::MessageLite& message, const std::filesystem::path& path) {
  std::ofstream out(path, std::ios::binary);
  out << message.SerializeAsString();
}

}  // namespace edgert::test
