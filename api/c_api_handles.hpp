// The C API's plumbing (private to api/c_api_*.cpp): the objects behind its opaque handles,
// the tables that map handle values to them, and the guard that turns every exception into
// an edgert_status plus a per-thread message.
//
// Handle values are not addresses: each is a number drawn from one process-wide counter
// (never reused), cast to the opaque pointer type. A table per handle kind maps the number
// to a shared_ptr of the object, so a NULL, released, forged or wrong-kind handle is simply
// not found (EDGERT_INVALID_ARGUMENT) instead of being dereferenced. A call holds its own
// shared_ptr for its duration, so another thread releasing the handle meanwhile only drops
// the table's reference and the object goes when the call returns.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "edgert/edgert.h"
#include "edgert/edgert.hpp"

namespace edgert::capi {

// ---- the objects behind the handles ---------------------------------------------------

struct context_object {
  explicit context_object(ContextOptions options) : context(std::move(options)) {}
  Context context;
};

// Owned by its handle and by every model instance loaded through it: the lease is freed when
// the last of them goes (Connection's destructor).
struct connection_object {
  explicit connection_object(Connection c) : connection(std::move(c)) {}
  Connection connection;
};

struct model_object {
  explicit model_object(Model m) : model(std::move(m)) {}
  Model model;
};

struct instance_object {
  instance_object(std::shared_ptr<connection_object> c, ModelInstance i)
      : connection(std::move(c)), instance(std::move(i)) {}
  std::shared_ptr<connection_object> connection;  // declared first: outlives the instance
  ModelInstance instance;
  // Errors taken from the instance but not yet handed to the caller (take_errors with a
  // small array). Guarded by errors_mutex.
  std::mutex errors_mutex;
  std::deque<ScheduledError> pending_errors;
};

struct runner_object {
  explicit runner_object(Runner r) : runner(std::move(r)) {}
  Runner runner;
};

struct configuration_object {
  std::vector<std::pair<std::string, std::string>> entries;  // sorted by key
};

// ---- handle tables --------------------------------------------------------------------

/// The next handle number; process-wide, so numbers are unique across kinds and never reused.
std::uintptr_t next_handle_number() noexcept;

template <class Object>
class handle_table {
 public:
  std::uintptr_t add(std::shared_ptr<Object> object) {
    const auto number = next_handle_number();
    std::unique_lock<std::shared_mutex> guard(mutex_);
    live_.emplace(number, std::move(object));
    return number;
  }
  std::shared_ptr<Object> find(std::uintptr_t number) const {
    std::shared_lock<std::shared_mutex> guard(mutex_);
    auto i = live_.find(number);
    return i == live_.end() ? nullptr : i->second;
  }
  std::shared_ptr<Object> remove(std::uintptr_t number) {
    std::unique_lock<std::shared_mutex> guard(mutex_);
    auto i = live_.find(number);
    if (i == live_.end()) return nullptr;
    auto object = std::move(i->second);
    live_.erase(i);
    return object;
  }

 private:
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::uintptr_t, std::shared_ptr<Object>> live_;
};

/// Which object kind each opaque C handle type stands for.
template <class Handle>
struct handle_kind;
template <> struct handle_kind<edgert_context> { using object = context_object; static constexpr const char* name = "context"; };
template <> struct handle_kind<edgert_connection> { using object = connection_object; static constexpr const char* name = "connection"; };
template <> struct handle_kind<edgert_model> { using object = model_object; static constexpr const char* name = "model"; };
template <> struct handle_kind<edgert_model_instance> { using object = instance_object; static constexpr const char* name = "model instance"; };
template <> struct handle_kind<edgert_runner> { using object = runner_object; static constexpr const char* name = "runner"; };
template <> struct handle_kind<edgert_configuration> { using object = configuration_object; static constexpr const char* name = "configuration"; };

/// The table of one handle kind. Lives until the process exits; objects still in it then
/// are destroyed with it (contexts release their leases).
template <class Handle>
handle_table<typename handle_kind<Handle>::object>& table() {
  static handle_table<typename handle_kind<Handle>::object> instance;
  return instance;
}

/// Registers `object` and returns its new handle.
template <class Handle>
Handle* make_handle(std::shared_ptr<typename handle_kind<Handle>::object> object) {
  return reinterpret_cast<Handle*>(table<Handle>().add(std::move(object)));
}

/// The object behind `handle`; throws InvalidArgument for NULL or an unknown handle.
template <class Handle>
std::shared_ptr<typename handle_kind<Handle>::object> object_of(Handle* handle) {
  if (handle == nullptr)
    throw InvalidArgument(std::string("the ") + handle_kind<Handle>::name + " handle is NULL");
  auto object = table<Handle>().find(reinterpret_cast<std::uintptr_t>(handle));
  if (!object)
    throw InvalidArgument(std::string("not a live ") + handle_kind<Handle>::name +
                          " handle (released, or never created)");
  return object;
}

/// Removes `handle` from its table and returns the object (the caller's reference is then
/// the last one unless a call on another thread still holds it). NULL gives null.
template <class Handle>
std::shared_ptr<typename handle_kind<Handle>::object> take_handle(Handle* handle) {
  if (handle == nullptr) return nullptr;
  auto object = table<Handle>().remove(reinterpret_cast<std::uintptr_t>(handle));
  if (!object)
    throw InvalidArgument(std::string("not a live ") + handle_kind<Handle>::name +
                          " handle (released, or never created)");
  return object;
}

// ---- status and messages --------------------------------------------------------------

/// Records the calling thread's last error message.
void set_last_error(const std::string& message);
void clear_last_error() noexcept;

/// Maps the exception being handled to a status and records its message, prefixed with the
/// failing function's name. Call only inside a catch block.
edgert_status status_of_current_exception(const char* function) noexcept;

/// Runs `body` (which returns void) and answers with a status; nothing escapes.
template <class Body>
edgert_status guarded(const char* function, Body&& body) noexcept {
  try {
    body();
    clear_last_error();
    return EDGERT_OK;
  } catch (...) {
    return status_of_current_exception(function);
  }
}

/// Throws InvalidArgument naming `what` when `pointer` is NULL.
inline void require(const void* pointer, const char* what) {
  if (pointer == nullptr) throw InvalidArgument(std::string(what) + " is NULL");
}

/// A copy of a C string argument; InvalidArgument when it is NULL.
inline std::string string_argument(const char* text, const char* what) {
  require(text, what);
  return std::string(text);
}

/// Copies `text` into a fixed array, cut to fit and always NUL-terminated.
void copy_string(char* out, std::size_t capacity, const std::string& text) noexcept;

/// Fills a C tensor info from a C++ one; the strings point into `info` (which must outlive
/// the handle's use of them). NotImplemented for a rank above EDGERT_MAX_RANK.
void fill_tensor_info(const TensorInfo& info, edgert_tensor_info& out);
/// The info at `index` of `infos`; InvalidArgument past the end.
const TensorInfo& info_at(const std::vector<TensorInfo>& infos, std::size_t index, const char* what);

/// Views of the caller's buffers as tensors of `infos` (dtype and shape taken from there),
/// after checking the count, each size and each pointer: InvalidArgument otherwise.
std::vector<Tensor> tensor_views(const std::vector<TensorInfo>& infos, const edgert_tensor* given,
                                 std::size_t count, const char* what);

/// A millisecond count from a C timeout.
inline std::chrono::milliseconds milliseconds(std::uint32_t ms) { return std::chrono::milliseconds(ms); }

}  // namespace edgert::capi
