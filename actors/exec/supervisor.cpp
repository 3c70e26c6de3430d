#include "actors/exec/supervisor.hpp"

#include <exception>
#include <optional>

namespace edgert::exec {

blame blame_by_code(errc code) noexcept {
  switch (code) {
    case errc::timeout:
    case errc::device_fault:
    case errc::io_error:
    case errc::internal_error:
      return blame::unit;
    default:
      return blame::request;
  }
}

instance_supervisor::instance_supervisor(std::string name, supervision_options options,
                                         clock_function now)
    : name_(std::move(name)), options_(options), now_(std::move(now)) {
  if (!now_) now_ = [] { return std::chrono::steady_clock::now(); };
}

void instance_supervisor::prune(std::chrono::steady_clock::time_point now) const {
  while (!recent_.empty() && now - recent_.front() >= options_.restart_window) recent_.pop_front();
}

bool instance_supervisor::unit_failed(const failure& f) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (failed()) return false;
  const auto now = now_();
  prune(now);
  if (recent_.size() >= options_.max_restarts) {
    reason_ = "restart budget spent (" + std::to_string(recent_.size()) + " restart(s) within " +
              std::to_string(options_.restart_window.count()) + " ms); last failure: " + f.message;
    failed_.store(true, std::memory_order_release);
    return false;
  }
  recent_.push_back(now);
  ++total_;
  ++restarting_;
  reason_ = f.message;
  return true;
}

void instance_supervisor::unit_restarted() {
  std::lock_guard<std::mutex> guard(mutex_);
  if (restarting_ > 0) --restarting_;
}

void instance_supervisor::mark_failed(const failure& f) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (restarting_ > 0) --restarting_;
  if (failed()) return;
  reason_ = "an execution unit could not be restarted: " + f.message;
  failed_.store(true, std::memory_order_release);
}

failure instance_supervisor::failure_for_request() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return failure{errc::device_fault, name_ + " has failed and serves no more requests: " + reason_ +
                                         "; load the model again to recover"};
}

instance_health instance_supervisor::health() const {
  std::lock_guard<std::mutex> guard(mutex_);
  prune(now_());
  instance_health h;
  h.state = failed() ? instance_state::failed
                     : restarting_ > 0 ? instance_state::restarting : instance_state::ok;
  h.reason = reason_;
  h.restarts_in_window = static_cast<unsigned>(recent_.size());
  h.restarts_total = total_;
  h.max_restarts = options_.max_restarts;
  return h;
}

supervised_runner::supervised_runner(std::shared_ptr<instance_supervisor> supervisor,
                                     factory make, std::unique_ptr<job_runner> first)
    : supervisor_(std::move(supervisor)), make_(std::move(make)), unit_(std::move(first)) {}

void supervised_runner::rebuild() {
  unit_.reset();
  result<std::unique_ptr<job_runner>> made = fail(errc::internal_error, "no unit factory");
  try {
    if (make_) made = make_();
  } catch (const std::exception& e) {
    made = fail(errc::internal_error, std::string("building an execution unit threw: ") + e.what());
  } catch (...) {
    made = fail(errc::internal_error, "building an execution unit threw");
  }
  if (made) {
    unit_ = std::move(*made);
    supervisor_->unit_restarted();
  } else {
    supervisor_->mark_failed(made.error());
  }
}

result<job_report> supervised_runner::run(const std::vector<const void*>& inputs,
                                          const std::vector<void*>& outputs) {
  if (supervisor_->failed()) return supervisor_->failure_for_request();
  if (!unit_) {
    rebuild();
    if (!unit_) return supervisor_->failure_for_request();
  }
  std::optional<result<job_report>> ran;  // no failure text is built for a job that works
  bool threw = false;
  try {
    ran.emplace(unit_->run(inputs, outputs));
  } catch (const std::exception& e) {
    threw = true;
    ran.emplace(fail(errc::internal_error,
                     supervisor_->name() + ": the execution unit threw: " + e.what()));
  } catch (...) {
    threw = true;
    ran.emplace(fail(errc::internal_error, supervisor_->name() + ": the execution unit threw"));
  }
  result<job_report>& outcome = *ran;
  if (outcome) return std::move(outcome);
  blame who = blame::unit;
  if (!threw && unit_->usable()) {
    auto* attribution = dynamic_cast<fault_attribution*>(unit_.get());
    who = attribution ? attribution->blame_for(outcome.error())
                      : blame_by_code(outcome.error().code);
  }
  if (who != blame::unit) return std::move(outcome);
  if (supervisor_->unit_failed(outcome.error())) rebuild();
  return std::move(outcome);  // this request fails with its own error; later ones meet the new unit
}

}  // namespace edgert::exec
