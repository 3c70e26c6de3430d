#include "actors/exec/plan_runner.hpp"

#include <chrono>

namespace edgert::exec {

namespace {

std::size_t bytes_of(const engine::value_info& v) {
  return static_cast<std::size_t>(engine::element_count(*v.shape)) * engine::size_of(v.type);
}

}  // namespace

result<std::unique_ptr<plan_runner>> plan_runner::create(std::shared_ptr<const engine::plan> plan,
                                                         unsigned batch) {
  auto executor = plan->make_executor();
  if (!executor) return executor.error();
  std::unique_ptr<plan_runner> r(new plan_runner());
  r->executor_ = std::move(*executor);
  r->batch_ = batch == 0 ? 1 : batch;
  for (auto& v : plan->inputs()) r->input_bytes_.push_back(bytes_of(v));
  for (auto& v : plan->outputs()) r->output_bytes_.push_back(bytes_of(v));
  r->element_inputs_.resize(r->input_bytes_.size());
  r->element_outputs_.resize(r->output_bytes_.size());
  r->plan_ = std::move(plan);
  return r;
}

result<job_report> plan_runner::run(const std::vector<const void*>& inputs,
                                    const std::vector<void*>& outputs) {
  const auto start = std::chrono::steady_clock::now();
  for (unsigned b = 0; b < batch_; ++b) {
    for (std::size_t i = 0; i < inputs.size(); ++i)
      element_inputs_[i] = static_cast<const std::byte*>(inputs[i]) + b * input_bytes_[i];
    for (std::size_t i = 0; i < outputs.size(); ++i)
      element_outputs_[i] = static_cast<std::byte*>(outputs[i]) + b * output_bytes_[i];
    auto ran = executor_->run(element_inputs_, element_outputs_);
    if (!ran) return ran.error();
  }
  const auto end = std::chrono::steady_clock::now();
  auto ns = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  };
  job_report report;
  report.device_time_ns = static_cast<std::uint64_t>(ns(end) - ns(start));
  report.compute_begin_ns = ns(start);
  report.compute_end_ns = ns(end);
  return report;
}

}  // namespace edgert::exec
