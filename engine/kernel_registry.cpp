#include "engine/kernel.hpp"
#include "engine/kernels/register.hpp"

namespace edgert::engine {

failure kernel_context::error(errc code, const std::string& message) const {
  return fail(code, n.describe() + ": " + message);
}

void kernel_registry::add(const std::string& domain, const std::string& op_type, kernel_fn run,
                          std::int64_t since_opset) {
  kernels_[{domain, op_type}] = kernel_entry{std::move(run), since_opset};
}

const kernel_entry* kernel_registry::find(const std::string& domain,
                                          const std::string& op_type) const {
  auto key = std::make_pair(domain == "ai.onnx" ? std::string{} : domain, op_type);
  auto i = kernels_.find(key);
  return i == kernels_.end() ? nullptr : &i->second;
}

std::vector<std::string> kernel_registry::op_types(const std::string& domain) const {
  std::vector<std::string> out;
  for (auto& [key, entry] : kernels_)
    if (key.first == domain) out.push_back(key.second);
  return out;
}

const kernel_registry& kernel_registry::builtin() {
  static const kernel_registry registry = [] {
    kernel_registry r;
    register_builtin_kernels(r);
    return r;
  }();
  return registry;
}

}  // namespace edgert::engine
