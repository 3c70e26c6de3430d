#include "edgert/errc.hpp"
#include "edgert/errors.hpp"

namespace edgert {

std::string_view to_string(errc code) noexcept {
  switch (code) {
    case errc::ok: return "ok";
    case errc::device_in_use: return "device_in_use";
    case errc::pending: return "pending";
    case errc::incompatible_device: return "incompatible_device";
    case errc::invalid_argument: return "invalid_argument";
    case errc::invalid_configuration: return "invalid_configuration";
    case errc::not_implemented: return "not_implemented";
    case errc::internal_error: return "internal_error";
    case errc::connection_error: return "connection_error";
    case errc::timeout: return "timeout";
    case errc::queue_full: return "queue_full";
    case errc::closed: return "closed";
    case errc::device_fault: return "device_fault";
    case errc::out_of_memory: return "out_of_memory";
    case errc::io_error: return "io_error";
  }
  return "unknown_error";
}

Error::Error(errc code, const std::string& message) : std::runtime_error(message), code_(code) {}

void throw_error(errc code, const std::string& message) {
  switch (code) {
    case errc::device_in_use: throw DeviceInUse(message);
    case errc::pending: throw Pending(message);
    case errc::incompatible_device: throw IncompatibleDevice(message);
    case errc::invalid_argument: throw InvalidArgument(message);
    case errc::invalid_configuration: throw InvalidConfiguration(message);
    case errc::not_implemented: throw NotImplemented(message);
    case errc::connection_error: throw ConnectionError(message);
    case errc::timeout: throw Timeout(message);
    case errc::queue_full: throw QueueFull(message);
    case errc::closed: throw Closed(message);
    case errc::device_fault: throw DeviceFault(message);
    case errc::out_of_memory: throw OutOfMemory(message);
    case errc::io_error: throw IoError(message);
    case errc::ok:
    case errc::internal_error: break;
  }
  throw InternalError(message);
}

}  // namespace edgert
