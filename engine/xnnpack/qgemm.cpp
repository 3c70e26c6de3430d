// qgemm (see qgemm.hpp): the weights become a [N, K, 1, 1] convolution kernel and A the NHWC
// image [1, rows, 1, K], whose memory is exactly row-major A.
#include "engine/xnnpack/qgemm.hpp"

#include <algorithm>
#include <new>
#include <utility>

namespace edgert::engine::xnn {

qgemm::qgemm(qconv2d conv, std::int64_t rows, std::int64_t k, std::int64_t n)
    : conv_(std::move(conv)), rows_(rows), k_(k), n_(n) {
  description_ = "qgemm " + std::to_string(rows) + "x" + std::to_string(k) + "->" + std::to_string(n) + " " +
                 conv_.describe();
}

result<qgemm> qgemm::create(const qgemm_params& p) {
  // Only allocation can throw below; it becomes a failure rather than escaping.
  try {
    return create_unchecked(p);
  } catch (const std::bad_alloc&) {
    return fail(errc::out_of_memory, "qgemm: out of memory while creating the operator");
  }
}

result<qgemm> qgemm::create_unchecked(const qgemm_params& p) {
  const tensor& w = p.weights;
  if ((w.type() != dtype::u8 && w.type() != dtype::i8) || w.rank() != 2)
    return fail(errc::invalid_argument, "qgemm: weights must be a 2-D uint8 or int8 tensor, got " +
                                            std::string(to_string(w.type())) + " " + to_string(w.shape()));
  if (p.rows < 1) return fail(errc::invalid_argument, "qgemm: rows must be positive, got " + std::to_string(p.rows));
  const std::int64_t k = p.weights_transposed ? w.shape()[1] : w.shape()[0];
  const std::int64_t n = p.weights_transposed ? w.shape()[0] : w.shape()[1];
  if (k < 1 || n < 1) return fail(errc::invalid_argument, "qgemm: empty weights " + to_string(w.shape()));

  // [N, K] in any case: transpose MatMul's [K, N].
  tensor kernel(w.type(), {n, k, 1, 1});
  const auto* src = static_cast<const unsigned char*>(w.raw());
  auto* dst = static_cast<unsigned char*>(kernel.raw());
  if (p.weights_transposed) {
    std::copy(src, src + n * k, dst);
  } else {
    for (std::int64_t r = 0; r < k; ++r)
      for (std::int64_t c = 0; c < n; ++c) dst[c * k + r] = src[r * n + c];
  }

  qconv_params c;
  c.input_shape = {1, k, p.rows, 1};
  c.input_type = p.input_type;
  c.input_scale = p.input_scale;
  c.input_zero_point = p.input_zero_point;
  c.weights = kernel;
  c.weight_scales = p.weight_scales;
  c.weight_zero_points = p.weight_zero_points;
  c.bias = p.bias;
  c.output_type = p.output_type;
  c.output_scale = p.output_scale;
  c.output_zero_point = p.output_zero_point;
  c.output_min = p.output_min;
  c.output_max = p.output_max;
  auto conv = qconv2d::create(c);
  if (!conv) {
    failure f = conv.error();
    if (f.message.rfind("qconv2d: ", 0) == 0) f.message = "qgemm: " + f.message.substr(9);
    return f;
  }
  return qgemm(std::move(*conv), p.rows, k, n);
}

}  // namespace edgert::engine::xnn
