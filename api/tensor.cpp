#include "edgert/tensor.hpp"

#include <cstdlib>
#include <cstring>

#include "edgert/errors.hpp"

namespace edgert {

std::size_t dtype_size(DType type) noexcept {
  switch (type) {
    case DType::float32: case DType::int32: case DType::uint32: return 4;
    case DType::uint8: case DType::int8: case DType::boolean: return 1;
    case DType::uint16: case DType::int16: case DType::float16: case DType::bfloat16: return 2;
    case DType::int64: case DType::uint64: case DType::float64: return 8;
    case DType::undefined: return 0;
  }
  return 0;
}

std::string to_string(DType type) {
  switch (type) {
    case DType::float32: return "float32";
    case DType::uint8: return "uint8";
    case DType::int8: return "int8";
    case DType::uint16: return "uint16";
    case DType::int16: return "int16";
    case DType::int32: return "int32";
    case DType::int64: return "int64";
    case DType::boolean: return "bool";
    case DType::float16: return "float16";
    case DType::float64: return "float64";
    case DType::uint32: return "uint32";
    case DType::uint64: return "uint64";
    case DType::bfloat16: return "bfloat16";
    case DType::undefined: break;
  }
  return "undefined";
}

std::int64_t element_count(const Shape& shape) noexcept {
  std::int64_t n = 1;
  for (auto d : shape) {
    if (d < 0) return -1;
    n *= d;
  }
  return n;
}

std::string to_string(const Shape& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) out += ",";
    out += shape[i] < 0 ? std::string("?") : std::to_string(shape[i]);
  }
  return out + "]";
}

std::size_t TensorInfo::size_bytes() const noexcept {
  const auto n = elements();
  return n < 0 ? 0 : static_cast<std::size_t>(n) * dtype_size(dtype);
}

std::size_t Tensor::size_bytes() const noexcept {
  const auto n = elements();
  return n < 0 ? 0 : static_cast<std::size_t>(n) * dtype_size(dtype_);
}

namespace {

void check_shape(DType dtype, const Shape& shape) {
  if (dtype_size(dtype) == 0) throw InvalidArgument("a tensor needs a defined element type");
  for (auto d : shape)
    if (d < 0) throw InvalidArgument("tensor shape " + to_string(shape) + " has a negative dimension");
}

}  // namespace

Tensor::Tensor(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  check_shape(dtype_, shape_);
  const std::size_t bytes = size_bytes();
  const std::size_t rounded = (bytes + 63) / 64 * 64;
  void* raw = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (!raw) throw OutOfMemory("cannot allocate " + std::to_string(bytes) + " bytes for a tensor");
  std::memset(raw, 0, rounded == 0 ? 64 : rounded);
  owned_ = std::shared_ptr<void>(raw, [](void* p) { std::free(p); });
  data_ = raw;
}

Tensor Tensor::adopt(DType dtype, Shape shape, void* data, std::shared_ptr<void> owner) {
  Tensor t = view(dtype, std::move(shape), data);
  t.owned_ = std::move(owner);
  return t;
}

Tensor Tensor::view(DType dtype, Shape shape, void* data) {
  check_shape(dtype, shape);
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  if (data == nullptr && t.size_bytes() != 0)
    throw InvalidArgument("a tensor view of " + to_string(t.shape_) + " needs a non-null buffer");
  t.data_ = data;
  return t;
}

}  // namespace edgert
