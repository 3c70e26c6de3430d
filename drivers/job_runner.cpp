// job_runner: scheduling, status and reset of jobs; see drivers/job_runner.hpp. Runs on
// the owning driver's thread; a record's compute fields are read under its mutex.
#include "drivers/job_runner.hpp"

#include <algorithm>

namespace edgert {

namespace {

void mark_terminal(job_status& s, const std::optional<failure>& error) {
  if (error) {
    s.state = job_state::failed;
    s.error = error->code;
    s.message = error->message;
  } else {
    s.state = job_state::done;
  }
}

// The device-time schedule alone: queued until start, running until finish, then over.
void analytic_status(job_status& s, const job_record& r, const std::optional<failure>& outcome,
                     sim::sim_time now) {
  s.started = r.start;
  s.finished = r.finish;
  if (now < r.start) {
    s.state = job_state::queued;
    s.poll_after = r.start - now;
  } else if (now < r.finish) {
    s.state = job_state::running;
    s.poll_after = r.finish - now;
  } else {
    mark_terminal(s, outcome);
  }
}

}  // namespace

job_runner::job_runner(job_runner_options options)
    : options_(std::move(options)), lanes_(std::max(1u, options_.sub_devices)) {
  if (!options_.clock) options_.clock = sim::make_real_clock();
}

job_runner::~job_runner() {
  for (auto& [id, record] : jobs_) {
    std::lock_guard<std::mutex> lock(record->mutex);
    if (!record->ended) {
      record->ended = fail(errc::device_fault, "driver " + options_.driver_name + " was destroyed");
      record->ended_at = options_.clock->now();
    }
  }
  workers_.reset();  // joins; waits only for computes already running
}

bool job_runner::finishes_with_compute() const noexcept {
  return options_.measured_device_time || options_.pacing == pacing_mode::fast;
}

result<void> job_runner::check(const job_request& request) const {
  if (request.sub_devices.empty()) {
    return fail(errc::invalid_argument, "a job needs at least one sub-device to run on");
  }
  std::vector<bool> seen(lanes_.size(), false);
  for (unsigned sub_device : request.sub_devices) {
    if (sub_device >= lanes_.size()) {
      return fail(errc::invalid_argument,
                  "cannot run a job on " + options_.driver_name + " sub-device " +
                      std::to_string(sub_device) + ": the board has " +
                      std::to_string(lanes_.size()) + " sub-devices");
    }
    if (seen[sub_device]) {
      return fail(errc::invalid_argument, "sub-device " + std::to_string(sub_device) +
                                              " is named twice in one job on " +
                                              options_.driver_name);
    }
    seen[sub_device] = true;
  }
  if (jobs_.size() >= options_.max_unreported_jobs) {
    return fail(errc::queue_full, options_.driver_name + " has " + std::to_string(jobs_.size()) +
                                      " jobs not yet reported done or failed; poll or release "
                                      "some before launching more");
  }
  return {};
}

sim::sim_time job_runner::earliest_start(const std::vector<unsigned>& sub_devices,
                                         sim::sim_time now) const {
  if (finishes_with_compute()) return now;
  sim::sim_time start = now;
  for (unsigned sub_device : sub_devices) {
    if (sub_device < lanes_.size()) start = std::max(start, lanes_[sub_device].busy_until);
  }
  return start;
}

job_id job_runner::launch(const job_request& request, const job_decision& decision) {
  const sim::sim_time now = options_.clock->now();
  auto record = std::make_shared<job_record>();
  record->id = next_id_++;
  record->sub_devices = request.sub_devices;
  record->compute = request.compute;
  record->notify = request.notify;
  record->device_time = options_.measured_device_time ? sim::sim_duration::zero()
                                                      : decision.device_time;
  record->launched = now;
  record->start = earliest_start(request.sub_devices, now);
  record->finish = record->start + record->device_time;
  record->stuck = std::any_of(request.sub_devices.begin(), request.sub_devices.end(),
                              [&](unsigned c) { return lanes_[c].hung; });
  if (!record->stuck) {
    record->hang = decision.hang;
    if (!record->hang) record->injected = decision.error;
  }

  for (unsigned c : request.sub_devices) {
    lane_state& lane = lanes_[c];
    if (record->hang) {
      lane.hung = true;
      lane.hung_reason = "job " + std::to_string(record->id) + " hung (injected job_hang fault)";
    } else if (!record->stuck) {
      lane.busy_until = record->finish;
    }
    if (record->injected && !lane.faulted_from) {
      // The failure becomes visible when the job ends: at once when jobs end with their
      // compute, at the end of its device time otherwise.
      lane.faulted_from = finishes_with_compute() ? now : record->finish;
      lane.fault_reason = "job " + std::to_string(record->id) + " failed: " +
                          record->injected->message;
    }
  }

  const bool computes = !record->stuck && !record->hang && !record->injected;
  if (computes) {
    if (options_.pacing == pacing_mode::virtual_time && !options_.measured_device_time) {
      run_job_compute(*record, *options_.clock);
    } else {
      if (!workers_) {
        workers_ = std::make_unique<job_workers>(static_cast<unsigned>(lanes_.size()),
                                                 options_.clock);
      }
      auto queued = workers_->submit(request.sub_devices.front(), record);
      if (!queued) {
        std::lock_guard<std::mutex> lock(record->mutex);
        record->ended = queued.error();
        record->ended_at = now;
      }
    }
  }
  jobs_.emplace(record->id, record);
  ++launched_;
  return record->id;
}

job_status job_runner::status_of(const job_record& r, sim::sim_time now) const {
  job_status s;
  s.id = r.id;
  s.device_time = r.device_time;
  std::lock_guard<std::mutex> lock(r.mutex);
  if (r.ended) {
    if (r.compute_started) {
      s.started = r.compute_began;
    } else if (r.start <= r.ended_at) {
      s.started = r.start;
    }
    s.finished = r.ended_at;
    mark_terminal(s, r.ended);
    return s;
  }
  if (r.hang || r.stuck) {
    const bool started = r.hang && (finishes_with_compute() || now >= r.start);
    s.state = started ? job_state::running : job_state::queued;
    s.started = r.hang ? r.start : sim::sim_time::zero();
    if (!started && r.hang) s.poll_after = r.start - now;
    return s;
  }
  if (finishes_with_compute()) {
    if (r.injected) {
      s.started = s.finished = r.launched;
      mark_terminal(s, r.injected);
    } else if (!r.compute_started) {
      s.state = job_state::queued;
    } else if (!r.compute_finished) {
      s.state = job_state::running;
      s.started = r.compute_began;
    } else {
      s.started = r.compute_began;
      s.finished = r.compute_ended;
      if (options_.measured_device_time) s.device_time = r.compute_ended - r.compute_began;
      mark_terminal(s, r.compute_error);
    }
    return s;
  }
  if (options_.pacing == pacing_mode::virtual_time || r.injected) {
    analytic_status(s, r, r.injected ? r.injected : r.compute_error, now);
    return s;
  }
  // paced: the device schedule, stretched when the compute takes longer.
  s.started = r.start;
  const sim::sim_time end = r.compute_finished ? std::max(r.finish, r.compute_ended) : r.finish;
  s.finished = end;
  if (now < r.start) {
    s.state = job_state::queued;
    s.poll_after = r.start - now;
  } else if (!r.compute_finished || now < end) {
    s.state = job_state::running;
    s.poll_after = end > now ? end - now : sim::sim_duration::zero();
  } else {
    mark_terminal(s, r.compute_error);
  }
  return s;
}

result<job_status> job_runner::poll(job_id id) {
  const auto found = jobs_.find(id);
  if (found == jobs_.end()) {
    return fail(errc::invalid_argument,
                options_.driver_name + " has no job " + std::to_string(id) +
                    " (never launched, released, or already reported done or failed)");
  }
  job_status status = status_of(*found->second, options_.clock->now());
  if (status.state == job_state::done || status.state == job_state::failed) {
    ++(status.state == job_state::done ? completed_ : failed_);
    jobs_.erase(found);
  }
  return status;
}

result<void> job_runner::release(job_id id) {
  const auto found = jobs_.find(id);
  if (found == jobs_.end()) {
    return fail(errc::invalid_argument, options_.driver_name + " has no job " +
                                            std::to_string(id) + " to release");
  }
  {
    std::lock_guard<std::mutex> lock(found->second->mutex);
    if (!found->second->ended) {
      found->second->ended = fail(errc::closed, "job " + std::to_string(id) + " was released");
      found->second->ended_at = options_.clock->now();
    }
  }
  jobs_.erase(found);
  return {};
}

bool job_runner::in_flight_at(const job_record& r, sim::sim_time at) const {
  if (r.hang || r.stuck) return true;
  if (finishes_with_compute()) {
    if (r.injected) return false;
    return !r.compute_finished || r.compute_ended > at;
  }
  if (options_.pacing == pacing_mode::virtual_time || r.injected) return r.finish > at;
  return !r.compute_finished || std::max(r.finish, r.compute_ended) > at;
}

void job_runner::reset(sim::sim_time at, const std::string& reason) {
  for (auto& [id, record] : jobs_) {
    std::lock_guard<std::mutex> lock(record->mutex);
    if (record->ended || !in_flight_at(*record, at)) continue;
    record->ended = fail(errc::device_fault, reason);
    record->ended_at = at;
  }
  for (lane_state& lane : lanes_) {
    lane.busy_until = std::min(lane.busy_until, at);
    lane.hung = false;
    lane.hung_reason.clear();
    lane.faulted_from.reset();
    lane.fault_reason.clear();
  }
}

std::vector<core_health> job_runner::health() const {
  const sim::sim_time now = options_.clock->now();
  std::vector<core_health> out;
  out.reserve(lanes_.size());
  for (unsigned i = 0; i < lanes_.size(); ++i) {
    core_health h;
    h.sub_device = i;
    if (lanes_[i].hung) {
      h.state = health_state::hung;
      h.reason = lanes_[i].hung_reason;
    } else if (lanes_[i].faulted_from && now >= *lanes_[i].faulted_from) {
      h.state = health_state::faulted;
      h.reason = lanes_[i].fault_reason;
    }
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace edgert
