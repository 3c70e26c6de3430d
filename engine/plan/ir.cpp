#include "engine/plan/ir.hpp"

namespace edgert::engine::planning {

layout layout::plain(const shape_t& shape, dtype type) {
  layout l;
  l.k = kind::plain;
  l.key = "plain";
  l.bytes = static_cast<std::size_t>(element_count(shape)) * size_of(type);
  return l;
}

layout layout::blocked(const shape_t& shape, dtype type, int block) {
  layout l;
  l.k = kind::channel_blocked;
  l.block = block;
  l.key = "blocked" + std::to_string(block);
  std::int64_t elements = 1;
  for (std::size_t d = 0; d < shape.size(); ++d)
    elements *= d == 1 ? (shape[d] + block - 1) / block * block : shape[d];
  l.bytes = static_cast<std::size_t>(elements) * size_of(type);
  return l;
}

layout layout::channels_last(const shape_t& shape, dtype type) {
  layout l = plain(shape, type);
  l.k = kind::channels_last;
  l.key = "channels_last";
  return l;
}

std::string layout::name(std::size_t rank) const {
  static const char* spatial[] = {"", "w", "hw", "dhw"};
  const char* sp = rank >= 2 && rank - 2 < 4 ? spatial[rank - 2] : "";
  switch (k) {
    case kind::plain: return rank >= 2 && rank <= 5 ? std::string("nc") + sp : "plain";
    case kind::channel_blocked: return std::string("nC") + sp + std::to_string(block) + "c";
    case kind::channels_last: return std::string("n") + sp + "c";
    case kind::opaque: return "opaque";
  }
  return "?";
}

}  // namespace edgert::engine::planning
