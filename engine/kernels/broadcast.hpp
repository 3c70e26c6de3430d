// NumPy-style (multidirectional) broadcasting for element-wise kernels.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "engine/tensor.hpp"

namespace edgert::engine {

/// The broadcast shape of a and b, or nothing when they are incompatible.
std::optional<shape_t> broadcast_shapes(const shape_t& a, const shape_t& b);

/// Strides (in elements) to read `from` as if it had shape `to` (0 on broadcast dimensions).
/// `to` must be a broadcast of `from`.
std::vector<std::int64_t> broadcast_strides(const shape_t& from, const shape_t& to);

/// Walks every element of `shape` in row-major order, keeping one offset per operand whose
/// strides were given. Used as: for (walker w(shape, {sa, sb}); !w.done(); w.next()) ...
class broadcast_walker {
 public:
  broadcast_walker(const shape_t& shape, std::vector<std::vector<std::int64_t>> strides);
  bool done() const noexcept { return done_; }
  std::int64_t offset(std::size_t operand) const noexcept { return offsets_[operand]; }
  void next() noexcept;

 private:
  shape_t shape_;
  std::vector<std::vector<std::int64_t>> strides_;
  std::vector<std::int64_t> index_;
  std::vector<std::int64_t> offsets_;
  bool done_ = false;
};

/// Row-major strides of a shape, in elements.
std::vector<std::int64_t> contiguous_strides(const shape_t& shape);

}  // namespace edgert::engine
