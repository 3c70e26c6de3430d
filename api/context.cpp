#include "edgert/context.hpp"

#include "api/context_core.hpp"
#include "api/model_core.hpp"
#include "api/serving_core.hpp"
#include "api/system_setup.hpp"
#include "actors/runtime_actor.hpp"
#include "common/device_spec.hpp"

namespace edgert {

namespace {

DeviceState to_public(device_state s) {
  switch (s) {
    case device_state::offline: return DeviceState::offline;
    case device_state::configuring: return DeviceState::configuring;
    case device_state::ready: return DeviceState::ready;
    case device_state::faulted: return DeviceState::faulted;
    case device_state::recovering: return DeviceState::recovering;
  }
  return DeviceState::faulted;
}

BoardType board_type_from(const std::string& text) {
  if (text == "m2") return BoardType::m2;
  if (text == "devboard") return BoardType::devboard;
  if (text == "sbc") return BoardType::sbc;
  if (text == "host") return BoardType::host;
  return BoardType::pcie;
}

DeviceInfo to_public(device_status s) {
  DeviceInfo out;
  out.name = std::move(s.name);
  out.id = std::move(s.id);
  out.kind = std::move(s.kind);
  out.product = std::move(s.product);
  out.board_type = board_type_from(s.board_type);
  out.sub_devices = s.sub_devices;
  out.fusable = s.fusable;
  out.board_revision = std::move(s.board_revision);
  out.firmware_version = std::move(s.firmware_version);
  out.flashed_firmware_version = std::move(s.flashed_firmware_version);
  out.board_controller_version = std::move(s.board_controller_version);
  out.max_memory = s.max_memory_bytes;
  out.clock_profiles_mhz = std::move(s.clock_profiles_mhz);
  out.state = to_public(s.state);
  out.fault = std::move(s.fault);
  for (auto& holder : s.holders) {
    if (holder.empty() || out.in_use_by.find(holder) != std::string::npos) continue;
    out.in_use = true;
    out.in_use_by += (out.in_use_by.empty() ? "" : "; ") + holder;
  }
  out.sub_device_holders = std::move(s.holders);
  return out;
}

}  // namespace

Context::Context(ContextOptions options) : core_(std::make_shared<context_core>()) {
  if (options.request_timeout <= std::chrono::milliseconds::zero())
    throw InvalidArgument("request_timeout must be positive");
  if (options.virtual_time) core_->virtual_clock = std::make_shared<sim::virtual_clock>();
  auto drivers = build_drivers(options, core_->virtual_clock);
  core_->request_timeout = options.request_timeout;
  core_->config = make_actor_system_config(options.scheduler);
  core_->system = std::make_unique<caf::actor_system>(*core_->config);
  device_timeouts timeouts;
  timeouts.driver_request = options.request_timeout;
  std::vector<std::shared_ptr<device_readiness>> readiness;
  for (auto& drv : drivers) {
    readiness.push_back(std::make_shared<device_readiness>(drv->status()));
    core_->readiness.emplace(drv->name(), readiness.back());
  }
  core_->runtime =
      spawn_runtime_actor(*core_->system, std::move(drivers), timeouts, std::move(readiness));
  try {
    core_->ask<bool>(core_->runtime, options.request_timeout, online_atom::value);
  } catch (...) {
    core_->shutdown();
    throw;
  }
}

Context::~Context() {
  if (core_) core_->shutdown();
}

void Context::release() { core_->shutdown(); }

bool Context::released() const noexcept {
  std::shared_lock<std::shared_mutex> guard(core_->lifetime);
  return core_->released;
}

std::vector<DeviceInfo> Context::list_devices() {
  open_call call{*core_};
  auto all = core_->ask<std::vector<device_status>>(core_->runtime, core_->request_timeout * 2,
                                                    list_atom::value);
  std::vector<DeviceInfo> out;
  for (auto& s : all) out.push_back(to_public(std::move(s)));
  return out;
}

DeviceInfo context_core::device_info(const std::string& device) {
  auto target = lookup(device);
  return to_public(ask<device_status>(target.first, request_timeout, info_atom::value));
}

DeviceInfo Context::device_info(const std::string& device) {
  open_call call{*core_};
  return core_->device_info(device);
}

bool Context::configure_device(const std::string& device, const DeviceSettings& settings) {
  open_call call{*core_};
  auto target = core_->lookup(device);
  return core_->ask<bool>(target.first, core_->request_timeout, configure_atom::value,
                          settings_map(settings.begin(), settings.end()));
}

bool Context::device_ready(const std::string& device) {
  open_call call{*core_};
  auto target = core_->lookup(device);
  // The device's published state answers without a message when the answer is certain.
  auto published = core_->readiness.find(target.second);
  if (published != core_->readiness.end())
    if (auto answer = published->second->certain_answer()) return *answer;
  return core_->ask<bool>(target.first, core_->request_timeout, ready_atom::value);
}

bool Context::wait_device_ready(const std::string& device, std::chrono::milliseconds timeout) {
  open_call call{*core_};
  auto target = core_->lookup(device);
  if (timeout <= std::chrono::milliseconds::zero())
    return core_->ask<bool>(target.first, core_->request_timeout, ready_atom::value);
  try {
    return core_->ask<bool>(target.first, timeout, wait_atom::value);
  } catch (const Timeout&) {
    return false;
  }
}

DeviceConfiguration Context::read_device_configuration(const std::string& device) {
  open_call call{*core_};
  auto target = core_->lookup(device);
  auto config = core_->ask<configuration_map>(target.first, core_->request_timeout,
                                              read_config_atom::value);
  return DeviceConfiguration(config.begin(), config.end());
}

void Context::reset_device(const std::string& device) {
  open_call call{*core_};
  auto target = core_->lookup(device);
  core_->ask<bool>(target.first, core_->request_timeout, reset_atom::value);
}

DeviceHealth Context::device_health(const std::string& device) {
  open_call call{*core_};
  auto target = core_->lookup(device);
  auto report = core_->ask<device_health_report>(target.first, core_->request_timeout,
                                                 health_atom::value);
  DeviceHealth out;
  out.name = std::move(report.name);
  out.state = to_public(report.state);
  out.fault = std::move(report.fault);
  out.last_fault = std::move(report.last_fault);
  out.recoveries = report.recoveries;
  for (auto& c : report.cores)
    out.cores.push_back(CoreHealth{c.sub_device, to_public(c.state), std::move(c.reason)});
  return out;
}

Connection Context::device_connect(const std::string& device, unsigned num_sub_devices) {
  open_call call{*core_};
  auto spec = parse_device_spec(device);
  if (!spec) throw InvalidArgument(spec.error().message);
  if (spec->size() != 1 || spec->front().is_kind_request())
    throw InvalidArgument("device_connect takes one device (dev:X, dev:X:Y or dev:X:Y-Z), not '" +
                          device + "'");
  auto& item = spec->front();
  auto explicit_subs = item.sub_devices();
  if (!explicit_subs.empty() && num_sub_devices != 0 && num_sub_devices != explicit_subs.size())
    throw InvalidArgument("'" + device + "' names " + std::to_string(explicit_subs.size()) +
                          " sub-device(s) but " + std::to_string(num_sub_devices) +
                          " were requested");
  if (explicit_subs.empty() && num_sub_devices == 0)
    throw InvalidArgument("num_sub_devices must be at least 1");
  auto target = core_->lookup(item.board);
  auto grant = core_->ask<lease_grant>(target.first, core_->request_timeout, connect_atom::value,
                                       explicit_subs, num_sub_devices,
                                       lease_holder::current_process());
  return Connection(core_, grant.device, grant.sub_devices, grant.lease_id);
}

Connection::Connection(std::shared_ptr<context_core> core, std::string device,
                       std::vector<unsigned> sub_devices, std::uint64_t lease_id)
    : core_(std::move(core)),
      device_(std::move(device)),
      sub_devices_(std::move(sub_devices)),
      lease_id_(lease_id) {}

Connection::Connection(Connection&& other) noexcept
    : core_(std::move(other.core_)),
      device_(std::move(other.device_)),
      sub_devices_(std::move(other.sub_devices_)),
      lease_id_(std::exchange(other.lease_id_, 0)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    try {
      release();
    } catch (...) {
      // The lease is freed when its context goes away at the latest.
    }
    core_ = std::move(other.core_);
    device_ = std::move(other.device_);
    sub_devices_ = std::move(other.sub_devices_);
    lease_id_ = std::exchange(other.lease_id_, 0);
  }
  return *this;
}

