// Registration of the built-in reference kernels, one function per kernel family (one
// source file each in this folder). kernel_registry::builtin() calls them all once.
#pragma once

namespace edgert::engine {

class kernel_registry;

void register_unary_kernels(kernel_registry& r);          // unary.cpp: activations, math, Cast
void register_binary_kernels(kernel_registry& r);         // binary.cpp: arithmetic, comparison, logic, Where
void register_reduce_kernels(kernel_registry& r);         // reduce.cpp: Reduce*, ArgMax/ArgMin, TopK
void register_normalization_kernels(kernel_registry& r);  // normalization.cpp: BatchNorm, LayerNorm, Softmax, ...
void register_conv_kernels(kernel_registry& r);           // conv.cpp: Conv, ConvTranspose
void register_pool_kernels(kernel_registry& r);           // pool.cpp: MaxPool, AveragePool, global pools
void register_linear_kernels(kernel_registry& r);         // linear.cpp: Gemm, MatMul, Einsum
void register_quantized_kernels(kernel_registry& r);      // quantized.cpp: QDQ and QLinear/Integer ops
void register_resize_kernels(kernel_registry& r);         // resize.cpp: Resize, Upsample
void register_shape_kernels(kernel_registry& r);          // shape.cpp: Reshape, Transpose, Concat, Slice, ...
void register_detection_kernels(kernel_registry& r);      // detection.cpp: NonMaxSuppression

inline void register_builtin_kernels(kernel_registry& r) {
  register_unary_kernels(r);
  register_binary_kernels(r);
  register_reduce_kernels(r);
  register_normalization_kernels(r);
  register_conv_kernels(r);
  register_pool_kernels(r);
  register_linear_kernels(r);
  register_quantized_kernels(r);
  register_resize_kernels(r);
  register_shape_kernels(r);
  register_detection_kernels(r);
}

}  // namespace edgert::engine
