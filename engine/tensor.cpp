#include "engine/tensor.hpp"

#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

namespace edgert::engine {

namespace {

constexpr std::size_t alignment = 64;

std::shared_ptr<std::byte> allocate_zeroed(std::size_t bytes) {
  std::size_t rounded = (bytes + alignment - 1) / alignment * alignment;
  if (rounded == 0) rounded = alignment;
  void* p = std::aligned_alloc(alignment, rounded);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, rounded);
  return std::shared_ptr<std::byte>(static_cast<std::byte*>(p), [](std::byte* q) { std::free(q); });
}

}  // namespace

std::int64_t element_count(const shape_t& shape) noexcept {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::string to_string(const shape_t& shape) {
  std::string out = "[";
  for (std::size_t i = 0; i < shape.size(); ++i)
    out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

tensor::tensor(dtype type, shape_t shape) : type_(type), shape_(std::move(shape)) {
  for (auto d : shape_)
    if (d < 0) throw std::invalid_argument("tensor dimension is negative: " + to_string(shape_));
  storage_ = allocate_zeroed(bytes());
  data_ = storage_.get();
}

tensor tensor::wrap(dtype type, shape_t shape, void* data) {
  tensor t;
  t.type_ = type;
  t.shape_ = std::move(shape);
  t.data_ = data;
  return t;
}

tensor tensor::reshaped(shape_t shape) const {
  if (element_count(shape) != elements())
    throw std::invalid_argument("cannot reshape " + to_string(shape_) + " to " + to_string(shape));
  tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

tensor tensor::clone() const {
  tensor t(type_, shape_);
  if (bytes()) std::memcpy(t.data_, data_, bytes());
  return t;
}

}  // namespace edgert::engine
