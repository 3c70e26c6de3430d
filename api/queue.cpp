#include <cstring>

#include "api/serving_core.hpp"
#include "api/unwrap.hpp"
#include "edgert/runner.hpp"

namespace edgert {

InputSlot::InputSlot(InputSlot&& other) noexcept
    : core_(std::move(other.core_)),
      slot_(other.slot_),
      held_(std::exchange(other.held_, false)),
      tensors_(std::move(other.tensors_)) {}

InputSlot& InputSlot::operator=(InputSlot&& other) noexcept {
  if (this != &other) {
    if (held_ && core_) core_->service->release(slot_);
    core_ = std::move(other.core_);
    slot_ = other.slot_;
    held_ = std::exchange(other.held_, false);
    tensors_ = std::move(other.tensors_);
  }
  return *this;
}

InputSlot::~InputSlot() {
  if (held_ && core_) core_->service->release(slot_);
}

InputSlot Submitter::allocate() {
  if (!core_) throw Closed("this submitter was moved from");
  const auto id = unwrap(core_->service->acquire(core_->deadline()));
  InputSlot slot;
  slot.core_ = core_;
  slot.slot_ = id;
  slot.held_ = true;
  auto& s = core_->service->at(id);
  for (std::size_t i = 0; i < core_->inputs.size(); ++i)
    slot.tensors_.push_back(Tensor::view(core_->inputs[i].dtype, core_->inputs[i].shape, s.inputs[i]));
  return slot;
}

void Submitter::submit(InputSlot&& slot, std::uint64_t context) {
  if (!slot.held_ || slot.core_ != core_)
    throw InvalidArgument("submit() takes a slot this submitter allocated and has not submitted");
  slot.held_ = false;
  core_->service->submit(slot.slot_, context, exec::completion_route::ring);
}

void Submitter::submit(const std::vector<Tensor>& inputs, std::uint64_t context) {
  if (!core_) throw Closed("this submitter was moved from");
  const auto id = core_->fill(inputs);
  core_->service->submit(id, context, exec::completion_route::ring);
}

void Submitter::close() {
  if (core_) core_->service->close(core_->deadline());
}

namespace {

// The error result of a request that drop_oldest pushed out of the input queue.
Received take_dropped(exec::service& service, exec::ticket ticket) {
  Received out;
  const auto& d = service.dropped(ticket);
  out.context = d.user_context;
  out.result.code = errc::queue_full;
  out.result.message = d.message;
  service.release_dropped(ticket);
  return out;
}

}  // namespace

Received Receiver::recv(std::chrono::milliseconds timeout) {
  if (!core_) throw Closed("this receiver was moved from");
  auto& service = *core_->service;
  const auto ticket = unwrap(service.pop_completion(exec::clock::now() + timeout));
  Received out;
  if (service.is_dropped(ticket)) return take_dropped(service, ticket);
  out.context = service.at(ticket).user_context;
  out.result = core_->collect(ticket);
  service.release(ticket);
  return out;
}

Received Receiver::recv_view(std::chrono::milliseconds timeout) {
  if (!core_) throw Closed("this receiver was moved from");
  auto& service = *core_->service;
  const auto ticket = unwrap(service.pop_completion(exec::clock::now() + timeout));
  Received out;
  if (service.is_dropped(ticket)) return take_dropped(service, ticket);
  auto& s = service.at(ticket);
  out.context = s.user_context;
  out.result.code = s.code;
  out.result.message = s.message;
  out.result.device_time_ns = s.device_time_ns;
  if (!out.result.ok()) {
    service.release(ticket);
    return out;
  }
  // One owner for all outputs: the slot is released when the last tensor viewing it goes.
  // It keeps the serving core (and so the service) alive until then.
  std::shared_ptr<void> slot_owner(s.outputs.empty() ? nullptr : s.outputs[0],
                                   [core = core_, ticket](void*) { core->service->release(ticket); });
  out.result.outputs.reserve(core_->outputs.size());
  for (std::size_t i = 0; i < core_->outputs.size(); ++i)
    out.result.outputs.push_back(Tensor::adopt(core_->outputs[i].dtype, core_->outputs[i].shape,
                                               s.outputs[i], slot_owner));
  return out;
}

std::optional<Received> Receiver::next(std::chrono::milliseconds timeout) {
  try {
    return recv(timeout);
  } catch (const Closed&) {
    return std::nullopt;
  }
}

void Receiver::close() {
  if (core_) core_->service->close(exec::clock::now());
}

}  // namespace edgert
