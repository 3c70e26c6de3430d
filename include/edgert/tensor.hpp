// Tensors at the public API: element types, shapes, and a Tensor that either owns its
// buffer or views the caller's.
//
// Ownership: an owning Tensor shares its buffer between copies (copies are cheap and alias
// the same memory); a view never frees the memory it points to, which must outlive it.
// Thread-safety: like a shared_ptr; distinct Tensors may be used from different threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace edgert {

/// Element types; the values are ONNX's TensorProto.DataType numbers.
enum class DType : std::int32_t {
  undefined = 0,
  float32 = 1,
  uint8 = 2,
  int8 = 3,
  uint16 = 4,
  int16 = 5,
  int32 = 6,
  int64 = 7,
  boolean = 9,
  float16 = 10,
  float64 = 11,
  uint32 = 12,
  uint64 = 13,
  bfloat16 = 16,
};

/// Bytes per element; 0 for undefined.
std::size_t dtype_size(DType type) noexcept;
/// "float32", "int8", ... as NumPy names them.
std::string to_string(DType type);

using Shape = std::vector<std::int64_t>;

/// Elements of a shape (1 for a scalar); -1 if a dimension is unknown (-1).
std::int64_t element_count(const Shape& shape) noexcept;
/// "[1,3,224,224]".
std::string to_string(const Shape& shape);

struct Quantization {
  float scale = 1.0f;
  std::int64_t zero_point = 0;
};

/// Padding of one dimension on the device: elements before and after the real data.
struct Padding {
  std::int64_t before = 0;
  std::int64_t after = 0;
};

/// A model input or output as the device stores it.
struct TensorInfo {
  std::string name;
  DType dtype = DType::undefined;
  Shape shape;           // as stored, padding included (-1 for a dimension known at run time)
  Shape unpadded_shape;  // the logical shape; equals shape without padding
  std::string layout;    // "NCHW", "NC", ... or "" when unknown
  std::optional<Quantization> quantization;
  std::vector<Padding> padding;  // per dimension, or empty
  std::int64_t elements() const noexcept { return element_count(shape); }
  std::size_t size_bytes() const noexcept;
};

class Tensor {
 public:
  Tensor() = default;
  /// A zero-filled tensor owning a 64-byte-aligned buffer. Throws InvalidArgument for an
  /// undefined type or a negative dimension, OutOfMemory when it cannot be allocated.
  Tensor(DType dtype, Shape shape);
  /// A view of the caller's buffer (at least size_bytes() long; it must outlive the view).
  /// Throws InvalidArgument for a null buffer with a non-empty shape.
  static Tensor view(DType dtype, Shape shape, void* data);
  /// A tensor over `data` (uninitialised by this call) that `owner` keeps alive: the owner
  /// is shared by every copy of the tensor and released with the last one. Throws like view().
  static Tensor adopt(DType dtype, Shape shape, void* data, std::shared_ptr<void> owner);

  DType dtype() const noexcept { return dtype_; }
  const Shape& shape() const noexcept { return shape_; }
  std::int64_t elements() const noexcept { return element_count(shape_); }
  std::size_t size_bytes() const noexcept;
  bool empty() const noexcept { return dtype_ == DType::undefined; }

  void* data() noexcept { return data_; }
  const void* data() const noexcept { return data_; }
  template <class T>
  T* data_as() noexcept { return static_cast<T*>(data_); }
  template <class T>
  const T* data_as() const noexcept { return static_cast<const T*>(data_); }

 private:
  DType dtype_ = DType::undefined;
  Shape shape_;
  std::shared_ptr<void> owned_;  // null for views
  void* data_ = nullptr;
};

/// Reads a NumPy .npy file (little-endian, C order). Throws IoError / InvalidArgument.
Tensor load_npy(const std::string& path);
/// Writes a tensor as .npy. Throws IoError.
void save_npy(const std::string& path, const Tensor& tensor);

}  // namespace edgert
