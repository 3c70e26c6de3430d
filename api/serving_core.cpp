#include "api/serving_core.hpp"

#include <cstdlib>
#include <cstring>

#include "api/execution_units.hpp"
#include "api/context_core.hpp"
#include "api/unwrap.hpp"
#include "common/device_spec.hpp"

namespace edgert {

namespace {

std::vector<TensorInfo> batched(std::vector<TensorInfo> infos, unsigned batch) {
  for (auto& t : infos) {
    if (!t.shape.empty() && t.shape[0] > 0) t.shape[0] *= batch;
    if (!t.unpadded_shape.empty() && t.unpadded_shape[0] > 0) t.unpadded_shape[0] *= batch;
  }
  return infos;
}

void check_against(const std::vector<TensorInfo>& expected, const std::vector<Tensor>& given,
                   const char* what, const std::string& model) {
  if (given.size() != expected.size())
    throw InvalidArgument(model + " takes " + std::to_string(expected.size()) + " " + what +
                          (expected.size() == 1 ? "" : "s") + ", " + std::to_string(given.size()) +
                          " given");
  for (std::size_t i = 0; i < given.size(); ++i) {
    const auto& e = expected[i];
    const auto& g = given[i];
    if (g.dtype() == e.dtype && g.shape() == e.shape && (g.data() != nullptr || g.size_bytes() == 0))
      continue;  // the common case builds no message
    const std::string which = std::string(what) + " " + std::to_string(i) + " ('" + e.name + "')";
    if (g.dtype() != e.dtype)
      throw InvalidArgument(model + ": " + which + " must be " + to_string(e.dtype) + ", not " +
                            to_string(g.dtype()));
    if (g.shape() != e.shape)
      throw InvalidArgument(model + ": " + which + " must have shape " + to_string(e.shape) +
                            ", not " + to_string(g.shape()));
    if (g.data() == nullptr && g.size_bytes() != 0)
      throw InvalidArgument(model + ": " + which + " has no data (null buffer)");
  }
}

}  // namespace

serving_core::~serving_core() {
  if (service) service->close(exec::clock::now() + timeout);
  service.reset();  // workers joined before the lease goes
}

void serving_core::check_inputs(const std::vector<Tensor>& given) const {
  check_against(inputs, given, "input", model->info.name);
}

void serving_core::check_outputs(const std::vector<Tensor>& given) const {
  check_against(outputs, given, "output", model->info.name);
}

exec::slot_id serving_core::fill(const std::vector<Tensor>& given) {
  check_inputs(given);
  const auto id = unwrap(service->acquire(deadline()));
  auto& s = service->at(id);
  for (std::size_t i = 0; i < given.size(); ++i)
    if (given[i].size_bytes()) std::memcpy(s.inputs[i], given[i].data(), given[i].size_bytes());
  return id;
}

RunResult serving_core::collect(exec::slot_id id) {
  auto& s = service->at(id);
  RunResult r;
  r.code = s.code;
  r.message = s.message;
  r.device_time_ns = s.device_time_ns;
  if (r.ok()) {
    r.outputs.reserve(outputs.size());
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      // Uninitialised (not zero-filled) storage: the copy below writes every byte once.
      const std::size_t bytes = outputs[i].size_bytes();
      void* raw = std::aligned_alloc(64, (bytes + 63) / 64 * 64 + (bytes == 0 ? 64 : 0));
      if (!raw) throw OutOfMemory("cannot allocate " + std::to_string(bytes) + " bytes for an output");
      std::shared_ptr<void> owner(raw, [](void* p) { std::free(p); });
      if (bytes) std::memcpy(raw, s.outputs[i], bytes);
      r.outputs.push_back(Tensor::adopt(outputs[i].dtype, outputs[i].shape, raw, std::move(owner)));
    }
  }
  return r;
}

