// XNNPACK process initialisation and the pthreadpool wrapper (see runtime.hpp).
#include "engine/xnnpack/runtime.hpp"

#include <pthreadpool.h>
#include <xnnpack.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>
#include <utility>

namespace edgert::engine::xnn {

static_assert(input_slack_bytes >= XNN_EXTRA_BYTES, "input_slack_bytes must cover XNNPACK's over-reads");

namespace {

// XNNPACK calls these from whichever thread creates, sets up or deletes an operator.
std::atomic<std::uint64_t> allocation_count{0};

void* counted_allocate(void*, std::size_t size) {
  allocation_count.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size);
}

void* counted_reallocate(void*, void* pointer, std::size_t size) {
  allocation_count.fetch_add(1, std::memory_order_relaxed);
  return std::realloc(pointer, size);
}

void release(void*, void* pointer) { std::free(pointer); }

void* counted_aligned_allocate(void*, std::size_t alignment, std::size_t size) {
  allocation_count.fetch_add(1, std::memory_order_relaxed);
  if (alignment < sizeof(void*)) alignment = sizeof(void*);
  void* p = nullptr;
  return posix_memalign(&p, alignment, size) == 0 ? p : nullptr;
}

}  // namespace

std::uint64_t allocations() noexcept { return allocation_count.load(std::memory_order_relaxed); }

result<void> initialize() {
  static std::once_flag once;
  static xnn_status status = xnn_status_uninitialized;
  std::call_once(once, [] {
    // xnn_initialize copies the table, so a function-local static is enough.
    static const xnn_allocator allocator{nullptr, &counted_allocate, &counted_reallocate, &release,
                                         &counted_aligned_allocate, &release};
    status = xnn_initialize(&allocator);
  });
  if (status == xnn_status_success) return {};
  if (status == xnn_status_unsupported_hardware)
    return fail(errc::not_implemented, "XNNPACK does not support this CPU");
  return fail(errc::internal_error, "xnn_initialize failed with status " + std::to_string(static_cast<int>(status)));
}

result<thread_pool> thread_pool::create(int threads) {
  if (threads < 1) return fail(errc::invalid_argument, "a thread pool needs at least 1 thread, got " + std::to_string(threads));
  thread_pool p;
  p.threads_ = threads;
  if (threads > 1) {
    p.pool_ = pthreadpool_create(static_cast<std::size_t>(threads));
    if (p.pool_ == nullptr)
      return fail(errc::out_of_memory, "could not start a pool of " + std::to_string(threads) + " threads");
  }
  return p;
}

thread_pool::thread_pool(thread_pool&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)), threads_(std::exchange(other.threads_, 1)) {}

thread_pool& thread_pool::operator=(thread_pool&& other) noexcept {
  if (this != &other) {
    if (pool_ != nullptr) pthreadpool_destroy(pool_);
    pool_ = std::exchange(other.pool_, nullptr);
    threads_ = std::exchange(other.threads_, 1);
  }
  return *this;
}

thread_pool::~thread_pool() {
  if (pool_ != nullptr) pthreadpool_destroy(pool_);
}

}  // namespace edgert::engine::xnn
