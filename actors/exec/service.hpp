// service: the data path of one loaded model. Requests live in preallocated slots (aligned
// input and output buffers); lock-free rings (Boost.Lockfree) carry slot indices from
// producers to the worker threads and from the workers to the receiver, and a futex word
// is the doorbell when a consumer ran dry. No tensor is copied through a mailbox, and once
// built, a request's path allocates nothing.
//
// Every submitted request completes exactly once: with outputs, or with an error (a failed
// job, a request dropped by the drop_oldest policy, a service closed before it ran).
//
// Ownership and threads: the service owns its slots and worker threads; producers and
// consumers may call from any thread. close() stops intake, lets queued work finish until a
// deadline, fails whatever is left, and joins the workers; the destructor closes.
#pragma once

#include <boost/lockfree/queue.hpp>
#include <boost/lockfree/stack.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "actors/exec/job_runner.hpp"
#include "actors/exec/trace.hpp"
#include "actors/exec/wait_word.hpp"
#include "common/result.hpp"

namespace edgert::exec {

using clock = std::chrono::steady_clock;
using slot_id = std::uint32_t;

enum class overflow_policy { block, reject, drop_oldest };

/// Where a completed request goes: to a per-request callback (run on the worker thread),
/// or onto the service's completion ring for pop_completion().
enum class completion_route : std::uint8_t { callback, ring, wait };

enum class slot_state : std::uint8_t { free, filling, queued, running, done };

/// One request's slot. Buffers are fixed at construction; the rest is per request.
struct slot {
  std::vector<void*> inputs;   // into the slot's block, 64-byte aligned
  std::vector<const void*> const_inputs;  // the same pointers, as job runners take them
  std::vector<void*> outputs;
  std::atomic<slot_state> state{slot_state::free};
  completion_route route = completion_route::wait;
  std::function<void(slot_id)> on_complete;  // for completion_route::callback
  std::uint64_t user_context = 0;
  std::uint64_t sequence = 0;  // the service's request number (strictly increasing)
  errc code = errc::ok;
  std::string message;  // set only for failures
  std::uint64_t device_time_ns = 0;
  clock::time_point submitted{}, started{}, finished{};
  std::uint32_t worker = 0;  // the worker that ran it
  // Profiling only (the service has a trace recorder): the moments not kept above.
  std::int64_t acquired_ns = 0, compute_begin_ns = 0, compute_end_ns = 0;
  wait_word done;  // bumped once when the request completes
  /// completion_route::wait only: 0 while the waiter waits, 1 once completed, 2 when the
  /// waiter gave up (timeout); whoever comes second releases the slot.
  std::atomic<std::uint8_t> handoff{0};
};

/// A request dropped by the drop_oldest policy: its slot went to a newer request, so what
/// its receiver needs to know is kept here until received.
struct dropped_request {
  std::uint64_t user_context = 0;
  std::uint64_t sequence = 0;
  std::string message;
};

/// What the completion ring carries: a slot (ticket < slot_count) or a dropped request
/// (ticket - slot_count indexes dropped records).
using ticket = std::uint32_t;

struct service_options {
  std::size_t slot_count = 8;
  std::size_t max_queued = 8;  // submitted and not yet running; beyond it the policy applies
  overflow_policy overflow = overflow_policy::block;
  std::string name = "model";  // for error messages
  /// Per-request spans go here when set (profiling on); flushed when the service goes.
  std::shared_ptr<trace_recorder> trace;
};

class service {
 public:
  /// Sizes are bytes per tensor; one worker thread per runner.
  static result<std::unique_ptr<service>> create(std::vector<std::size_t> input_bytes,
                                                 std::vector<std::size_t> output_bytes,
                                                 std::vector<std::unique_ptr<job_runner>> runners,
                                                 service_options options);
  ~service();
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  /// A free slot to fill, per the overflow policy: block waits until `deadline` (timeout),
  /// reject fails at once with queue_full, drop_oldest fails the oldest queued request
  /// with queue_full and takes its slot (only for requests routed to the completion ring,
  /// which then carries the dropped request's error). closed after close().
  result<slot_id> acquire(clock::time_point deadline);
  /// Queues a filled slot. The request then completes exactly once by its route.
  void submit(slot_id id, std::uint64_t user_context, completion_route route,
              std::function<void(slot_id)> on_complete = {});
  /// Gives a slot back once its outputs were read (or it was never submitted).
  void release(slot_id id);
  /// completion_route::wait: waits for the request; false on timeout, after which the
  /// slot is released by its completion instead of by the caller.
  bool wait(slot_id id, clock::time_point deadline);

  /// Next completion on the ring route; timeout at the deadline, closed once the service
  /// is closed and the ring is empty. A slot ticket is released by the caller; a dropped
  /// ticket with release_dropped().
  result<ticket> pop_completion(clock::time_point deadline);
  bool is_dropped(ticket t) const noexcept { return t >= slots_.size(); }
  const dropped_request& dropped(ticket t) const { return dropped_[t - slots_.size()]; }
  void release_dropped(ticket t);

  /// Stops intake; true when all queued and running requests finished by the deadline.
  /// Requests still queued then fail with closed; running jobs are waited for (a job
  /// cannot be interrupted), then the workers are joined.
  bool close(clock::time_point deadline);
  bool closed() const noexcept { return closing_.load(std::memory_order_acquire); }

  slot& at(slot_id id) { return *slots_[id]; }
  std::size_t slot_count() const noexcept { return slots_.size(); }
  std::size_t worker_count() const noexcept { return runners_.size(); }
  const std::string& name() const noexcept { return options_.name; }

 private:
  service(service_options options);
  void work(std::size_t worker);
  void complete(slot_id id, errc code, std::string message);
  bool take_oldest_queued(slot_id& taken);
  void record_trace(const slot& s, slot_id id);

  service_options options_;
  std::vector<std::unique_ptr<std::byte, void (*)(std::byte*)>> blocks_;
  std::vector<std::unique_ptr<slot>> slots_;
  std::vector<std::unique_ptr<job_runner>> runners_;
  std::vector<std::thread> workers_;

  // Free slots are reused last-released first: that slot's buffers are the likeliest to be
  // in cache still (measured with bench/ring_bandwidth).
  boost::lockfree::stack<slot_id, boost::lockfree::fixed_sized<true>> free_;
  boost::lockfree::queue<slot_id, boost::lockfree::fixed_sized<true>> submitted_;
  boost::lockfree::queue<ticket, boost::lockfree::fixed_sized<true>> completed_;
  std::vector<dropped_request> dropped_;  // one record per slot at most
  boost::lockfree::queue<std::uint32_t, boost::lockfree::fixed_sized<true>> free_dropped_;
  wait_word free_word_;       // bumped when a slot is released
  wait_word submitted_word_;  // the workers' doorbell
  wait_word completed_word_;  // the receiver's doorbell

  std::atomic<std::uint64_t> next_sequence_{1};
  std::atomic<std::size_t> in_flight_{0};  // submitted and not yet completed
  std::atomic<std::size_t> queued_{0};     // acquired or queued and not yet running
  wait_word in_flight_word_;               // bumped on every completion (close waits on it)
  std::atomic<bool> closing_{false};
  std::atomic<bool> stopping_{false};  // workers exit when set and nothing is queued
  std::atomic<bool> joined_{false};
};

}  // namespace edgert::exec
