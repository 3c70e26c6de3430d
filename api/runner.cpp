#include "edgert/runner.hpp"

#include <cstring>

#include "api/serving_core.hpp"
#include "api/unwrap.hpp"

namespace edgert {

std::vector<Tensor>& RunResult::value() {
  if (!ok()) throw_error(code, message);
  return outputs;
}

namespace {

serving_core& open_core(const std::shared_ptr<serving_core>& core) {
  if (!core) throw Closed("this runner was moved from or never created");
  if (core->service->closed()) throw Closed(core->service->name() + " is closed");
  return *core;
}

// Waits for a request submitted on the wait route and reads it out; the slot is released.
RunResult await(serving_core& core, exec::slot_id id) {
  if (!core.service->wait(id, core.deadline()))
    throw Timeout(core.service->name() + ": no result within " +
                  std::to_string(core.timeout.count()) + " ms (the request still completes)");
  auto result = core.collect(id);
  core.service->release(id);
  return result;
}

}  // namespace

std::vector<Tensor> Runner::run(const std::vector<Tensor>& inputs) {
  auto& core = open_core(core_);
  const auto id = core.fill(inputs);
  core.service->submit(id, 0, exec::completion_route::wait);
  auto result = await(core, id);
  return std::move(result.value());
}

void Runner::run(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs) {
  auto& core = open_core(core_);
  core.check_outputs(outputs);
  const auto id = core.fill(inputs);
  core.service->submit(id, 0, exec::completion_route::wait);
  if (!core.service->wait(id, core.deadline()))
    throw Timeout(core.service->name() + ": no result within " +
                  std::to_string(core.timeout.count()) + " ms (the request still completes)");
  auto& s = core.service->at(id);
  const auto code = s.code;
  const auto message = s.message;
  if (code == errc::ok)
    for (std::size_t i = 0; i < outputs.size(); ++i)
      if (outputs[i].size_bytes()) std::memcpy(outputs[i].data(), s.outputs[i], outputs[i].size_bytes());
  core.service->release(id);
  if (code != errc::ok) throw_error(code, message);
}

void Runner::run_async(const std::vector<Tensor>& inputs, std::function<void(RunResult)> done) {
  if (!done) throw InvalidArgument("run_async needs a completion callback");
  auto& core = open_core(core_);
  const auto id = core.fill(inputs);
  // The callback runs on a worker thread. It holds no reference to the core: the core's
  // destruction closes the service, which waits for every completion (callbacks included)
  // before the workers are joined, so the core outlives the callback.
  auto* raw = core_.get();
  core.service->submit(id, 0, exec::completion_route::callback,
                       [raw, done = std::move(done)](exec::slot_id slot) {
                         auto result = raw->collect(slot);
                         raw->service->release(slot);
                         done(std::move(result));
                       });
}

std::future<RunResult> Runner::run_async(const std::vector<Tensor>& inputs) {
  auto promise = std::make_shared<std::promise<RunResult>>();
  auto future = promise->get_future();
  run_async(inputs, [promise](RunResult r) { promise->set_value(std::move(r)); });
  return future;
}

bool Runner::close(std::chrono::milliseconds timeout) {
  if (!core_) return true;
  return core_->service->close(exec::clock::now() + timeout);
}

bool Runner::closed() const { return !core_ || core_->service->closed(); }
const std::vector<TensorInfo>& Runner::inputs() const { return core_->inputs; }
const std::vector<TensorInfo>& Runner::outputs() const { return core_->outputs; }

}  // namespace edgert