Connection::~Connection() {
  try {
    release();
  } catch (...) {
    // Destructors must not throw; the lease is freed with its context at the latest.
  }
}

void Connection::release() {
  if (lease_id_ == 0 || !core_) return;
  auto id = std::exchange(lease_id_, 0);
  std::shared_lock<std::shared_mutex> guard(core_->lifetime);
  if (core_->released) return;  // the context freed every lease already
  auto target = core_->lookup(device_);
  core_->ask<bool>(target.first, core_->request_timeout, release_atom::value, id);
}


Model Context::load_model(const std::filesystem::path& path) {
  open_call call{*core_};
  return Model(load_model_file(path));
}

Model Context::load_model_from_bytes(const std::string& bytes, const std::filesystem::path& base_dir) {
  open_call call{*core_};
  return Model(load_model_bytes(bytes, base_dir));
}

namespace {

exec::overflow_policy to_policy(Overflow o) {
  switch (o) {
    case Overflow::reject: return exec::overflow_policy::reject;
    case Overflow::drop_oldest: return exec::overflow_policy::drop_oldest;
    case Overflow::block: break;
  }
  return exec::overflow_policy::block;
}

}  // namespace

Runner Context::create_runner(const Model& model, RunnerOptions options) {
  if (!model.core()) throw InvalidArgument("create_runner needs a loaded model");
  if (options.max_in_flight == 0 || options.max_in_flight > 65535)
    throw InvalidArgument("max_in_flight must be 1 to 65535");
  serving_options so;
  so.device = options.device;
  so.worker_num = options.worker_num;
  so.batch_size = options.batch_size;
  so.threads = options.threads;
  so.slot_count = options.max_in_flight;
  so.max_queued = options.max_in_flight;
  so.timeout = options.timeout;
  so.supervision = options.supervision;
  return Runner(start_serving(*this, core_, model.core(), so));
}

Queue Context::create_queue(const Model& model, QueueOptions options) {
  if (!model.core()) throw InvalidArgument("create_queue needs a loaded model");
  if (options.input_queue_size == 0 || options.output_queue_size == 0)
    throw InvalidArgument("input_queue_size and output_queue_size must be at least 1");
  serving_options so;
  so.device = options.device;
  so.worker_num = options.worker_num;
  so.batch_size = options.batch_size;
  so.threads = options.threads;
  // Slots: the queued requests, one running per worker, and the unreceived results.
  so.slot_count = std::size_t{options.input_queue_size} + options.output_queue_size + options.worker_num;
  so.max_queued = options.input_queue_size;
  so.overflow = to_policy(options.overflow);
  so.timeout = options.timeout;
  so.supervision = options.supervision;
  auto core = start_serving(*this, core_, model.core(), so);
  return Queue{Submitter(core), Receiver(core)};
}

}  // namespace edgert
