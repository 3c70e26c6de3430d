// XNNPACK process state and the compute thread pool its operators run on.
//
// initialize() brings XNNPACK up once per process (std::call_once); every later call, from
// any thread, returns the outcome of that first attempt. XNNPACK is never torn down: its
// operators may live until static destruction. Engine code must go through initialize()
// rather than calling xnn_initialize itself, so that XNNPACK allocates through the counting
// allocator installed here (allocations(), used to check that run() paths allocate nothing).
//
// thread_pool owns one pthreadpool (or none for a single thread, in which case work runs on
// the calling thread). A pool is used by one caller at a time: two threads must not run
// operators on the same pool concurrently (pthreadpool serialises them, but the executor
// that owns the pool is single-threaded by contract anyway). Destroying the pool joins its
// workers; do it only when no run() is in flight.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/result.hpp"

struct pthreadpool;  // from <pthreadpool.h>; kept opaque so callers need no XNNPACK headers

namespace edgert::engine::xnn {

/// Initializes XNNPACK for this process. not_implemented when the CPU lacks what XNNPACK
/// needs (it then refuses every operator), internal_error for any other failure.
result<void> initialize();

/// XNNPACK's own heap allocations (allocate, reallocate, aligned_allocate) since initialize(),
/// process-wide. Operators allocate when created and, at most, on the first setup; a run()
/// that leaves this unchanged allocated nothing inside XNNPACK.
std::uint64_t allocations() noexcept;

/// Bytes XNNPACK's kernels may read past the end of an input buffer (XNN_EXTRA_BYTES). Every
/// input handed to an operator's run() must have this much readable memory after it; the
/// values there do not affect results.
inline constexpr std::size_t input_slack_bytes = 16;

class thread_pool {
 public:
  /// A pool of `threads` compute threads (the caller counts as one of them). 1 gives no pool:
  /// operators run inline on the caller. invalid_argument for threads < 1;
  /// out_of_memory when the worker threads cannot be started.
  static result<thread_pool> create(int threads);

  /// The single-threaded pool (no workers).
  thread_pool() = default;
  thread_pool(thread_pool&& other) noexcept;
  thread_pool& operator=(thread_pool&& other) noexcept;
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;
  ~thread_pool();

  int threads() const noexcept { return threads_; }
  /// The pthreadpool handle for XNNPACK calls; nullptr when single-threaded.
  pthreadpool* native() const noexcept { return pool_; }

 private:
  pthreadpool* pool_ = nullptr;
  int threads_ = 1;
};

}  // namespace edgert::engine::xnn
