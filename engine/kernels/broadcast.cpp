#include "engine/kernels/broadcast.hpp"

#include <algorithm>

namespace edgert::engine {

std::optional<shape_t> broadcast_shapes(const shape_t& a, const shape_t& b) {
  auto rank = std::max(a.size(), b.size());
  shape_t out(rank);
  for (std::size_t i = 0; i < rank; ++i) {
    auto da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    auto db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) return std::nullopt;
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::vector<std::int64_t> contiguous_strides(const shape_t& shape) {
  std::vector<std::int64_t> strides(shape.size(), 1);
  for (std::size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  return strides;
}

std::vector<std::int64_t> broadcast_strides(const shape_t& from, const shape_t& to) {
  auto own = contiguous_strides(from);
  std::vector<std::int64_t> out(to.size(), 0);
  auto lead = to.size() - from.size();
  for (std::size_t i = 0; i < from.size(); ++i)
    out[lead + i] = from[i] == 1 && to[lead + i] != 1 ? 0 : own[i];
  return out;
}

broadcast_walker::broadcast_walker(const shape_t& shape,
                                   std::vector<std::vector<std::int64_t>> strides)
    : shape_(shape),
      strides_(std::move(strides)),
      index_(shape.size(), 0),
      offsets_(strides_.size(), 0),
      done_(element_count(shape) == 0) {}

void broadcast_walker::next() noexcept {
  for (std::size_t d = shape_.size(); d-- > 0;) {
    if (++index_[d] < shape_[d]) {
      for (std::size_t k = 0; k < strides_.size(); ++k) offsets_[k] += strides_[k][d];
      return;
    }
    for (std::size_t k = 0; k < strides_.size(); ++k)
      offsets_[k] -= strides_[k][d] * (shape_[d] - 1);
    index_[d] = 0;
  }
  done_ = true;
}

}  // namespace edgert::engine
