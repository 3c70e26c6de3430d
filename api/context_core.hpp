// context_core: what a Context and its Connections share. It owns the actor system and the
// runtime actor; Connections keep it alive so they can release their leases even while
// the Context object itself is being destroyed on another thread.
//
// Blocking calls borrow a scoped_actor from a small pool (a scoped_actor serves one thread
// at a time) and wait at most `request_timeout`. `lifetime` is held shared by every call and
// exclusively by release(), so the actor system never goes away under a call in flight.
#pragma once

#include <caf/all.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "actors/caf_error.hpp"
#include "actors/protocol.hpp"
#include "edgert/context.hpp"

namespace edgert {

struct context_core {
  std::shared_mutex lifetime;
  bool released = false;  // guarded by lifetime (written under the exclusive lock)
  std::chrono::milliseconds request_timeout{10000};

  std::unique_ptr<caf::actor_system_config> config;
  std::unique_ptr<caf::actor_system> system;
  runtime_actor runtime;

  std::mutex cache_mutex;
  std::map<std::string, std::pair<device_actor, std::string>> device_cache;  // name -> actor

  std::mutex pool_mutex;
  std::vector<std::unique_ptr<caf::scoped_actor>> idle_requesters;

  /// A scoped_actor for the duration of one call, returned to the pool afterwards.
  class requester {
   public:
    explicit requester(context_core& core);
    ~requester();
    caf::scoped_actor& operator*() { return *actor_; }
    caf::scoped_actor& get() { return *actor_; }

   private:
    context_core& core_;
    std::unique_ptr<caf::scoped_actor> actor_;
  };

  /// Sends a request and waits for a single-value answer; throws the matching edgert
  /// exception on failure or timeout. Callers hold `lifetime` shared.
  template <class Answer, class Handle, class... Ts>
  Answer ask(const Handle& dest, std::chrono::milliseconds timeout, Ts&&... xs) {
    requester self{*this};
    Answer answer{};
    failure problem;
    bool failed = false;
    self.get()->request(dest, timeout, std::forward<Ts>(xs)...)
        .receive([&](Answer& a) { answer = std::move(a); },
                 [&](caf::error& e) {
                   failed = true;
                   problem = from_caf_error(e);
                 });
    if (failed) throw_error(problem.code, problem.message);
    return answer;
  }

  /// The device actor and canonical name for a device name; cached after the first lookup.
  std::pair<device_actor, std::string> lookup(const std::string& device);

  /// Throws Closed when the context has been released. Callers hold `lifetime` shared.
  void check_open() const;

  /// Stops the runtime and the actor system; frees every lease. Idempotent.
  void shutdown();
};

}  // namespace edgert
