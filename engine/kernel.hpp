// Kernels: the code that computes one node. A kernel receives the node's input tensors and
// produces its outputs; the reference kernels (engine/kernels/) allocate their outputs and
// are written for clarity: they are the correctness oracle the fast backends are tested
// against.
//
// Kernels run on whichever thread runs the model; a kernel function keeps no state between
// calls, so one registry serves every model and thread.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "engine/graph.hpp"

namespace edgert::engine {

struct kernel_context {
  const node& n;
  std::int64_t opset;                  // the model's opset for the node's domain
  std::vector<const tensor*> inputs;   // nullptr where an optional input is omitted
  std::vector<tensor> outputs;         // sized to n.outputs; the kernel fills them

  std::size_t input_count() const { return inputs.size(); }
  bool has_input(std::size_t i) const { return i < inputs.size() && inputs[i] != nullptr; }
  const tensor& input(std::size_t i) const { return *inputs.at(i); }
  /// A failure naming the node: "Conv (node 'c1'): <message>".
  failure error(errc code, const std::string& message) const;
  failure invalid(const std::string& message) const { return error(errc::invalid_argument, message); }
  failure unsupported(const std::string& message) const {
    return error(errc::not_implemented, message);
  }
};

using kernel_fn = std::function<result<void>(kernel_context&)>;

struct kernel_entry {
  kernel_fn run;
  std::int64_t since_opset = 1;  // oldest opset version the kernel implements
};

/// Maps (domain, op type) to kernels. The built-in registry holds every reference kernel.
class kernel_registry {
 public:
  void add(const std::string& domain, const std::string& op_type, kernel_fn run,
           std::int64_t since_opset = 1);
  const kernel_entry* find(const std::string& domain, const std::string& op_type) const;
  std::vector<std::string> op_types(const std::string& domain = "") const;

  /// Every built-in kernel, registered once on first use.
  static const kernel_registry& builtin();

 private:
  std::map<std::pair<std::string, std::string>, kernel_entry> kernels_;
};

}  // namespace edgert::engine
