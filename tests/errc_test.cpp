// One error enum: every value has a distinct name and maps to the exception named after
// its meaning, and CAF errors carry it through actors and back unchanged.
#include <doctest/doctest.h>

#include <set>

#include <caf/sec.hpp>

#include "actors/caf_error.hpp"
#include "edgert/errors.hpp"

using namespace edgert;

namespace {

const errc every_error[] = {
    errc::device_in_use, errc::pending,        errc::incompatible_device,
    errc::invalid_argument, errc::invalid_configuration, errc::not_implemented,
    errc::internal_error, errc::connection_error, errc::timeout,
    errc::queue_full,     errc::closed,         errc::device_fault,
    errc::out_of_memory,  errc::io_error};

template <class Exception>
bool throws_as(errc code) {
  try {
    throw_error(code, "message");
  } catch (const Exception& e) {
    return e.code() == code && std::string(e.what()) == "message";
  } catch (...) {
  }
  return false;
}

}  // namespace

SCENARIO("every error value has its own name") {
  std::set<std::string_view> names;
  for (auto code : every_error) {
    auto name = to_string(code);
    CHECK(name != "unknown_error");
    CHECK(names.insert(name).second);
  }
  CHECK(to_string(errc::ok) == "ok");
}

SCENARIO("each error value throws the exception named after it") {
  CHECK(throws_as<DeviceInUse>(errc::device_in_use));
  CHECK(throws_as<Pending>(errc::pending));
  CHECK(throws_as<IncompatibleDevice>(errc::incompatible_device));
  CHECK(throws_as<InvalidArgument>(errc::invalid_argument));
  CHECK(throws_as<InvalidConfiguration>(errc::invalid_configuration));
  CHECK(throws_as<NotImplemented>(errc::not_implemented));
  CHECK(throws_as<InternalError>(errc::internal_error));
  CHECK(throws_as<ConnectionError>(errc::connection_error));
  CHECK(throws_as<Timeout>(errc::timeout));
  CHECK(throws_as<QueueFull>(errc::queue_full));
  CHECK(throws_as<Closed>(errc::closed));
  CHECK(throws_as<DeviceFault>(errc::device_fault));
  CHECK(throws_as<OutOfMemory>(errc::out_of_memory));
  CHECK(throws_as<IoError>(errc::io_error));
  CHECK(throws_as<Error>(errc::timeout));
}

SCENARIO("an edgert error survives the trip through a CAF error") {
  for (auto code : every_error) {
    auto back = from_caf_error(to_caf_error(code, "details"));
    CHECK(back.code == code);
    CHECK(back.message == "details");
  }
}

SCENARIO("CAF's own errors map to edgert errors") {
  CHECK(from_caf_error(caf::make_error(caf::sec::request_timeout)).code == errc::timeout);
  CHECK(from_caf_error(caf::make_error(caf::sec::request_receiver_down)).code == errc::connection_error);
  CHECK(from_caf_error(caf::make_error(caf::sec::unexpected_message)).code == errc::internal_error);
}
