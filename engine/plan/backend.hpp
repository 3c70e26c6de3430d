// Private: the kernel-backend interface of the planner.
//
// The planner walks the graph in order and offers each node group (engine/plan/groups.hpp)
// to the backends in priority order: oneDNN (fp32 Conv/Gemm/MatMul on x86), the "loops"
// backend (pooling and element-wise work on plain or channel-blocked buffers), and finally
// the reference backend, which takes every node the interpreter can run. A backend that
// takes a group asks the planner for its input buffers in the layouts it wants (the planner
// inserts conversions), defines its output buffers, and emits steps that run on them.
//
// Backends are created per plan::create call and used only by the thread planning; the
// steps they emit belong to the plan.
#pragma once

#include <memory>
#include <string>

#include "common/result.hpp"
#include "engine/plan.hpp"
#include "engine/plan/groups.hpp"
#include "engine/plan/ir.hpp"

namespace edgert::engine::planning {

/// What the planner offers a backend while it lowers a group.
class lowering_context {
 public:
  virtual ~lowering_context() = default;
  virtual const graph& model() const = 0;
  virtual const plan_options& options() const = 0;
  virtual const model_view& view() const = 0;
  virtual const value& val(int id) const = 0;
  virtual const buffer& buf(int id) const = 0;
  /// Value ids of node n's inputs and outputs (-1 where omitted or unused).
  virtual const std::vector<int>& inputs_of(int node) const = 0;
  virtual const std::vector<int>& outputs_of(int node) const = 0;

  /// The layout the value is currently available in (its primary buffer's).
  virtual const layout& primary_layout(int value) const = 0;
  /// A buffer holding the value in layout l, converting once if needed (the conversion is
  /// emitted now, before the caller's own step). Fails when no backend can convert.
  virtual result<int> buffer_in(int value, const layout& l) = 0;
  /// Defines the primary buffer of a value the caller's step will write.
  virtual int define(int value, const layout& l) = 0;
  /// Defines the primary buffer of `value` as the bytes of buffer `source` (a reshape, or an
  /// output written in place over an input that dies here).
  virtual int define_alias(int value, int source) = 0;
  /// A plain buffer of `value` homed at the caller's output `index` (for output copies).
  virtual int define_output_slot(int value, int index) = 0;
  /// True when buffer `b` of `value` may be overwritten by the step being lowered: its bytes
  /// are arena memory, and no node but `reader` (the node whose result will overwrite them)
  /// reads them after this point, through this value or any value sharing the bytes.
  virtual bool can_overwrite(int value, int b, int reader) const = 0;
  /// True when no node but `reader` reads `value` after this point and the value is an
  /// activation (not a graph input, output or constant): a fresh copy of it may then be
  /// overwritten.
  virtual bool dies_at(int value, int reader) const = 0;
  virtual void emit(std::unique_ptr<step> s) = 0;
};

class backend {
 public:
  virtual ~backend() = default;
  virtual const char* name() const = 0;
  /// Lowers the whole group and returns true, or returns false having requested and
  /// emitted nothing. A failure aborts planning.
  virtual result<bool> lower(const node_group& group, lowering_context& ctx) = 0;
  /// A step copying buffer `from` into buffer `to` (one value, two layouts), or null when
  /// this backend cannot convert between those layouts.
  virtual std::unique_ptr<step> convert(int from, int to, const lowering_context& ctx) { return nullptr; }
};

std::unique_ptr<backend> make_reference_backend();
std::unique_ptr<backend> make_loops_backend();
/// Integer kernels for the quantized groups of engine/plan/int8/qgroups.hpp.
std::unique_ptr<backend> make_int8_backend();
/// Null when oneDNN cannot be used on this machine (not x86-64).
std::unique_ptr<backend> make_onednn_backend(const plan_options& options);

}  // namespace edgert::engine::planning
