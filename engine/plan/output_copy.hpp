// Private: the step that copies a graph output into the caller's output buffer when the
// value's plain bytes live elsewhere (a graph input or constant returned as an output, a
// value listed twice among the outputs, a value whose shape is known only at run time).
#pragma once

#include <memory>

#include "engine/plan/backend.hpp"

namespace edgert::engine::planning {

/// Copies plain buffer `from` into the caller's output `index`.
std::unique_ptr<step> make_output_copy(int from, int index, lowering_context& ctx);

}  // namespace edgert::engine::planning