namespace {

void check_options(const std::shared_ptr<const model_core>& model, const serving_options& options) {
  if (options.worker_num == 0 || options.worker_num > 64)
    throw InvalidArgument("worker_num must be 1 to 64, not " + std::to_string(options.worker_num));
  if (options.batch_size == 0 || options.batch_size > 4096)
    throw InvalidArgument("batch_size must be 1 to 4096, not " + std::to_string(options.batch_size));
  if (options.threads == 0 || options.threads > 256)
    throw InvalidArgument("threads must be 1 to 256, not " + std::to_string(options.threads));
  if (options.timeout <= std::chrono::milliseconds::zero())
    throw InvalidArgument("timeout must be positive");
  for (auto& t : model->inputs)
    if (t.elements() < 0)
      throw InvalidArgument(model->info.name + ": input '" + t.name + "' has shape " +
                            to_string(t.shape) + " with a dimension unknown before run time");
}

std::shared_ptr<const engine::plan> plan_that_fits(const model_core& model, const DeviceInfo& device,
                                                   std::size_t units, unsigned threads) {
  auto plan = unwrap(model.plan_for(threads));
  const std::uint64_t needed = plan->cost().weight_bytes + plan->arena_bytes() * units;
  if (device.max_memory != 0 && needed > device.max_memory)
    throw OutOfMemory(model.info.name + " needs " + std::to_string(needed) + " bytes of memory on " +
                      device.name + ", which has " + std::to_string(device.max_memory));
  return plan;
}

// The serving's profile: asked for by its options, or by EDGERT_PROFILE; null when neither.
std::shared_ptr<exec::trace_recorder> profile_recorder(const std::string& name,
                                                       const serving_options& options) {
  if (options.profile_spans == 0) return exec::trace_recorder_from_environment(name);
  std::string file = options.profile_file;
  if (file.empty()) {
    const char* from_environment = std::getenv(exec::profile_environment_variable);
    file = from_environment && *from_environment ? from_environment : "edgert-profile.json";
  }
  return std::make_shared<exec::trace_recorder>(name, file, options.profile_spans);
}

}  // namespace

std::shared_ptr<serving_core> serve_on(std::shared_ptr<context_core> core,
                                       std::shared_ptr<const model_core> model,
                                       const DeviceInfo& device,
                                       const std::vector<unsigned>& sub_devices, std::size_t units,
                                       const serving_options& options) {
  if (sub_devices.empty()) throw InvalidArgument("serving needs at least one leased sub-device");
  check_options(model, options);
  auto plan = plan_that_fits(*model, device, units, options.threads);
  auto serving = std::make_shared<serving_core>();
  serving->context = std::move(core);
  serving->model = model;
  serving->timeout = options.timeout;
  serving->inputs = batched(model->inputs, options.batch_size);
  serving->outputs = batched(model->outputs, options.batch_size);

  // Supervised execution units (api/execution_units.cpp): restarts, watchdog, recovery.
  auto runners = build_execution_units(*serving, plan, device, sub_devices, units, options);
  std::vector<std::size_t> in_bytes, out_bytes;
  for (auto& t : serving->inputs) in_bytes.push_back(t.size_bytes());
  for (auto& t : serving->outputs) out_bytes.push_back(t.size_bytes());
  exec::service_options so;
  so.slot_count = options.slot_count;
  so.max_queued = options.max_queued;
  so.overflow = options.overflow;
  so.name = model->info.name + " on " + device.name;
  so.trace = profile_recorder(so.name, options);
  serving->service =
      unwrap(exec::service::create(in_bytes, out_bytes, std::move(runners), std::move(so)));
  return serving;
}

std::shared_ptr<serving_core> start_serving(Context& context, std::shared_ptr<context_core> core,
                                            std::shared_ptr<const model_core> model,
                                            const serving_options& options) {
  check_options(model, options);
  // One board, whole (its first free sub-devices) or named sub-devices (dev:X:Y, dev:X:Y-Z).
  auto spec = parse_device_spec(options.device);
  if (!spec) throw InvalidArgument(spec.error().message);
  if (spec->size() != 1 || spec->front().is_kind_request())
    throw InvalidArgument("runners and queues serve on one board (dev:X, dev:X:Y, dev:X:Y-Z, "
                          "KIND-N or a board kind), not '" + options.device + "'");
  const bool named_sub_devices = !spec->front().sub_devices().empty();
  const auto device = context.device_info(spec->front().board);
  plan_that_fits(*model, device, options.worker_num, options.threads);  // before leasing
  auto connection =
      context.device_connect(options.device, named_sub_devices ? 0 : options.worker_num);
  auto serving = serve_on(std::move(core), std::move(model), device, connection.sub_devices(),
                          options.worker_num, options);
  serving->connection.emplace(std::move(connection));
  return serving;
}

}  // namespace edgert
