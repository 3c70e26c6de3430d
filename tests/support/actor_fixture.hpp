// actor_fixture: an actor system on CAF's deterministic test coordinator, for actor tests.
//
// Nothing runs until the test says so: run() lets every actor handle every queued message,
// advance(d) moves the test clock (firing due timers) and then runs. The simulated boards
// read the same clock through test_clock, so "the configuration settles after exactly
// 250 ms" is checked without sleeping.
//
// ask<T>() sends a message from a hidden blocking actor, runs the system, and collects the
// answer: a value, an error, or "no answer yet" (the actor is still waiting on something).
#pragma once

#include <caf/all.hpp>
#include <caf/detail/test_actor_clock.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include <optional>
#include <variant>

#include "actors/caf_error.hpp"
#include "sim/clock.hpp"

namespace edgert::test {

/// A sim_clock that reads CAF's test clock, so board time and actor timers agree.
class test_clock final : public sim::sim_clock {
 public:
  explicit test_clock(const caf::detail::test_actor_clock& clock) : clock_(clock) {}
  sim::sim_time now() const override {
    return std::chrono::duration_cast<sim::sim_time>(clock_.now().time_since_epoch());
  }
  bool is_virtual() const override { return true; }

 private:
  const caf::detail::test_actor_clock& clock_;
};

/// An answer to ask(): nothing yet, a value, or a failure.
template <class T>
struct answer {
  std::variant<std::monostate, T, failure> content;
  bool pending() const { return content.index() == 0; }
  bool ok() const { return content.index() == 1; }
  const T& value() const { return std::get<1>(content); }
  errc code() const { return content.index() == 2 ? std::get<2>(content).code : errc::ok; }
  const std::string& message() const { return std::get<2>(content).message; }
};

struct actor_fixture {
  static caf::actor_system_config& testing(caf::actor_system_config& cfg) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    cfg.set("logger.inline-output", true);
    return cfg;
  }

  actor_fixture()
      : sys(testing(cfg)),
        self(sys, true),
        sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())),
        clock(std::make_shared<test_clock>(sched.clock())) {
    sched.clock().current_time += std::chrono::hours(1);  // a non-zero start time
    // Actors a test leaves alive must not keep ~actor_system waiting forever.
    sys.await_actors_before_shutdown(false);
  }

  /// Stops every actor handed to keep() (and, through them, their children), so no
  /// self-rescheduling poller outlives the test.
  ~actor_fixture() {
    for (auto& a : kept) self->send_exit(a, caf::exit_reason::user_shutdown);
    run();
  }

  template <class Handle>
  Handle keep(Handle h) {
    kept.push_back(caf::actor_cast<caf::actor>(h));
    return h;
  }

  void run() { sched.run(); }

  /// Moves time forward by `d`, fires the timers that became due, and runs everything.
  void advance(std::chrono::nanoseconds d) {
    sched.advance_time(std::chrono::duration_cast<caf::timespan>(d));
    run();
  }

  /// Sends `xs` to `dest`, runs the system, and returns what came back.
  template <class T, class Handle, class... Ts>
  answer<T> ask(const Handle& dest, Ts&&... xs) {
    self->send(dest, std::forward<Ts>(xs)...);
    run();
    return collect<T>();
  }

  /// Collects an answer that arrives later (after advance()).
  template <class T>
  answer<T> collect() {
    answer<T> out;
    self->receive([&](T& value) { out.content = std::move(value); },
                  [&](caf::error& e) { out.content = from_caf_error(e); },
                  caf::after(std::chrono::seconds(0)) >> [] {});
    return out;
  }

  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scoped_actor self;
  caf::scheduler::test_coordinator& sched;
  std::shared_ptr<test_clock> clock;
  std::vector<caf::actor> kept;
};

}  // namespace edgert::test
