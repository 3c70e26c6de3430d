// Conversion of ONNX TensorProto messages into engine tensors (declared in
// engine/onnx_loader.hpp), including external data files and the backend tests' *.pb files.
#include <onnx/onnx_pb.h>

#include <cstring>
#include <fstream>
#include <limits>
#include <new>

#include "engine/onnx_detail.hpp"
#include "engine/onnx_loader.hpp"

namespace edgert::engine {

namespace fs = std::filesystem;

std::string onnx_type_name(std::int32_t onnx_type) {
  switch (onnx_type) {
    case onnx::TensorProto_DataType_STRING: return "string";
    case onnx::TensorProto_DataType_COMPLEX64: return "complex64";
    case onnx::TensorProto_DataType_COMPLEX128: return "complex128";
    default: break;
  }
  dtype t = from_onnx(onnx_type);
  if (t != dtype::undefined) return std::string(to_string(t));
  return "unknown data type " + std::to_string(onnx_type);
}

result<std::string> read_file_bytes(const fs::path& path) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) return fail(errc::io_error, "cannot read '" + path.string() + "': no such file");
  if (fs::is_directory(status))
    return fail(errc::io_error, "cannot read '" + path.string() + "': it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(errc::io_error, "cannot open '" + path.string() + "'");
  try {
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) return fail(errc::io_error, "error while reading '" + path.string() + "'");
    return bytes;
  } catch (const std::bad_alloc&) {
    return fail(errc::out_of_memory, "'" + path.string() + "' is too large to read into memory");
  }
}

namespace {

// Largest tensor the loader accepts (bytes); a larger declared size means a corrupt file.
constexpr std::uint64_t max_tensor_bytes = std::uint64_t{1} << 40;

std::string label_of(const onnx::TensorProto& p) {
  return p.name().empty() ? std::string("tensor") : "tensor '" + p.name() + "'";
}

// Copies `count` values of a repeated field into the tensor, converting each to T.
template <class T, class Field>
void copy_field(const Field& field, tensor& out) {
  T* dst = out.data<T>();
  for (int i = 0; i < field.size(); ++i) dst[i] = static_cast<T>(field.Get(i));
}

result<void> read_external(const onnx::TensorProto& p, const fs::path& base_dir, tensor& out) {
  std::string location;
  std::uint64_t offset = 0;
  bool has_length = false;
  std::uint64_t length = 0;
  for (const auto& entry : p.external_data()) {
    try {
      if (entry.key() == "location") {
        location = entry.value();
      } else if (entry.key() == "offset") {
        offset = std::stoull(entry.value());
      } else if (entry.key() == "length") {
        length = std::stoull(entry.value());
        has_length = true;
      }
    } catch (const std::exception&) {
      return fail(errc::invalid_argument, label_of(p) + " has a malformed external data " +
                                              entry.key() + " '" + entry.value() + "'");
    }
  }
  if (location.empty())
    return fail(errc::invalid_argument, label_of(p) + " has external data without a location");
  fs::path rel(location);
  if (rel.is_absolute())
    return fail(errc::invalid_argument, label_of(p) + ": external data location '" + location +
                                            "' must be relative to the model");
  for (const auto& part : rel)
    if (part == "..")
      return fail(errc::invalid_argument, label_of(p) + ": external data location '" + location +
                                              "' leaves the model's directory");
  const std::uint64_t need = out.bytes();
  if (has_length && length != need)
    return fail(errc::invalid_argument, label_of(p) + ": external data length " +
                                            std::to_string(length) + " does not match the " +
                                            std::to_string(need) + " bytes its shape needs");
  fs::path file = base_dir / rel;
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return fail(errc::io_error,
                label_of(p) + ": cannot open external data file '" + file.string() + "'");
  in.seekg(0, std::ios::end);
  std::uint64_t size = static_cast<std::uint64_t>(in.tellg());
  if (offset > size || size - offset < need)
    return fail(errc::invalid_argument,
                label_of(p) + ": external data file '" + file.string() + "' has " +
                    std::to_string(size) + " bytes, fewer than offset " + std::to_string(offset) +
                    " + " + std::to_string(need) + " bytes");
  in.seekg(static_cast<std::streamoff>(offset));
  if (need && !in.read(static_cast<char*>(out.raw()), static_cast<std::streamsize>(need)))
    return fail(errc::io_error, label_of(p) + ": error reading '" + file.string() + "'");
  return {};
}

result<void> read_typed_fields(const onnx::TensorProto& p, tensor& out) {
  const std::int64_t n = out.elements();
  auto count_error = [&](const char* field, int have) -> failure {
    return fail(errc::invalid_argument, label_of(p) + " has " + std::to_string(have) +
                                            " values in " + field + ", but its shape " +
                                            to_string(out.shape()) + " needs " +
                                            std::to_string(n));
  };
  switch (out.type()) {
    case dtype::f32:
      if (p.float_data_size() != n) return count_error("float_data", p.float_data_size());
      copy_field<float>(p.float_data(), out);
      return {};
    case dtype::f64:
      if (p.double_data_size() != n) return count_error("double_data", p.double_data_size());
      copy_field<double>(p.double_data(), out);
      return {};
    case dtype::i64:
      if (p.int64_data_size() != n) return count_error("int64_data", p.int64_data_size());
      copy_field<std::int64_t>(p.int64_data(), out);
      return {};
    case dtype::u32:
      if (p.uint64_data_size() != n) return count_error("uint64_data", p.uint64_data_size());
      copy_field<std::uint32_t>(p.uint64_data(), out);
      return {};
    case dtype::u64:
      if (p.uint64_data_size() != n) return count_error("uint64_data", p.uint64_data_size());
      copy_field<std::uint64_t>(p.uint64_data(), out);
      return {};
    default: break;
  }
  // The remaining types are stored one value per int32_data entry (half types as bit patterns).
  if (p.int32_data_size() != n) return count_error("int32_data", p.int32_data_size());
  switch (out.type()) {
    case dtype::i32: copy_field<std::int32_t>(p.int32_data(), out); break;
    case dtype::i16: copy_field<std::int16_t>(p.int32_data(), out); break;
    case dtype::i8: copy_field<std::int8_t>(p.int32_data(), out); break;
    case dtype::u16:
    case dtype::f16:
    case dtype::bf16: copy_field<std::uint16_t>(p.int32_data(), out); break;
    case dtype::u8: copy_field<std::uint8_t>(p.int32_data(), out); break;
    case dtype::boolean: {
      auto* dst = out.data<std::uint8_t>();
      for (int i = 0; i < p.int32_data_size(); ++i) dst[i] = p.int32_data(i) != 0 ? 1 : 0;
      break;
    }
    default:
      return fail(errc::internal_error,
                  label_of(p) + ": no conversion for " + std::string(to_string(out.type())));
  }
  return {};
}

}  // namespace

