// Random inputs and output summaries for the run and bench commands.
#pragma once

#include <cstdint>

#include "edgert/tensor.hpp"

namespace edgert::cli {

/// A tensor of `info`'s dtype and shape with seeded random values: floats uniform in
/// [-1, 1), integers over the type's range (bool 0/1).
Tensor random_tensor(const TensorInfo& info, std::uint64_t seed);

struct tensor_stats {
  double min = 0, max = 0, mean = 0;
  std::int64_t argmax = -1;  // flat index of the first maximum; -1 for an empty tensor
};

/// Statistics of a numeric tensor (float16/bfloat16 read as their float values).
tensor_stats summarize(const Tensor& t);

}  // namespace edgert::cli
