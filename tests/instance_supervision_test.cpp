// The restart budget of a model instance's execution units (actors/exec/supervisor.hpp),
// with scripted units and a test clock: restarts within the budget, a failed instance that
// fails every later request at once, a window that forgets old restarts, exceptions, and
// failures that are not the unit's fault.
#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>
#include <vector>

#include "actors/exec/supervisor.hpp"

using namespace edgert;
using namespace edgert::exec;
using namespace std::chrono_literals;

namespace {

// What the scripted units do, shared by every unit the factory builds.
struct unit_script {
  std::vector<errc> outcomes;  // per job, in order; beyond the end: ok
  bool throws = false;
  blame attributed = blame::unit;  // what a unit with attribution says
  bool with_attribution = false;
  std::size_t jobs = 0;
  std::size_t built = 0;
};

class scripted_unit : public job_runner {
 public:
  explicit scripted_unit(std::shared_ptr<unit_script> s) : script_(std::move(s)) {}
  result<job_report> run(const std::vector<const void*>&, const std::vector<void*>&) override {
    auto n = script_->jobs++;
    if (script_->throws) throw std::runtime_error("kernel exploded");
    if (n < script_->outcomes.size() && script_->outcomes[n] != errc::ok)
      return fail(script_->outcomes[n], "job " + std::to_string(n) + " failed");
    return job_report{1};
  }

 protected:
  std::shared_ptr<unit_script> script_;
};

class attributing_unit final : public scripted_unit, public fault_attribution {
 public:
  using scripted_unit::scripted_unit;
  blame blame_for(const failure&) override { return script_->attributed; }
};

struct supervision_fixture {
  std::chrono::steady_clock::time_point now{};
  std::shared_ptr<unit_script> script = std::make_shared<unit_script>();
  std::shared_ptr<instance_supervisor> supervisor;
  std::unique_ptr<supervised_runner> runner;

  void start(unsigned max_restarts, std::chrono::milliseconds window = 60s) {
    supervisor = std::make_shared<instance_supervisor>(
        "model on dev:0", supervision_options{max_restarts, window}, [this] { return now; });
    auto s = script;
    auto make = [s]() -> result<std::unique_ptr<job_runner>> {
      ++s->built;
      if (s->with_attribution) return std::unique_ptr<job_runner>(new attributing_unit(s));
      return std::unique_ptr<job_runner>(new scripted_unit(s));
    };
    runner = std::make_unique<supervised_runner>(supervisor, make);
  }

  errc job() {
    auto r = runner->run({}, {});
    return r ? errc::ok : r.error().code;
  }
};

}  // namespace

TEST_CASE_FIXTURE(supervision_fixture, "a unit whose job fails is restarted within the budget") {
  script->outcomes = {errc::device_fault, errc::timeout, errc::ok};
  start(2);
  CHECK(job() == errc::device_fault);
  CHECK(job() == errc::timeout);
  CHECK(job() == errc::ok);
  CHECK(script->built == 3);  // the first unit and two restarts
  auto h = supervisor->health();
  CHECK(h.state == instance_state::ok);
  CHECK(h.restarts_in_window == 2);
  CHECK(h.restarts_total == 2);
  CHECK(h.reason == "job 1 failed");
}

TEST_CASE_FIXTURE(supervision_fixture, "a spent restart budget fails the instance and every later job at once") {
  script->outcomes = {errc::device_fault, errc::device_fault, errc::device_fault, errc::ok};
  start(2);
  CHECK(job() == errc::device_fault);
  CHECK(job() == errc::device_fault);
  CHECK(job() == errc::device_fault);
  auto h = supervisor->health();
  CHECK(h.state == instance_state::failed);
  CHECK(h.reason.find("restart budget spent") != std::string::npos);
  CHECK(h.reason.find("job 2 failed") != std::string::npos);
  const auto jobs_before = script->jobs;
  auto later = runner->run({}, {});
  REQUIRE_FALSE(later.ok());
  CHECK(later.error().code == errc::device_fault);
  CHECK(later.error().message.find("model on dev:0 has failed") != std::string::npos);
  CHECK(script->jobs == jobs_before);  // no unit ran it
}

TEST_CASE_FIXTURE(supervision_fixture, "the restart window forgets old restarts") {
  script->outcomes = {errc::device_fault, errc::device_fault, errc::device_fault};
  start(1, 1000ms);
  CHECK(job() == errc::device_fault);
  now += 1000ms;
  CHECK(job() == errc::device_fault);
  CHECK(supervisor->health().state == instance_state::ok);
  now += 999ms;
  CHECK(job() == errc::device_fault);
  CHECK(supervisor->health().state == instance_state::failed);
}

TEST_CASE_FIXTURE(supervision_fixture, "an exception fails the job with internal_error and restarts the unit") {
  script->throws = true;
  start(3);
  auto r = runner->run({}, {});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == errc::internal_error);
  CHECK(r.error().message.find("kernel exploded") != std::string::npos);
  CHECK(script->built == 2);
  CHECK(supervisor->health().restarts_total == 1);
}

TEST_CASE_FIXTURE(supervision_fixture, "failures that are the request's cost no restart") {
  script->outcomes = {errc::invalid_argument, errc::closed, errc::queue_full};
  start(0);
  CHECK(job() == errc::invalid_argument);
  CHECK(job() == errc::closed);
  CHECK(job() == errc::queue_full);
  CHECK(supervisor->health().state == instance_state::ok);
  CHECK(script->built == 1);
}

TEST_CASE_FIXTURE(supervision_fixture, "a failure the unit blames on the board costs no restart") {
  script->outcomes = {errc::device_fault, errc::device_fault};
  script->with_attribution = true;
  script->attributed = blame::board;
  start(0);
  CHECK(job() == errc::device_fault);
  CHECK(job() == errc::device_fault);
  CHECK(job() == errc::ok);
  CHECK(supervisor->health().state == instance_state::ok);
  CHECK(supervisor->health().restarts_total == 0);
}

TEST_CASE_FIXTURE(supervision_fixture, "a zero budget fails the instance at the first failure of its own") {
  script->outcomes = {errc::io_error};
  start(0);
  CHECK(job() == errc::io_error);
  CHECK(supervisor->health().state == instance_state::failed);
  CHECK(job() == errc::device_fault);
}
