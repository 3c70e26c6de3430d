#include "api/context_core.hpp"

namespace edgert {

context_core::requester::requester(context_core& core) : core_(core) {
  {
    std::lock_guard<std::mutex> guard(core.pool_mutex);
    if (!core.idle_requesters.empty()) {
      actor_ = std::move(core.idle_requesters.back());
      core.idle_requesters.pop_back();
    }
  }
  if (!actor_) actor_ = std::make_unique<caf::scoped_actor>(*core.system, true);
}

context_core::requester::~requester() {
  if (!actor_) return;  // discarded
  std::lock_guard<std::mutex> guard(core_.pool_mutex);
  core_.idle_requesters.push_back(std::move(actor_));
}

std::pair<device_actor, std::string> context_core::lookup(const std::string& device) {
  {
    std::lock_guard<std::mutex> guard(cache_mutex);
    auto i = device_cache.find(device);
    if (i != device_cache.end()) return i->second;
  }
  std::pair<device_actor, std::string> found;
  await_answer(
      runtime, request_timeout,
      [&](device_actor& handle, std::string& name) {
        found = {std::move(handle), std::move(name)};
      },
      lookup_atom::value, device);
  std::lock_guard<std::mutex> guard(cache_mutex);
  device_cache[device] = found;
  return found;
}

void context_core::check_open() const {
  if (released) throw Closed("the edgert context has been released");
}

void context_core::shutdown() {
  std::unique_lock<std::shared_mutex> guard(lifetime);
  if (released) return;
  released = true;
  {
    std::lock_guard<std::mutex> pool_guard(pool_mutex);
    idle_requesters.clear();
  }
  {
    std::lock_guard<std::mutex> cache_guard(cache_mutex);
    device_cache.clear();
  }
  caf::anon_send_exit(runtime, caf::exit_reason::user_shutdown);
  runtime = runtime_actor{};
  // ~actor_system waits until every actor has stopped, which frees the driver actors'
  // leases; no actor here re-arms a timer after being told to exit, so this cannot hang.
  system.reset();
  config.reset();
}

}  // namespace edgert
