// plan: a model compiled once for fast, allocation-free execution.
//
// plan::create() does all the work that does not depend on input values: shape inference
// for static shapes, constant folding, fusions (Conv + BatchNormalization + activation,
// Gemm/MatMul + bias + activation, QDQ groups to integer kernels), the choice of a kernel
// backend per node (exact integer kernels for quantized groups, oneDNN for fp32
// Conv/Gemm/MatMul on x86, loops for pooling, the reference kernels for everything else;
// engine/README.md), one activation layout kept between layers
// where possible, weights reordered once, and one memory arena laid out by value lifetime.
//
// Ownership and threads: a plan is immutable after create() and shared (shared_ptr) by every
// executor made from it; its weights live as long as the plan. An executor owns the arena and
// the per-run state; it runs on whichever thread calls run() and must not be used by two
// threads at once (make one executor per worker thread). executor::run() allocates nothing
// on the heap once the executor exists.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "engine/graph.hpp"
#include "engine/tensor.hpp"

namespace edgert::engine {

struct plan_options {
  int threads = 1;           // compute threads per executor run (oneDNN / XNNPACK pools)
  bool fast_kernels = true;  // false: reference kernels only (the oracle), still planned
  /// Winograd convolution (oneDNN) for 3x3 stride-1 layers where the CPU has it: about 2x
  /// faster, with float32 rounding differences around 1e-5 relative to direct convolution.
  bool winograd = true;
};

/// Counts the timing model of a simulated board needs, fixed at plan time.
struct plan_cost {
  std::uint64_t macs = 0;          // multiply-accumulates of one run (Conv, Gemm, MatMul, ...)
  std::uint64_t weight_bytes = 0;  // bytes of initializers after folding
  std::uint64_t input_bytes = 0;   // bytes of all graph inputs
  std::uint64_t output_bytes = 0;  // bytes of all graph outputs
};

class executor;

class plan : public std::enable_shared_from_this<plan> {
 public:
  /// Fails like interpreter::create (not_implemented naming unsupported ops) and with
  /// invalid_argument when a graph input has a dimension unknown at plan time.
  static result<std::shared_ptr<const plan>> create(std::shared_ptr<const graph> g,
                                                    const plan_options& options = {});

  const std::vector<value_info>& inputs() const;   // graph inputs, in graph order
  const std::vector<value_info>& outputs() const;  // graph outputs, in graph order
  const plan_cost& cost() const;
  std::size_t arena_bytes() const;  // activation memory one executor holds
  const plan_options& options() const;
  /// One line per planned step: "conv1+bn1+relu1  Conv  onednn  [1,64,112,112] nChw8c".
  std::string describe() const;

  /// An executor with its own arena (allocated here, once).
  result<std::unique_ptr<executor>> make_executor() const;

  virtual ~plan() = default;

 protected:
  plan() = default;
};

class executor {
 public:
  /// Runs the plan. inputs[i] / outputs[i] point to dense row-major buffers of the graph's
  /// i-th input / output with exactly the planned dtype and shape (the caller checks sizes
  /// through plan::inputs()/outputs()). Allocates nothing in the fast-path steps; kernel
  /// failures are returned. An output whose planned shape has unknown dimensions (one made
  /// by a data-dependent op such as NonZero) must be passed as nullptr; run(map) returns it.
  virtual result<void> run(const std::vector<const void*>& inputs,
                           const std::vector<void*>& outputs) = 0;

  /// Convenience for tests and tools: named tensors in, freshly allocated tensors out.
  /// Checks names, dtypes and shapes with clear invalid_argument errors.
  result<std::map<std::string, tensor>> run(const std::map<std::string, tensor>& inputs);

  virtual const plan& owner() const = 0;
  virtual ~executor() = default;

 protected:
  /// After a run: the i-th graph output when its shape is known only at run time (a view
  /// of the executor's own tensor, valid until the next run); an empty tensor otherwise.
  virtual tensor run_time_output(std::size_t i) const = 0;
};

}  // namespace edgert::engine
