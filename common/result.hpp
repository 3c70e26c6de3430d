// result<T>: a value or a failure (errc + message), for the layers below the facade.
//
// sim/, drivers/ and actors/ never throw across their interfaces; they return result<T>.
// The facade converts a failure into the matching exception with throw_error().
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "edgert/errc.hpp"

namespace edgert {

struct failure {
  errc code = errc::internal_error;
  std::string message;
};

inline failure fail(errc code, std::string message) { return failure{code, std::move(message)}; }

template <class T>
class result {
 public:
  result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  result(failure f) : state_(std::in_place_index<1>, std::move(f)) {}

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const failure& error() const& { return std::get<1>(state_); }
  errc code() const noexcept { return ok() ? errc::ok : std::get<1>(state_).code; }

 private:
  std::variant<T, failure> state_;
};

/// The result of an operation that yields nothing but may fail.
template <>
class result<void> {
 public:
  result() = default;
  result(failure f) : failure_(std::move(f)), ok_(false) {}

  bool ok() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const failure& error() const& { return failure_; }
  errc code() const noexcept { return ok_ ? errc::ok : failure_.code; }

 private:
  failure failure_;
  bool ok_ = true;
};

}  // namespace edgert
