#include "engine/plan/threads.hpp"

#include <dlfcn.h>

namespace edgert::engine::planning {

namespace {

struct openmp_api {
  void (*set)(int) = nullptr;
  int (*get)() = nullptr;
};

const openmp_api& api() {
  static const openmp_api loaded = [] {
    openmp_api a;
    a.set = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
    a.get = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
    return a;
  }();
  return loaded;
}

}  // namespace

void set_thread_count(int threads) {
  if (api().set && threads > 0) api().set(threads);
}

int thread_count() { return api().get ? api().get() : 1; }

}  // namespace edgert::engine::planning
