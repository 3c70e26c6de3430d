// unwrap: the facade's bridge from result<T> to exceptions (one exception per errc).
#pragma once

#include "common/result.hpp"
#include "edgert/errors.hpp"

namespace edgert {

template <class T>
T unwrap(result<T> r) {
  if (!r) throw_error(r.error().code, r.error().message);
  return std::move(r.value());
}

inline void unwrap(result<void> r) {
  if (!r) throw_error(r.error().code, r.error().message);
}

}  // namespace edgert
