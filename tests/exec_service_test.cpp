// The data-path service: slots, rings, workers, overflow policies, exactly-once completion.
// Job runners here are fakes (copy and increment, or wait at a gate the test opens), so the
// tests check the service itself without the engine.
#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "actors/exec/service.hpp"

namespace {

using namespace edgert;
using namespace edgert::exec;
using namespace std::chrono_literals;

// A gate the test opens; jobs wait at it (a real board's job in progress).
struct gate {
  std::mutex mutex;
  std::condition_variable opened_cv;
  bool opened = false;
  std::atomic<int> waiting{0};
  void open() {
    std::lock_guard<std::mutex> g(mutex);
    opened = true;
    opened_cv.notify_all();
  }
  void pass() {
    waiting.fetch_add(1);
    std::unique_lock<std::mutex> g(mutex);
    opened_cv.wait(g, [&] { return opened; });
  }
};

// Output 0 = input 0 + 1 (one int32); fails when the input is negative.
class increment_runner final : public job_runner {
 public:
  explicit increment_runner(gate* g = nullptr, std::atomic<int>* runs = nullptr)
      : gate_(g), runs_(runs) {}
  result<job_report> run(const std::vector<const void*>& in, const std::vector<void*>& out) override {
    if (gate_) gate_->pass();
    if (runs_) runs_->fetch_add(1);
    std::int32_t v = 0;
    std::memcpy(&v, in[0], sizeof v);
    if (v < 0) return fail(errc::device_fault, "negative input " + std::to_string(v));
    v += 1;
    std::memcpy(out[0], &v, sizeof v);
    return job_report{1000};
  }

 private:
  gate* gate_;
  std::atomic<int>* runs_;
};

std::unique_ptr<service> make_service(std::size_t slots, std::size_t queued, overflow_policy policy,
                                      unsigned workers = 1, gate* g = nullptr,
                                      std::atomic<int>* runs = nullptr) {
  std::vector<std::unique_ptr<job_runner>> runners;
  for (unsigned i = 0; i < workers; ++i) runners.push_back(std::make_unique<increment_runner>(g, runs));
  service_options options;
  options.slot_count = slots;
  options.max_queued = queued;
  options.overflow = policy;
  options.name = "test model";
  auto made = service::create({4}, {4}, std::move(runners), options);
  REQUIRE(made.ok());
  return std::move(*made);
}

slot_id submit_value(service& s, std::int32_t v, std::uint64_t context, completion_route route) {
  auto id = s.acquire(clock::now() + 5s);
  REQUIRE(id.ok());
  std::memcpy(s.at(*id).inputs[0], &v, sizeof v);
  s.submit(*id, context, route);
  return *id;
}

std::int32_t output_of(service& s, slot_id id) {
  std::int32_t v = 0;
  std::memcpy(&v, s.at(id).outputs[0], sizeof v);
  return v;
}

auto soon() { return clock::now() + 10s; }

}  // namespace

SCENARIO("a request waited for returns its outputs and frees its slot") {
  auto s = make_service(1, 1, overflow_policy::block);
  for (int i = 0; i < 3; ++i) {  // one slot, so each run reuses it
    auto id = submit_value(*s, 41 + i, 0, completion_route::wait);
    REQUIRE(s->wait(id, soon()));
    CHECK(s->at(id).code == errc::ok);
    CHECK(output_of(*s, id) == 42 + i);
    CHECK(s->at(id).device_time_ns == 1000);
    s->release(id);
  }
}

SCENARIO("a failed job completes its request with the job's error") {
  auto s = make_service(2, 2, overflow_policy::block);
  auto id = submit_value(*s, -5, 0, completion_route::wait);
  REQUIRE(s->wait(id, soon()));
  CHECK(s->at(id).code == errc::device_fault);
  CHECK(s->at(id).message == "negative input -5");
  s->release(id);
}

SCENARIO("requests from many threads are each received exactly once with their context") {
  auto s = make_service(16, 8, overflow_policy::block, 2);
  constexpr int producers = 4, per_producer = 500;
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p)
    threads.emplace_back([&, p] {
      for (int i = 0; i < per_producer; ++i) {
        const int value = p * per_producer + i;
        submit_value(*s, value, static_cast<std::uint64_t>(value), completion_route::ring);
      }
    });
  std::map<std::uint64_t, int> seen;
  bool outputs_right = true;
  for (int n = 0; n < producers * per_producer; ++n) {
    auto t = s->pop_completion(soon());
    REQUIRE(t.ok());
    REQUIRE_FALSE(s->is_dropped(*t));
    const auto context = s->at(*t).user_context;
    outputs_right = outputs_right && output_of(*s, *t) == static_cast<std::int32_t>(context) + 1;
    ++seen[context];
    s->release(*t);
  }
  for (auto& t : threads) t.join();
  CHECK(outputs_right);
  CHECK(seen.size() == static_cast<std::size_t>(producers * per_producer));
  bool each_once = true;
  for (auto& [context, count] : seen) each_once = each_once && count == 1;
  CHECK(each_once);
}

