#include <cstring>

#include "api/model_core.hpp"
#include "api/unwrap.hpp"
#include "edgert/tensor.hpp"
#include "engine/npy.hpp"

namespace edgert {

Tensor load_npy(const std::string& path) {
  auto t = unwrap(engine::read_npy(path));
  Tensor out(to_public(t.type()), t.shape());
  if (t.bytes()) std::memcpy(out.data(), t.raw(), t.bytes());
  return out;
}

void save_npy(const std::string& path, const Tensor& tensor) {
  auto view = engine::tensor::wrap(to_engine(tensor.dtype()), tensor.shape(),
                                   const_cast<void*>(tensor.data()));
  unwrap(engine::write_npy(path, view));
}

}  // namespace edgert
