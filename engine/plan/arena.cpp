#include "engine/plan/arena.hpp"

#include <algorithm>
#include <numeric>

namespace edgert::engine::planning {

namespace {

std::size_t round_up(std::size_t n, std::size_t alignment) {
  return (n + alignment - 1) & ~(alignment - 1);
}

bool alive_together(const arena_request& a, const arena_request& b) {
  return a.first <= b.last && b.first <= a.last;
}

}  // namespace

arena_layout assign_offsets(const std::vector<arena_request>& requests, std::size_t alignment) {
  arena_layout out;
  out.offsets.assign(requests.size(), 0);
  std::vector<std::size_t> order(requests.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (requests[a].bytes != requests[b].bytes) return requests[a].bytes > requests[b].bytes;
    return requests[a].first < requests[b].first;
  });

  std::vector<std::size_t> placed;  // request indices already given an offset
  std::vector<std::pair<std::size_t, std::size_t>> busy;  // [begin, end) of live neighbours
  for (std::size_t r : order) {
    const std::size_t size = round_up(std::max<std::size_t>(requests[r].bytes, 1), alignment);
    busy.clear();
    for (std::size_t p : placed)
      if (alive_together(requests[r], requests[p]))
        busy.emplace_back(out.offsets[p], out.offsets[p] + round_up(std::max<std::size_t>(requests[p].bytes, 1), alignment));
    std::sort(busy.begin(), busy.end());
    std::size_t offset = 0;
    for (const auto& [begin, end] : busy) {
      if (offset + size <= begin) break;
      offset = std::max(offset, end);
    }
    out.offsets[r] = offset;
    out.total = std::max(out.total, offset + size);
    placed.push_back(r);
  }
  return out;
}

bool layout_is_valid(const std::vector<arena_request>& requests, const arena_layout& layout) {
  if (layout.offsets.size() != requests.size()) return false;
  for (std::size_t a = 0; a < requests.size(); ++a) {
    if (layout.offsets[a] + requests[a].bytes > layout.total) return false;
    for (std::size_t b = a + 1; b < requests.size(); ++b) {
      if (!alive_together(requests[a], requests[b]) || requests[a].bytes == 0 || requests[b].bytes == 0) continue;
      const bool disjoint = layout.offsets[a] + requests[a].bytes <= layout.offsets[b] ||
                            layout.offsets[b] + requests[b].bytes <= layout.offsets[a];
      if (!disjoint) return false;
    }
  }
  return true;
}

}  // namespace edgert::engine::planning