result<tensor> tensor_from_proto(const onnx::TensorProto& p, const fs::path& base_dir) {
  const std::int32_t onnx_type = p.data_type();
  if (onnx_type == onnx::TensorProto_DataType_STRING ||
      onnx_type == onnx::TensorProto_DataType_COMPLEX64 ||
      onnx_type == onnx::TensorProto_DataType_COMPLEX128)
    return fail(errc::not_implemented, label_of(p) + " has type " + onnx_type_name(onnx_type) +
                                           ", which the engine does not support");
  dtype type = from_onnx(onnx_type);
  if (type == dtype::undefined || !is_supported(type))
    return fail(errc::invalid_argument,
                label_of(p) + " has unsupported data type (" + onnx_type_name(onnx_type) + ")");
  if (p.has_segment())
    return fail(errc::not_implemented, label_of(p) + " is a segment of a larger tensor");

  shape_t shape;
  std::uint64_t count = 1;
  for (auto d : p.dims()) {
    if (d < 0)
      return fail(errc::invalid_argument,
                  label_of(p) + " has a negative dimension " + std::to_string(d));
    shape.push_back(d);
    if (d != 0 && count > max_tensor_bytes / static_cast<std::uint64_t>(d)) count = max_tensor_bytes + 1;
    else count *= static_cast<std::uint64_t>(d);
  }
  if (count > max_tensor_bytes / size_of(type))
    return fail(errc::invalid_argument, label_of(p) + " declares an impossibly large shape " +
                                            to_string(shape));

  tensor out;
  try {
    out = tensor(type, shape);
  } catch (const std::bad_alloc&) {
    return fail(errc::out_of_memory, label_of(p) + " of shape " + to_string(shape) +
                                         " does not fit in memory");
  }

  if (p.data_location() == onnx::TensorProto_DataLocation_EXTERNAL) {
    auto r = read_external(p, base_dir, out);
    if (!r) return r.error();
    return out;
  }
  if (p.has_raw_data()) {
    if (p.raw_data().size() != out.bytes())
      return fail(errc::invalid_argument,
                  label_of(p) + " has " + std::to_string(p.raw_data().size()) +
                      " bytes of raw_data, but " + std::string(to_string(type)) + " " +
                      to_string(shape) + " needs " + std::to_string(out.bytes()));
    if (out.bytes()) std::memcpy(out.raw(), p.raw_data().data(), out.bytes());
    if (type == dtype::boolean) {
      auto* b = out.data<std::uint8_t>();
      for (std::int64_t i = 0; i < out.elements(); ++i) b[i] = b[i] != 0 ? 1 : 0;
    }
    return out;
  }
  auto r = read_typed_fields(p, out);
  if (!r) return r.error();
  return out;
}

result<tensor> load_tensor_pb(const fs::path& path, std::string* name) {
  auto bytes = read_file_bytes(path);
  if (!bytes) return bytes.error();
  if (bytes->size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
    return fail(errc::invalid_argument, "'" + path.string() + "' is too large for a TensorProto");
  onnx::TensorProto proto;
  if (!proto.ParseFromArray(bytes->data(), static_cast<int>(bytes->size())))
    return fail(errc::invalid_argument,
                "'" + path.string() + "' is not a TensorProto: protobuf parsing failed");
  if (name) *name = proto.name();
  auto t = tensor_from_proto(proto, path.parent_path());
  if (!t) return fail(t.code(), "'" + path.string() + "': " + t.error().message);
  return t;
}

}  // namespace edgert::engine
