// Private: lays out the activation arena of a plan. Each request is a block of bytes live
// from the step that first writes it to the step that last reads it (both inclusive);
// blocks whose lifetimes overlap get disjoint byte ranges, others may share bytes.
//
// Pure functions; any thread.
#pragma once

#include <cstddef>
#include <vector>

namespace edgert::engine::planning {

struct arena_request {
  std::size_t bytes = 0;
  int first = 0;  // first step using the block
  int last = 0;   // last step using the block (>= first)
};

struct arena_layout {
  std::vector<std::size_t> offsets;  // per request, a multiple of the alignment
  std::size_t total = 0;             // bytes of the whole arena
};

/// Places the largest blocks first, each at the lowest aligned offset that does not overlap a
/// block placed earlier and alive at the same time (greedy by size, as in most inference
/// runtimes' planners). `alignment` must be a power of two.
arena_layout assign_offsets(const std::vector<arena_request>& requests, std::size_t alignment = 64);

/// True when no two blocks alive at the same time overlap (for tests and self-checks).
bool layout_is_valid(const std::vector<arena_request>& requests, const arena_layout& layout);

}  // namespace edgert::engine::planning
