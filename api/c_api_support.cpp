// The C API's shared plumbing: status names, the per-thread last error, exception mapping,
// handle numbers and the tensor conversions every execution call uses.
#include <atomic>
#include <cstring>
#include <new>
#include <stdexcept>

#include "api/c_api_handles.hpp"

namespace edgert::capi {

// The C enum is the C++ errc, value for value; these fail the build if either one changes.
static_assert(EDGERT_OK == static_cast<int>(errc::ok));
static_assert(EDGERT_DEVICE_IN_USE == static_cast<int>(errc::device_in_use));
static_assert(EDGERT_PENDING == static_cast<int>(errc::pending));
static_assert(EDGERT_INCOMPATIBLE_DEVICE == static_cast<int>(errc::incompatible_device));
static_assert(EDGERT_INVALID_ARGUMENT == static_cast<int>(errc::invalid_argument));
static_assert(EDGERT_INVALID_CONFIGURATION == static_cast<int>(errc::invalid_configuration));
static_assert(EDGERT_NOT_IMPLEMENTED == static_cast<int>(errc::not_implemented));
static_assert(EDGERT_INTERNAL_ERROR == static_cast<int>(errc::internal_error));
static_assert(EDGERT_CONNECTION_ERROR == static_cast<int>(errc::connection_error));
static_assert(EDGERT_TIMEOUT == static_cast<int>(errc::timeout));
static_assert(EDGERT_QUEUE_FULL == static_cast<int>(errc::queue_full));
static_assert(EDGERT_CLOSED == static_cast<int>(errc::closed));
static_assert(EDGERT_DEVICE_FAULT == static_cast<int>(errc::device_fault));
static_assert(EDGERT_OUT_OF_MEMORY == static_cast<int>(errc::out_of_memory));
static_assert(EDGERT_IO_ERROR == static_cast<int>(errc::io_error));
constexpr int last_status = EDGERT_IO_ERROR;

// The same for element types (ONNX numbers on both sides).
static_assert(EDGERT_DTYPE_FLOAT32 == static_cast<int>(DType::float32));
static_assert(EDGERT_DTYPE_UINT8 == static_cast<int>(DType::uint8));
static_assert(EDGERT_DTYPE_INT8 == static_cast<int>(DType::int8));
static_assert(EDGERT_DTYPE_UINT16 == static_cast<int>(DType::uint16));
static_assert(EDGERT_DTYPE_INT16 == static_cast<int>(DType::int16));
static_assert(EDGERT_DTYPE_INT32 == static_cast<int>(DType::int32));
static_assert(EDGERT_DTYPE_INT64 == static_cast<int>(DType::int64));
static_assert(EDGERT_DTYPE_BOOL == static_cast<int>(DType::boolean));
static_assert(EDGERT_DTYPE_FLOAT16 == static_cast<int>(DType::float16));
static_assert(EDGERT_DTYPE_FLOAT64 == static_cast<int>(DType::float64));
static_assert(EDGERT_DTYPE_UINT32 == static_cast<int>(DType::uint32));
static_assert(EDGERT_DTYPE_UINT64 == static_cast<int>(DType::uint64));
static_assert(EDGERT_DTYPE_BFLOAT16 == static_cast<int>(DType::bfloat16));

namespace {

// The calling thread's last error; written by every C API call that fails, emptied by every
// call that succeeds.
thread_local std::string last_error;

// Handle numbers start high enough never to look like a small integer or a null pointer
// offset, and step by 16 so they keep the alignment of a real pointer.
std::atomic<std::uintptr_t> handle_counter{0x10000};

}  // namespace

std::uintptr_t next_handle_number() noexcept { return handle_counter.fetch_add(16); }

void set_last_error(const std::string& message) {
  try {
    last_error = message;
  } catch (...) {
    last_error.clear();  // no memory for the message: better none than a wrong one
  }
}

void clear_last_error() noexcept { last_error.clear(); }

edgert_status status_of_current_exception(const char* function) noexcept {
  edgert_status status = EDGERT_INTERNAL_ERROR;
  std::string message;
  try {
    try {
      throw;
    } catch (const Error& e) {
      status = static_cast<edgert_status>(e.code());
      if (status == EDGERT_OK) status = EDGERT_INTERNAL_ERROR;
      message = e.what();
    } catch (const std::bad_alloc&) {
      status = EDGERT_OUT_OF_MEMORY;
      message = "out of host memory";
    } catch (const std::invalid_argument& e) {
      status = EDGERT_INVALID_ARGUMENT;
      message = e.what();
    } catch (const std::out_of_range& e) {
      status = EDGERT_INVALID_ARGUMENT;
      message = e.what();
    } catch (const std::exception& e) {
      message = std::string("unexpected exception: ") + e.what();
    } catch (...) {
      message = "unexpected exception of unknown type";
    }
    set_last_error(std::string(function) + ": " + message);
  } catch (...) {
    last_error.clear();  // could not even build the message (no memory)
  }
  return status;
}

void copy_string(char* out, std::size_t capacity, const std::string& text) noexcept {
  if (capacity == 0) return;
  const std::size_t n = std::min(capacity - 1, text.size());
  std::memcpy(out, text.data(), n);
  out[n] = '\0';
}

void fill_tensor_info(const TensorInfo& info, edgert_tensor_info& out) {
  if (info.shape.size() > EDGERT_MAX_RANK)
    throw NotImplemented("tensor '" + info.name + "' has rank " + std::to_string(info.shape.size()) +
                         "; the C API describes at most " + std::to_string(EDGERT_MAX_RANK));
  edgert_tensor_info filled{};
  filled.name = info.name.c_str();
  filled.dtype = static_cast<edgert_dtype>(info.dtype);
  filled.rank = info.shape.size();
  for (std::size_t i = 0; i < info.shape.size(); ++i) filled.shape[i] = info.shape[i];
  filled.elements = info.elements();
  filled.size_bytes = info.elements() < 0 ? 0 : info.size_bytes();
  filled.layout = info.layout.c_str();
  filled.quantized = info.quantization.has_value() ? 1 : 0;
  filled.scale = info.quantization ? info.quantization->scale : 1.0f;
  filled.zero_point = info.quantization ? info.quantization->zero_point : 0;
  out = filled;
}

const TensorInfo& info_at(const std::vector<TensorInfo>& infos, std::size_t index, const char* what) {
  if (index >= infos.size())
    throw InvalidArgument(std::string(what) + " index " + std::to_string(index) + " is out of range (" +
                          std::to_string(infos.size()) + " " + what + (infos.size() == 1 ? "" : "s") +
                          ")");
  return infos[index];
}

std::vector<Tensor> tensor_views(const std::vector<TensorInfo>& infos, const edgert_tensor* given,
                                 std::size_t count, const char* what) {
  if (count != infos.size())
    throw InvalidArgument("the model takes " + std::to_string(infos.size()) + " " + what +
                          (infos.size() == 1 ? "" : "s") + ", " + std::to_string(count) + " given");
  if (count != 0) require(given, what);
  std::vector<Tensor> views;
  views.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const auto& info = infos[i];
    // Named only when something is wrong: the common case builds no text.
    auto which = [&] { return std::string(what) + " " + std::to_string(i) + " ('" + info.name + "')"; };
    if (info.elements() < 0)
      throw InvalidArgument(which() + " has shape " + to_string(info.shape) +
                            " with a dimension unknown before run time");
    if (given[i].size_bytes != info.size_bytes())
      throw InvalidArgument(which() + " needs a buffer of " + std::to_string(info.size_bytes()) +
                            " bytes, " + std::to_string(given[i].size_bytes) + " given");
    if (given[i].data == nullptr && info.size_bytes() != 0)
      throw InvalidArgument(which() + " has a NULL buffer");
    views.push_back(Tensor::view(info.dtype, info.shape, given[i].data));
  }
  return views;
}

}  // namespace edgert::capi

using namespace edgert::capi;

extern "C" {

const char* edgert_status_string(edgert_status status) {
  const int value = static_cast<int>(status);
  if (value < 0 || value > last_status) return "unknown_status";
  // to_string(errc) returns views of string literals, so data() is NUL-terminated.
  return edgert::to_string(static_cast<edgert::errc>(value)).data();
}

const char* edgert_last_error_message(void) { return last_error.c_str(); }

edgert_status edgert_version(const char** version) {
  return guarded(__func__, [&] {
    require(version, "version");
    // version() views a string literal, so data() is NUL-terminated.
    *version = edgert::version().data();
  });
}

}  // extern "C"
