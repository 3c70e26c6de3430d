// Private: the planning representation behind engine::plan (engine/plan.hpp).
//
// A planned model is a list of steps over buffers. A value of the graph (an activation, a
// graph input, a constant) can be materialised in several buffers, one per layout a
// consumer needs (plain row-major, or a backend's blocked layout such as oneDNN's
// nChw16c). Steps read and write buffers by index; where a buffer lives (arena offset,
// caller's input or output memory, a plan constant, or a tensor made at run time) is
// decided by the planner and resolved into one address table per executor.
//
// Ownership and threads: a step belongs to its plan and is immutable once planned; it may
// be instantiated by many executors on many threads at once. A step_instance belongs to
// one executor and runs only on the thread that calls executor::run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "engine/graph.hpp"
#include "engine/tensor.hpp"

namespace edgert::engine::planning {

/// How the elements of a buffer are arranged.
struct layout {
  enum class kind {
    plain,            // dense row-major in the value's shape
    channel_blocked,  // [N][ceil(C/block)][spatial...][block], padded channels zero
    channels_last,    // [N][spatial...][C] (NHWC and its 1-D/3-D forms)
    opaque,           // another arrangement only the producing backend understands
  };
  kind k = kind::plain;
  int block = 0;                       // channel_blocked: channels per block
  std::shared_ptr<const void> native;  // opaque: the backend's own description
  std::string key;                     // equal keys mean equal arrangements of one value
  std::size_t bytes = 0;               // storage the buffer needs, padding included

  bool is_plain() const { return k == kind::plain; }
  /// "nchw" style for plain, "nChw16c" for channel_blocked, "nhwc" for channels_last.
  std::string name(std::size_t rank) const;
  static layout plain(const shape_t& shape, dtype type);
  static layout blocked(const shape_t& shape, dtype type, int block);
  static layout channels_last(const shape_t& shape, dtype type);
};

/// A value of the graph as the planner sees it.
struct value {
  std::string name;
  dtype type = dtype::undefined;
  shape_t shape;           // meaningful when is_static
  bool is_static = false;  // every dimension known at plan time
  const tensor* constant = nullptr;  // initializer or folded value (owned by the plan)
  int input_index = -1;              // graph input position, or -1
  std::vector<int> output_indices;   // graph output positions
  int consumers = 0;                 // node inputs reading it (graph outputs not counted)
  std::vector<int> buffers;          // its materialisations, the first is the primary one
};

/// Where a buffer's bytes are.
enum class home {
  arena,     // the executor's arena at `offset`
  input,     // the caller's input buffer `index`, bound at each run
  output,    // the caller's output buffer `index`, bound at each run
  constant,  // the value's plan-owned tensor
  dynamic,   // a tensor the executor keeps per value; its shape is known only at run time
  alias,     // the same bytes as buffer `alias_of` (a reshape or an in-place update)
};

struct buffer {
  int value = -1;
  layout lay;
  planning::home where = home::arena;
  int index = -1;            // input/output position for home::input / home::output
  int alias_of = -1;         // home::alias: the buffer whose bytes it shares
  std::size_t offset = 0;    // home::arena: byte offset in the arena
  int first = -1, last = -1; // first writing and last reading step (-1: none)
};

/// Addresses and run-time tensors an executor resolves for its steps.
struct run_context {
  void* const* address = nullptr;  // per buffer; dynamic buffers hold nullptr
  std::vector<tensor>* dynamic = nullptr;  // per value; set for values with home::dynamic
};

/// The per-executor part of a step: whatever a run needs that must not be shared between
/// executors (oneDNN memory objects, a stream, pre-wrapped tensors). Runs on the thread that
/// runs the executor.
class step_instance {
 public:
  virtual ~step_instance() = default;
  virtual result<void> run(run_context& rc) = 0;
};

/// What a step may use when it is instantiated for an executor.
struct instance_context {
  const std::vector<buffer>* buffers = nullptr;
  const std::vector<value>* values = nullptr;
  /// Addresses of buffers fixed for the executor's lifetime (arena, constants, aliases of
  /// either); nullptr for buffers bound at each run (caller memory, dynamic tensors).
  const std::vector<void*>* fixed = nullptr;
  void* scratch = nullptr;        // shared by every step of the executor, one at a time
  std::size_t scratch_bytes = 0;
  int threads = 1;
};

/// One planned unit of work: a node, a fused group of nodes, or a layout conversion.
class step {
 public:
  std::string label;    // node names joined by '+', or what a conversion converts
  std::string op;       // "Conv", "Conv+BatchNormalization+Relu", "Reorder", ...
  std::string backend;  // "onednn", "loops", "reference"
  std::vector<int> reads, writes;  // buffer indices

  virtual ~step() = default;
  virtual result<std::unique_ptr<step_instance>> instantiate(const instance_context& ctx) const = 0;
  /// Bytes of executor scratch memory the step needs while it runs.
  virtual std::size_t scratch_bytes() const { return 0; }
};

}  // namespace edgert::engine::planning
