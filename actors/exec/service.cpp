#include "actors/exec/service.hpp"

#include <cstdlib>
#include <new>

namespace edgert::exec {

namespace {

constexpr std::size_t alignment = 64;

std::size_t aligned(std::size_t bytes) { return (bytes + alignment - 1) / alignment * alignment; }

void free_block(std::byte* p) { std::free(p); }

}  // namespace

service::service(service_options options)
    : options_(std::move(options)),
      free_(options_.slot_count),
      submitted_(options_.slot_count),
      completed_(2 * options_.slot_count),
      dropped_(options_.slot_count),
      free_dropped_(options_.slot_count) {
  for (std::uint32_t i = 0; i < options_.slot_count; ++i) free_dropped_.push(i);
}

result<std::unique_ptr<service>> service::create(std::vector<std::size_t> input_bytes,
                                                 std::vector<std::size_t> output_bytes,
                                                 std::vector<std::unique_ptr<job_runner>> runners,
                                                 service_options options) {
  if (runners.empty()) return fail(errc::invalid_argument, "a model needs at least one worker");
  if (options.slot_count == 0 || options.slot_count > 65535)
    return fail(errc::invalid_argument, "queue sizes must give 1 to 65535 request slots");
  std::unique_ptr<service> s(new service(std::move(options)));
  std::size_t block_bytes = 0;
  for (auto b : input_bytes) block_bytes += aligned(b);
  for (auto b : output_bytes) block_bytes += aligned(b);
  block_bytes = std::max(block_bytes, alignment);
  for (std::size_t i = 0; i < s->options_.slot_count; ++i) {
    auto* raw = static_cast<std::byte*>(std::aligned_alloc(alignment, block_bytes));
    if (!raw)
      return fail(errc::out_of_memory, "cannot allocate " + std::to_string(block_bytes) +
                                           " bytes for a request slot of " + s->name());
    s->blocks_.emplace_back(raw, free_block);
    auto sl = std::make_unique<slot>();
    std::size_t offset = 0;
    for (auto b : input_bytes) {
      sl->inputs.push_back(raw + offset);
      sl->const_inputs.push_back(raw + offset);
      offset += aligned(b);
    }
    for (auto b : output_bytes) {
      sl->outputs.push_back(raw + offset);
      offset += aligned(b);
    }
    s->slots_.push_back(std::move(sl));
    s->free_.push(static_cast<slot_id>(i));
  }
  s->runners_ = std::move(runners);
  for (std::size_t w = 0; w < s->runners_.size(); ++w)
    s->workers_.emplace_back([raw = s.get(), w] { raw->work(w); });
  return s;
}

service::~service() {
  close(clock::now());
  if (options_.trace) options_.trace->flush();
}

void service::record_trace(const slot& s, slot_id id) {
  auto ns = [](clock::time_point t) {
    return t == clock::time_point{}
               ? std::int64_t{0}
               : std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  };
  request_record r;
  r.sequence = s.sequence;
  r.slot = id;
  r.worker = s.worker;
  r.device_time_ns = s.device_time_ns;
  r.code = s.code;
  r.at[static_cast<std::size_t>(stamp::acquired)] = s.acquired_ns;
  r.at[static_cast<std::size_t>(stamp::queued)] = ns(s.submitted);
  r.at[static_cast<std::size_t>(stamp::started)] = ns(s.started);
  r.at[static_cast<std::size_t>(stamp::compute_begin)] = s.compute_begin_ns;
  r.at[static_cast<std::size_t>(stamp::compute_end)] = s.compute_end_ns;
  r.at[static_cast<std::size_t>(stamp::finished)] = ns(s.finished);
  r.at[static_cast<std::size_t>(stamp::released)] = stamp_now();
  options_.trace->record(r);
}

result<slot_id> service::acquire(clock::time_point deadline) {
  for (;;) {
    if (closed()) return fail(errc::closed, options_.name + " is closed");
    const auto seen = free_word_.load();
    slot_id id = 0;
    if (queued_.fetch_add(1, std::memory_order_acq_rel) < options_.max_queued) {
      if (free_.pop(id)) {
        slots_[id]->state.store(slot_state::filling, std::memory_order_relaxed);
        if (options_.trace) slots_[id]->acquired_ns = stamp_now();
        return id;
      }
    }
    queued_.fetch_sub(1, std::memory_order_acq_rel);
    switch (options_.overflow) {
      case overflow_policy::reject:
        return fail(errc::queue_full, options_.name + ": the input queue is full (" +
                                          std::to_string(slots_.size()) + " requests)");
      case overflow_policy::drop_oldest:
        if (take_oldest_queued(id)) {
          if (options_.trace) slots_[id]->acquired_ns = stamp_now();
          return id;
        }
        break;  // nothing queued to drop: everything is running or being read; wait
      case overflow_policy::block:
        break;
    }
    if (!free_word_.wait_while(seen, deadline))
      return fail(errc::timeout, options_.name + ": no free request slot before the deadline");
  }
}

bool service::take_oldest_queued(slot_id& taken) {
  slot_id id = 0;
  std::uint32_t record = 0;
  while (submitted_.pop(id)) {
    auto& s = *slots_[id];
    auto expected = slot_state::queued;
    if (!s.state.compare_exchange_strong(expected, slot_state::filling)) continue;  // started
    if (s.route != completion_route::ring || !free_dropped_.pop(record)) {
      // Only ring-routed requests can be dropped; put this one back at the tail.
      s.state.store(slot_state::queued, std::memory_order_release);
      submitted_.push(id);
      return false;
    }
    auto& d = dropped_[record];
    d.user_context = s.user_context;
    d.sequence = s.sequence;
    d.message = options_.name + ": request dropped from a full input queue (drop_oldest)";
    s.on_complete = nullptr;
    completed_.push(static_cast<ticket>(slots_.size() + record));
    completed_word_.bump();
    in_flight_.fetch_sub(1, std::memory_order_acq_rel);
    in_flight_word_.bump();
    taken = id;  // keeps the dropped request's place in the queued count
    return true;
  }
  return false;
}

void service::release_dropped(ticket t) {
  dropped_[t - slots_.size()].message.clear();
  free_dropped_.push(static_cast<std::uint32_t>(t - slots_.size()));
}

void service::submit(slot_id id, std::uint64_t user_context, completion_route route,
                     std::function<void(slot_id)> on_complete) {
  auto& s = *slots_[id];
  s.user_context = user_context;
  s.route = route;
  s.on_complete = std::move(on_complete);
  s.code = errc::ok;
  s.message.clear();
  s.device_time_ns = 0;
  s.started = {};
  s.compute_begin_ns = s.compute_end_ns = 0;
  s.handoff.store(0, std::memory_order_relaxed);
  s.sequence = next_sequence_.fetch_add(1, std::memory_order_relaxed);
  s.submitted = clock::now();
  in_flight_.fetch_add(1, std::memory_order_acq_rel);
  if (closed()) {
    queued_.fetch_sub(1, std::memory_order_acq_rel);
    s.state.store(slot_state::running, std::memory_order_release);
    complete(id, errc::closed, options_.name + " was closed before the request was queued");
    return;
  }
  s.state.store(slot_state::queued, std::memory_order_release);
  submitted_.push(id);  // never full: the ring has a place for every slot
  submitted_word_.bump();
}

void service::release(slot_id id) {
  auto& s = *slots_[id];
  const auto state = s.state.load(std::memory_order_acquire);
  if (state == slot_state::filling)
    queued_.fetch_sub(1, std::memory_order_acq_rel);  // acquired, never submitted
  else if (state == slot_state::done && options_.trace)
    record_trace(s, id);
  s.on_complete = nullptr;
  s.state.store(slot_state::free, std::memory_order_release);
  free_.push(id);
  free_word_.bump();
}

void service::work(std::size_t worker) {
  auto& runner = *runners_[worker];
  for (;;) {
    const auto seen = submitted_word_.load();
    slot_id id = 0;
    if (!submitted_.pop(id)) {
      if (stopping_.load(std::memory_order_acquire)) return;
      submitted_word_.wait_while(seen, clock::now() + std::chrono::seconds(1),
                                 std::chrono::microseconds(50));
      continue;
    }
    auto& s = *slots_[id];
    auto expected = slot_state::queued;
    if (!s.state.compare_exchange_strong(expected, slot_state::running)) continue;  // dropped
    queued_.fetch_sub(1, std::memory_order_acq_rel);
    free_word_.bump();  // a producer waiting for queue room may go on
    s.started = clock::now();
    s.worker = static_cast<std::uint32_t>(worker);
    auto report = runner.run(s.const_inputs, s.outputs);
    if (report) {
      s.device_time_ns = report->device_time_ns;
      s.compute_begin_ns = report->compute_begin_ns;
      s.compute_end_ns = report->compute_end_ns;
      complete(id, errc::ok, {});
    } else {
      complete(id, report.error().code, report.error().message);
    }
  }
}

void service::complete(slot_id id, errc code, std::string message) {
  auto& s = *slots_[id];
  s.code = code;
  s.message = std::move(message);
  s.finished = clock::now();
  const auto route = s.route;
  // After the state turns done the slot may be released and reused at once, so everything
  // this completion still needs is taken out of the slot first.
  auto callback = route == completion_route::callback ? std::move(s.on_complete) : nullptr;
  const bool abandoned = route == completion_route::wait && s.handoff.exchange(1) == 2;
  s.state.store(slot_state::done, std::memory_order_release);
  if (route == completion_route::ring) {
    completed_.push(id);
    completed_word_.bump();
  }
  s.done.bump();
  if (callback) callback(id);
  if (abandoned) release(id);
  in_flight_.fetch_sub(1, std::memory_order_acq_rel);
  in_flight_word_.bump();
}

bool service::wait(slot_id id, clock::time_point deadline) {
  auto& s = *slots_[id];
  for (;;) {
    const auto seen = s.done.load();
    if (s.state.load(std::memory_order_acquire) == slot_state::done) return true;
    if (!s.done.wait_while(seen, deadline)) break;
  }
  if (s.state.load(std::memory_order_acquire) == slot_state::done) return true;
  // Give up, unless the completion raced in: then it is about to mark the slot done.
  if (s.handoff.exchange(2) != 1) return false;
  while (s.state.load(std::memory_order_acquire) != slot_state::done) std::this_thread::yield();
  return true;
}

result<ticket> service::pop_completion(clock::time_point deadline) {
  for (;;) {
    const auto seen = completed_word_.load();
    ticket id = 0;
    if (completed_.pop(id)) return id;
    if (closed() && in_flight_.load(std::memory_order_acquire) == 0 && completed_.empty())
      return fail(errc::closed, options_.name + " is closed and every result was received");
    if (!completed_word_.wait_while(seen, deadline))
      return fail(errc::timeout, options_.name + ": no result before the deadline");
  }
}

bool service::close(clock::time_point deadline) {
  closing_.store(true, std::memory_order_release);
  free_word_.bump();  // blocked producers see closed
  bool in_time = true;
  for (;;) {
    const auto seen = in_flight_word_.load();
    if (in_flight_.load(std::memory_order_acquire) == 0) break;
    if (!in_flight_word_.wait_while(seen, deadline)) {
      in_time = false;
      break;
    }
  }
  if (!in_time) {
    // Fail what has not started; running jobs finish on their own and complete normally.
    slot_id id = 0;
    while (submitted_.pop(id)) {
      auto expected = slot_state::queued;
      if (slots_[id]->state.compare_exchange_strong(expected, slot_state::running)) {
        queued_.fetch_sub(1, std::memory_order_acq_rel);
        complete(id, errc::closed, options_.name + " was closed before the request ran");
      }
    }
  }
  if (!joined_.exchange(true)) {
    stopping_.store(true, std::memory_order_release);
    submitted_word_.bump();
    for (auto& t : workers_) t.join();
  }
  completed_word_.bump();  // receivers waiting see closed
  return in_time;
}

}  // namespace edgert::exec
