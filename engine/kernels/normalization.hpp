// Private to the normalization kernel family (normalization.cpp, softmax.cpp).
#pragma once

namespace edgert::engine {
class kernel_registry;
namespace kernels {

void register_softmax_kernels(kernel_registry& r);  // softmax.cpp: Softmax, LogSoftmax, Hardmax

}  // namespace kernels
}  // namespace edgert::engine