SCENARIO("a full queue rejects with queue_full under the reject policy") {
  gate g;
  auto s = make_service(8, 2, overflow_policy::reject, 1, &g);
  submit_value(*s, 1, 1, completion_route::ring);  // runs and waits at the gate
  while (g.waiting.load() == 0) std::this_thread::yield();
  submit_value(*s, 2, 2, completion_route::ring);
  submit_value(*s, 3, 3, completion_route::ring);
  auto refused = s->acquire(soon());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == errc::queue_full);
  g.open();
  std::set<std::uint64_t> contexts;
  for (int i = 0; i < 3; ++i) {
    auto t = s->pop_completion(soon());
    REQUIRE(t.ok());
    contexts.insert(s->at(*t).user_context);
    s->release(*t);
  }
  CHECK(contexts == std::set<std::uint64_t>{1, 2, 3});
}

SCENARIO("a full queue drops its oldest request under drop_oldest, which is still reported") {
  gate g;
  auto s = make_service(8, 2, overflow_policy::drop_oldest, 1, &g);
  submit_value(*s, 1, 1, completion_route::ring);  // running, at the gate
  while (g.waiting.load() == 0) std::this_thread::yield();
  submit_value(*s, 2, 2, completion_route::ring);  // queued, oldest
  submit_value(*s, 3, 3, completion_route::ring);
  submit_value(*s, 4, 4, completion_route::ring);  // drops 2
  auto first = s->pop_completion(soon());
  REQUIRE(first.ok());
  REQUIRE(s->is_dropped(*first));
  CHECK(s->dropped(*first).user_context == 2);
  CHECK(s->dropped(*first).message.find("drop_oldest") != std::string::npos);
  s->release_dropped(*first);
  g.open();
  std::set<std::uint64_t> contexts;
  for (int i = 0; i < 3; ++i) {
    auto t = s->pop_completion(soon());
    REQUIRE(t.ok());
    REQUIRE_FALSE(s->is_dropped(*t));
    CHECK(s->at(*t).code == errc::ok);
    contexts.insert(s->at(*t).user_context);
    s->release(*t);
  }
  CHECK(contexts == std::set<std::uint64_t>{1, 3, 4});
}

SCENARIO("a blocked producer times out at its deadline") {
  gate g;
  auto s = make_service(1, 1, overflow_policy::block, 1, &g);
  submit_value(*s, 1, 1, completion_route::ring);
  auto blocked = s->acquire(clock::now() + 20ms);
  REQUIRE_FALSE(blocked.ok());
  CHECK(blocked.error().code == errc::timeout);
  g.open();
}

SCENARIO("closing fails queued requests with closed and refuses new ones") {
  gate g;
  std::atomic<int> runs{0};
  auto s = make_service(8, 8, overflow_policy::block, 1, &g, &runs);
  submit_value(*s, 1, 1, completion_route::ring);
  while (g.waiting.load() == 0) std::this_thread::yield();
  submit_value(*s, 2, 2, completion_route::ring);
  submit_value(*s, 3, 3, completion_route::ring);
  std::map<std::uint64_t, errc> outcomes;
  std::thread opener([&] {
    // The queued requests fail as soon as close() gives up; only then may job 1 finish.
    for (int i = 0; i < 2; ++i) {
      auto t = s->pop_completion(soon());
      if (!t.ok()) break;  // the missing outcome fails the checks below
      outcomes[s->at(*t).user_context] = s->at(*t).code;
    }
    g.open();
  });
  const bool in_time = s->close(clock::now());  // the deadline has passed already
  opener.join();
  CHECK_FALSE(in_time);
  auto last = s->pop_completion(soon());
  REQUIRE(last.ok());
  outcomes[s->at(*last).user_context] = s->at(*last).code;
  CHECK(outcomes[1] == errc::ok);
  CHECK(outcomes[2] == errc::closed);
  CHECK(outcomes[3] == errc::closed);
  CHECK(runs.load() == 1);
  auto after = s->pop_completion(soon());
  REQUIRE_FALSE(after.ok());
  CHECK(after.error().code == errc::closed);
  auto refused = s->acquire(soon());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == errc::closed);
}

SCENARIO("a waiter that gives up leaves the slot to be freed by the completion") {
  gate g;
  auto s = make_service(1, 1, overflow_policy::block, 1, &g);
  auto id = submit_value(*s, 7, 0, completion_route::wait);
  CHECK_FALSE(s->wait(id, clock::now() + 10ms));
  g.open();
  // The abandoned request's completion releases the only slot, so it can be taken again.
  auto again = s->acquire(soon());
  REQUIRE(again.ok());
  CHECK(*again == id);
  s->release(*again);
}

SCENARIO("a callback request calls back exactly once") {
  auto s = make_service(4, 4, overflow_policy::block, 2);
  std::atomic<int> calls{0};
  std::atomic<std::int32_t> value{0};
  auto id = s->acquire(soon());
  REQUIRE(id.ok());
  std::int32_t v = 9;
  std::memcpy(s->at(*id).inputs[0], &v, sizeof v);
  auto* raw = s.get();
  s->submit(*id, 0, completion_route::callback, [&, raw](slot_id done) {
    value = output_of(*raw, done);
    calls.fetch_add(1);
    raw->release(done);
  });
  CHECK(s->close(soon()));
  CHECK(calls.load() == 1);
  CHECK(value.load() == 10);
}
