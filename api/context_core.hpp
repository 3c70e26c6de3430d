// context_core: what a Context and its Connections share. It owns the actor system and the
// runtime actor; Connections keep it alive so they can release their leases even while
// the Context object itself is being destroyed on another thread.
//
// Blocking calls borrow a scoped_actor from a small pool (a scoped_actor serves one thread
// at a time) and wait at most `request_timeout`. `lifetime` is held shared by every call and
// exclusively by release(), so the actor system never goes away under a call in flight.
//
// Why the facade does not give its requests a CAF timeout: in CAF 0.17 a request timeout is
// a timer on the actor system's clock thread that is never cancelled. It wakes the clock
// thread on every call and, when it expires, delivers a stale request_timeout error to the
// requester. A scoped_actor skips that message and keeps it in its mailbox for good, so a
// pooled scoped_actor would pile up one stale message per call made more than
// request_timeout ago and scan all of them in every later receive (measured with the 10 s
// default: continuous device_ready calls went from ~50 us each to ~2 ms by the 15th second,
// still growing). Instead, each call waits for its one answer with a receive timeout, which
// the calling thread keeps by itself, and a scoped_actor whose request timed out is dropped
// rather than pooled, because its late answer could still arrive.
#pragma once

#include <caf/all.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <vector>

#include "actors/caf_error.hpp"
#include "actors/device_readiness.hpp"
#include "actors/protocol.hpp"
#include "edgert/context.hpp"

namespace edgert {

/// What a blocking response handle's request is answered with, as a caf::detail::type_list.
template <class ResponseHandle>
struct response_output;

template <class Self, class Output, bool IsBlocking>
struct response_output<caf::response_handle<Self, Output, IsBlocking>> {
  using type = Output;
};

struct context_core {
  std::shared_mutex lifetime;
  bool released = false;  // guarded by lifetime (written under the exclusive lock)
  std::chrono::milliseconds request_timeout{10000};

  std::unique_ptr<caf::actor_system_config> config;
  std::unique_ptr<caf::actor_system> system;
  runtime_actor runtime;

  /// Each device's published state by device name ("dev:0"); filled before the runtime
  /// actor starts and never changed afterwards, so it is read without a lock.
  std::map<std::string, std::shared_ptr<const device_readiness>> readiness;

  std::mutex cache_mutex;
  std::map<std::string, std::pair<device_actor, std::string>> device_cache;  // name -> actor

  /// The simulated boards' clock when created with ContextOptions::virtual_time, else null;
  /// driver actors the simulator's control resolved, by device name (api/sim_control.cpp).
  std::shared_ptr<sim::virtual_clock> virtual_clock;
  std::mutex sim_mutex;
  std::map<std::string, driver_actor> sim_drivers;
  std::optional<std::vector<driver_actor>> sim_driver_list;  // every simulated board's, once listed
  /// Held while SimControl moves virtual time, so two threads cannot move it backwards.
  std::mutex sim_time_mutex;

  std::mutex pool_mutex;
  std::vector<std::unique_ptr<caf::scoped_actor>> idle_requesters;

  /// A scoped_actor for the duration of one call, returned to the pool afterwards unless
  /// the call discarded it. Owned by the calling thread while it exists.
  class requester {
   public:
    explicit requester(context_core& core);
    ~requester();
    requester(const requester&) = delete;
    requester& operator=(const requester&) = delete;
    caf::scoped_actor& operator*() { return *actor_; }
    caf::scoped_actor& get() { return *actor_; }
    /// Destroys the scoped_actor instead of pooling it: a request of it is still open.
    void discard() noexcept { actor_.reset(); }

   private:
    context_core& core_;
    std::unique_ptr<caf::scoped_actor> actor_;
  };

  /// Sends a request and waits at most `timeout` for the answer, which goes to
  /// `on_answer` (checked at compile time against what `dest` replies). Throws the
  /// matching edgert exception on an error answer, Timeout when none came in time.
  /// Callers hold `lifetime` shared.
  template <class Handle, class OnAnswer, class... Ts>
  void await_answer(const Handle& dest, std::chrono::milliseconds timeout, OnAnswer on_answer,
                    Ts&&... xs) {
    requester self{*this};
    // caf::infinite: no timer on the clock thread (see the top of this file).
    auto handle = self.get()->request(dest, caf::infinite, std::forward<Ts>(xs)...);
    caf::detail::type_checker<typename response_output<decltype(handle)>::type, OnAnswer>::check();
    failure problem;
    bool failed = false;
    bool timed_out = false;
    caf::blocking_actor::accept_one_cond one_message;
    self.get()->varargs_receive(
        one_message, handle.id(), std::move(on_answer),
        [&](caf::error& e) {
          failed = true;
          problem = from_caf_error(e);
        },
        caf::after(timeout) >> [&] { timed_out = true; });
    if (timed_out) {
      self.discard();
      problem = from_caf_error(caf::make_error(caf::sec::request_timeout));
      failed = true;
    }
    if (failed) throw_error(problem.code, problem.message);
  }

  /// Sends a request and waits for a single-value answer; throws the matching edgert
  /// exception on failure or timeout. Callers hold `lifetime` shared.
  template <class Answer, class Handle, class... Ts>
  Answer ask(const Handle& dest, std::chrono::milliseconds timeout, Ts&&... xs) {
    Answer answer{};
    await_answer(
        dest, timeout, [&](Answer& a) { answer = std::move(a); }, std::forward<Ts>(xs)...);
    return answer;
  }

  /// What list_devices() says about one device. Callers hold `lifetime` shared.
  DeviceInfo device_info(const std::string& device);

  /// The device actor and canonical name for a device name; cached after the first lookup.
  std::pair<device_actor, std::string> lookup(const std::string& device);

  /// Throws Closed when the context has been released. Callers hold `lifetime` shared.
  void check_open() const;

  /// Stops the runtime and the actor system; frees every lease. Idempotent.
  void shutdown();
};

/// A core's health as the public API names it (api/health.cpp).
CoreState to_public(health_state s);

/// Held for the length of one facade call: the context cannot be released meanwhile, and
/// a released one throws Closed. On the calling thread, for that call only.
struct open_call {
  explicit open_call(context_core& core) : guard(core.lifetime) { core.check_open(); }
  std::shared_lock<std::shared_mutex> guard;
};

}  // namespace edgert
