// Private: the OpenMP thread count oneDNN uses on the calling thread.
//
// Debian's oneDNN runs on the OpenMP runtime (libgomp), whose thread count is a per-thread
// setting of the calling thread (an ICV). The engine is not compiled with OpenMP, so the
// runtime's functions are looked up once in the already loaded libgomp (a dependency of
// libdnnl); when it is absent, setting is a no-op and the count reads as 1.
#pragma once

namespace edgert::engine::planning {

/// Sets the OpenMP thread count for parallel regions started by the calling thread.
void set_thread_count(int threads);
/// The calling thread's current OpenMP thread count.
int thread_count();

/// Sets the calling thread's count for one scope and restores the previous one after.
class thread_count_scope {
 public:
  explicit thread_count_scope(int threads) : previous_(thread_count()) { set_thread_count(threads); }
  ~thread_count_scope() { set_thread_count(previous_); }
  thread_count_scope(const thread_count_scope&) = delete;
  thread_count_scope& operator=(const thread_count_scope&) = delete;

 private:
  int previous_;
};

}  // namespace edgert::engine::planning
