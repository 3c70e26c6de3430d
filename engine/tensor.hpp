// tensor: a typed, shaped, 64-byte-aligned buffer.
//
// Storage is reference-counted and shared by copies (a copy is a second view of the same
// bytes, like a NumPy array assignment); clone() makes an independent copy. A tensor may also
// view memory it does not own (wrap()), in which case the owner must keep that memory alive
// for as long as the tensor or any copy of it exists.
//
// Thread-safety: none of its own; concurrent readers are fine, a writer needs exclusivity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/dtype.hpp"

namespace edgert::engine {

using shape_t = std::vector<std::int64_t>;

/// Product of the dimensions (1 for a scalar, 0 if any dimension is 0).
std::int64_t element_count(const shape_t& shape) noexcept;
/// "[1, 3, 224, 224]"
std::string to_string(const shape_t& shape);

class tensor {
 public:
  tensor() = default;
  /// A zero-filled tensor of the given type and shape.
  tensor(dtype type, shape_t shape);
  /// A view of memory owned elsewhere (see the lifetime rule above).
  static tensor wrap(dtype type, shape_t shape, void* data);

  dtype type() const noexcept { return type_; }
  const shape_t& shape() const noexcept { return shape_; }
  std::size_t rank() const noexcept { return shape_.size(); }
  std::int64_t elements() const noexcept { return element_count(shape_); }
  std::size_t bytes() const noexcept { return static_cast<std::size_t>(elements()) * size_of(type_); }
  bool empty() const noexcept { return type_ == dtype::undefined; }

  void* raw() noexcept { return data_; }
  const void* raw() const noexcept { return data_; }
  template <class T>
  T* data() noexcept { return static_cast<T*>(data_); }
  template <class T>
  const T* data() const noexcept { return static_cast<const T*>(data_); }

  /// The same bytes under another shape with the same element count.
  tensor reshaped(shape_t shape) const;
  /// An independent copy.
  tensor clone() const;

 private:
  dtype type_ = dtype::undefined;
  shape_t shape_;
  std::shared_ptr<std::byte> storage_;  // null for wrapped memory
  void* data_ = nullptr;
};

}  // namespace edgert::engine
