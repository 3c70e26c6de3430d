// The one error enumeration of edgert, shared by every layer.
//
// Lower layers (sim, drivers, actors) report failures as an errc plus a message; the C++
// facade turns them into the exception types of <edgert/errors.hpp>, and the C API into
// status codes with the same numeric values.
#pragma once

#include <string_view>

namespace edgert {

enum class errc : int {
  /// No error.
  ok = 0,
  /// The device or some of its sub-devices are leased by another holder (named in the message).
  device_in_use = 1,
  /// The device accepted a configuration that has not settled yet; poll device_ready().
  pending = 2,
  /// The request needs a capability this device does not have (e.g. fusing on a board without fusion).
  incompatible_device = 3,
  /// An argument is malformed or out of range: unknown device, bad spec, bad count.
  invalid_argument = 4,
  /// A configuration or board file is invalid: unknown key, clock profile not allowed, bad value.
  invalid_configuration = 5,
  /// The operation exists in the API but this device or driver does not provide it.
  not_implemented = 6,
  /// An internal invariant broke; a bug in edgert. The message says where.
  internal_error = 7,
  /// The runtime or a device actor could not be reached (gone, shut down, or crashed).
  connection_error = 8,
  /// A wait ran past its deadline.
  timeout = 9,
  /// A bounded queue is full and its overflow policy is reject.
  queue_full = 10,
  /// The object (context, connection, queue, runner) was closed or released.
  closed = 11,
  /// The device reported a fault (hang, reset, DMA failure); the device state says which.
  device_fault = 12,
  /// Device or host memory is not sufficient for the request.
  out_of_memory = 13,
  /// A file could not be read or written (board file, lease file, tensor file).
  io_error = 14,
};

/// A stable lower-case name for each value, e.g. "device_in_use".
std::string_view to_string(errc code) noexcept;

}  // namespace edgert
