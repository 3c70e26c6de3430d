// Exceptions thrown by the C++ facade, one per errc value, named after its meaning.
#pragma once

#include <stdexcept>
#include <string>

#include "edgert/errc.hpp"

namespace edgert {

/// Base of every exception edgert throws; code() says which errc it carries.
class Error : public std::runtime_error {
 public:
  Error(errc code, const std::string& message);
  errc code() const noexcept { return code_; }

 private:
  errc code_;
};

#define EDGERT_DECLARE_ERROR(Name, code_value)                               \
  class Name : public Error {                                                \
   public:                                                                   \
    explicit Name(const std::string& message) : Error(code_value, message) {} \
  }

EDGERT_DECLARE_ERROR(DeviceInUse, errc::device_in_use);
EDGERT_DECLARE_ERROR(Pending, errc::pending);
EDGERT_DECLARE_ERROR(IncompatibleDevice, errc::incompatible_device);
EDGERT_DECLARE_ERROR(InvalidArgument, errc::invalid_argument);
EDGERT_DECLARE_ERROR(InvalidConfiguration, errc::invalid_configuration);
EDGERT_DECLARE_ERROR(NotImplemented, errc::not_implemented);
EDGERT_DECLARE_ERROR(InternalError, errc::internal_error);
EDGERT_DECLARE_ERROR(ConnectionError, errc::connection_error);
EDGERT_DECLARE_ERROR(Timeout, errc::timeout);
EDGERT_DECLARE_ERROR(QueueFull, errc::queue_full);
EDGERT_DECLARE_ERROR(Closed, errc::closed);
EDGERT_DECLARE_ERROR(DeviceFault, errc::device_fault);
EDGERT_DECLARE_ERROR(OutOfMemory, errc::out_of_memory);
EDGERT_DECLARE_ERROR(IoError, errc::io_error);

#undef EDGERT_DECLARE_ERROR

/// Throws the exception type that matches `code` (InternalError for errc::ok).
[[noreturn]] void throw_error(errc code, const std::string& message);

}  // namespace edgert
