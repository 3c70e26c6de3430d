// Private: what the oneDNN lowering code shares: the CPU engine, conversions between the
// planner's layouts and oneDNN memory descriptors, activation post-ops, and the generic
// step that runs one oneDNN primitive on planned buffers.
//
// Ownership and threads: the engine is created once per process and shared. A
// primitive_step (plan-owned) holds the compiled primitive and its constant memories
// (reordered weights, biases); each executor instantiates its own memory objects, stream
// and argument list, so executors never share mutable oneDNN state. Primitives are created
// with user-managed scratchpads; the executor lends its scratch block.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <memory>
#include <string>
#include <vector>

#include "engine/plan/backend.hpp"
#include "engine/plan/groups.hpp"

namespace edgert::engine::planning::onednn {

using dnnl::memory;

/// The process's oneDNN CPU engine.
const dnnl::engine& cpu_engine();

/// Channels per block of the blocked activation layout the backend prefers: 16 with AVX-512,
/// 8 otherwise (AVX2).
int preferred_block();

/// Dense row-major f32 descriptor of a shape.
memory::desc plain_desc(const shape_t& shape);
/// The descriptor of a buffer with layout l holding a value of `shape`.
memory::desc desc_of(const layout& l, const shape_t& shape);
/// The planner layout of a descriptor a primitive chose: plain, channel_blocked when it is the
/// dense nC[d][h]w8c/16c arrangement, opaque otherwise.
layout layout_of(const memory::desc& d, const shape_t& shape);

/// Appends the post-ops computing the activations in order.
void append_activations(dnnl::post_ops& ops, const std::vector<activation>& acts);

/// Short name of the implementation oneDNN picked ("brgconv:avx512_core", "ref:any").
std::string implementation(const dnnl::primitive_desc_base& pd);
/// True for oneDNN's slow reference implementations, which the reference backend matches.
bool is_reference_implementation(const dnnl::primitive_desc_base& pd);

/// One argument of a primitive: a planned buffer, or a constant memory owned by the step.
struct argument {
  int arg = 0;            // DNNL_ARG_*
  int buffer = -1;        // planned buffer, or -1 for `constant`
  memory::desc desc;      // how the primitive reads or writes the buffer
  memory constant;        // plan-owned memory (weights, bias) when buffer < 0
};

class primitive_step final : public step {
 public:
  dnnl::primitive primitive;
  std::vector<argument> args;
  std::size_t scratch = 0;

  result<std::unique_ptr<step_instance>> instantiate(const instance_context& ctx) const override;
  std::size_t scratch_bytes() const override { return scratch; }
};

/// Copies `values` into a new plan-owned memory of descriptor `d` (plain layout expected).
memory make_memory(const memory::desc& d, const std::vector<float>& values);
/// Reorders a plan-owned memory into descriptor `to` (e.g. a primitive's weights format).
memory reorder_to(const memory& from, const memory::desc& to);

}  // namespace edgert::engine::planning::onednn
