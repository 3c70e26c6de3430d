// The C API over edgert::ModelInstance and edgert::Runner: loading a model onto a
// connection, synchronous runs, scheduled requests with completion polling, completion fds
// and the error tracker, and the convenience Runner.
#include <algorithm>

#include "api/c_api_handles.hpp"

using namespace edgert;
using namespace edgert::capi;

namespace {

ModelInstanceOptions instance_options_from(const edgert_model_instance_options* given) {
  ModelInstanceOptions options;
  if (given == nullptr) return options;
  options.num_sub_devices = given->num_sub_devices;
  options.aipu_cores = given->aipu_cores;
  options.double_buffer = given->double_buffer != 0;
  options.input_dmabuf = given->input_dmabuf != 0;
  options.output_dmabuf = given->output_dmabuf != 0;
  options.device_profiling = given->device_profiling != 0;
  options.host_profiling = given->host_profiling != 0;
  options.num_runtimes = given->num_runtimes;
  options.threads = given->threads;
  if (given->threads == 0) throw InvalidArgument("threads must be at least 1");
  if (given->timeout_ms == 0) throw InvalidArgument("timeout_ms must be positive");
  options.timeout = milliseconds(given->timeout_ms);
  options.supervision.process_isolation = given->process_isolation != 0;
  return options;
}

RunnerOptions runner_options_from(const edgert_runner_options* given) {
  RunnerOptions options;
  if (given == nullptr) return options;
  if (given->device) options.device = given->device;
  options.worker_num = given->worker_num;
  options.batch_size = given->batch_size;
  options.threads = given->threads;
  if (given->max_in_flight == 0) throw InvalidArgument("max_in_flight must be at least 1");
  options.max_in_flight = given->max_in_flight;
  options.timeout = milliseconds(given->timeout_ms);  // the facade refuses 0
  return options;
}

void fill_scheduled_error(const ScheduledError& error, edgert_scheduled_error& out) {
  out.id = error.id;
  out.status = static_cast<edgert_status>(error.code);
  copy_string(out.message, sizeof out.message, error.message);
}

std::size_t count_of(const std::vector<TensorInfo>& infos, size_t* count) {
  require(count, "count");
  return *count = infos.size();
}

}  // namespace

extern "C" {

// ---- model instances ------------------------------------------------------------------

edgert_status edgert_model_instance_options_init(edgert_model_instance_options* options) {
  return guarded(__func__, [&] {
    require(options, "options");
    const ModelInstanceOptions defaults;
    edgert_model_instance_options filled{};
    filled.num_sub_devices = defaults.num_sub_devices;
    filled.aipu_cores = defaults.aipu_cores;
    filled.double_buffer = defaults.double_buffer ? 1 : 0;
    filled.input_dmabuf = defaults.input_dmabuf ? 1 : 0;
    filled.output_dmabuf = defaults.output_dmabuf ? 1 : 0;
    filled.device_profiling = defaults.device_profiling ? 1 : 0;
    filled.host_profiling = defaults.host_profiling ? 1 : 0;
    filled.num_runtimes = defaults.num_runtimes;
    filled.threads = defaults.threads;
    filled.timeout_ms = static_cast<uint32_t>(defaults.timeout.count());
    filled.process_isolation = defaults.supervision.process_isolation ? 1 : 0;
    *options = filled;
  });
}

edgert_status edgert_load_model_instance(edgert_connection* connection, edgert_model* model,
                                         const edgert_model_instance_options* options,
                                         edgert_model_instance** instance) {
  return guarded(__func__, [&] {
    require(instance, "instance (the out-parameter)");
    *instance = nullptr;
    auto leased = object_of(connection);
    auto loaded = object_of(model);
    auto made = leased->connection.load_model_instance(loaded->model, instance_options_from(options));
    auto object = std::make_shared<instance_object>(leased, std::move(made));
    *instance = make_handle<edgert_model_instance>(std::move(object));
  });
}

edgert_status edgert_model_instance_input_count(edgert_model_instance* instance, size_t* count) {
  return guarded(__func__, [&] { count_of(object_of(instance)->instance.inputs(), count); });
}

edgert_status edgert_model_instance_output_count(edgert_model_instance* instance, size_t* count) {
  return guarded(__func__, [&] { count_of(object_of(instance)->instance.outputs(), count); });
}

edgert_status edgert_model_instance_input_info(edgert_model_instance* instance, size_t index,
                                               edgert_tensor_info* info) {
  return guarded(__func__, [&] {
    auto object = object_of(instance);
    require(info, "info");
    fill_tensor_info(info_at(object->instance.inputs(), index, "input"), *info);
  });
}

edgert_status edgert_model_instance_output_info(edgert_model_instance* instance, size_t index,
                                                edgert_tensor_info* info) {
  return guarded(__func__, [&] {
    auto object = object_of(instance);
    require(info, "info");
    fill_tensor_info(info_at(object->instance.outputs(), index, "output"), *info);
  });
}

edgert_status edgert_model_instance_run(edgert_model_instance* instance, const edgert_tensor* inputs,
                                        size_t input_count, const edgert_tensor* outputs,
                                        size_t output_count) {
  return guarded(__func__, [&] {
    auto object = object_of(instance);
    auto& mi = object->instance;
    const auto in = tensor_views(mi.inputs(), inputs, input_count, "input");
    auto out = tensor_views(mi.outputs(), outputs, output_count, "output");
    mi.run(in, out);
  });
}

edgert_status edgert_model_instance_run_fds(edgert_model_instance* instance, const int* input_fds,
                                            size_t input_count, const int* output_fds,
                                            size_t output_count) {
  return guarded(__func__, [&] {
    auto object = object_of(instance);
    if (input_count != 0) require(input_fds, "input_fds");
    if (output_count != 0) require(output_fds, "output_fds");
    const std::vector<int> in(input_fds, input_fds + input_count);
    const std::vector<int> out(output_fds, output_fds + output_count);
    object->instance.run_fds(in, out);
  });
}

edgert_status edgert_model_instance_schedule(edgert_model_instance* instance,
                                             const edgert_tensor* inputs, size_t input_count,
                                             const edgert_tensor* outputs, size_t output_count,
                                             uint64_t* id) {
  return guarded(__func__, [&] {
    auto object = object_of(instance);
    require(id, "id");
    auto& mi = object->instance;
    const auto in = tensor_views(mi.inputs(), inputs, input_count, "input");
    auto out = tensor_views(mi.outputs(), outputs, output_count, "output");
    *id = mi.schedule(in, out);
  });
}

edgert_status edgert_model_instance_is_completed(edgert_model_instance* instance, uint64_t id,
                                                 int* completed) {
  return guarded(__func__, [&] {
    auto object = object_of(instance);
    require(completed, "completed");
    *completed = object->instance.is_completed(id) ? 1 : 0;
  });
}

edgert_status edgert_model_instance_completion_fd(edgert_model_instance* instance, uint64_t id,
                                                  int* fd) {
  return guarded(__func__, [&] {
    auto object = object_of(instance);
    require(fd, "fd");
    *fd = object->instance.completion_fd(id);
  });
}

edgert_status edgert_model_instance_wait(edgert_model_instance* instance, uint64_t id,
                                         uint32_t timeout_ms, int* completed) {
  return guarded(__func__, [&] {
    auto object = object_of(instance);
    require(completed, "completed");
    *completed = object->instance.wait(id, milliseconds(timeout_ms)) ? 1 : 0;
  });
}

edgert_status edgert_model_instance_take_errors(edgert_model_instance* instance,
                                                edgert_scheduled_error* errors, size_t capacity,
                                                size_t* count, size_t* remaining,
                                                uint64_t* dropped) {
  return guarded(__func__, [&] {
    auto object = object_of(instance);
    require(count, "count");
    if (capacity != 0) require(errors, "errors");
    std::lock_guard<std::mutex> guard(object->errors_mutex);
    for (auto& e : object->instance.take_errors()) object->pending_errors.push_back(std::move(e));
    const std::size_t n = std::min(capacity, object->pending_errors.size());
    for (std::size_t i = 0; i < n; ++i) fill_scheduled_error(object->pending_errors[i], errors[i]);
    object->pending_errors.erase(object->pending_errors.begin(),
                                 object->pending_errors.begin() + static_cast<std::ptrdiff_t>(n));
    *count = n;
    if (remaining) *remaining = object->pending_errors.size();
    if (dropped) *dropped = object->instance.dropped_errors();
  });
}

edgert_status edgert_model_instance_close(edgert_model_instance* instance, uint32_t timeout_ms,
                                          int* in_time) {
  return guarded(__func__, [&] {
    auto object = object_of(instance);
    const bool finished = object->instance.close(milliseconds(timeout_ms));
    if (in_time) *in_time = finished ? 1 : 0;
  });
}

edgert_status edgert_model_instance_release(edgert_model_instance* instance) {
  // The instance's destructor closes it (bounded by its timeout); the connection's lease goes
  // with the last reference to the connection object.
  return guarded(__func__, [&] { take_handle(instance); });
}

// ---- runners --------------------------------------------------------------------------

edgert_status edgert_runner_options_init(edgert_runner_options* options) {
  return guarded(__func__, [&] {
    require(options, "options");
    const RunnerOptions defaults;
    edgert_runner_options filled{};
    filled.device = nullptr;  // "host"
    filled.worker_num = defaults.worker_num;
    filled.batch_size = defaults.batch_size;
    filled.threads = defaults.threads;
    filled.max_in_flight = defaults.max_in_flight;
    filled.timeout_ms = static_cast<uint32_t>(defaults.timeout.count());
    *options = filled;
  });
}

edgert_status edgert_runner_create(edgert_context* context, edgert_model* model,
                                   const edgert_runner_options* options, edgert_runner** runner) {
  return guarded(__func__, [&] {
    require(runner, "runner (the out-parameter)");
    *runner = nullptr;
    auto ctx = object_of(context);
    auto loaded = object_of(model);
    auto made = ctx->context.create_runner(loaded->model, runner_options_from(options));
    *runner = make_handle<edgert_runner>(std::make_shared<runner_object>(std::move(made)));
  });
}

edgert_status edgert_runner_input_count(edgert_runner* runner, size_t* count) {
  return guarded(__func__, [&] { count_of(object_of(runner)->runner.inputs(), count); });
}

edgert_status edgert_runner_output_count(edgert_runner* runner, size_t* count) {
  return guarded(__func__, [&] { count_of(object_of(runner)->runner.outputs(), count); });
}

edgert_status edgert_runner_input_info(edgert_runner* runner, size_t index, edgert_tensor_info* info) {
  return guarded(__func__, [&] {
    auto object = object_of(runner);
    require(info, "info");
    fill_tensor_info(info_at(object->runner.inputs(), index, "input"), *info);
  });
}

edgert_status edgert_runner_output_info(edgert_runner* runner, size_t index, edgert_tensor_info* info) {
  return guarded(__func__, [&] {
    auto object = object_of(runner);
    require(info, "info");
    fill_tensor_info(info_at(object->runner.outputs(), index, "output"), *info);
  });
}

edgert_status edgert_runner_run(edgert_runner* runner, const edgert_tensor* inputs, size_t input_count,
                                const edgert_tensor* outputs, size_t output_count) {
  return guarded(__func__, [&] {
    auto object = object_of(runner);
    auto& r = object->runner;
    const auto in = tensor_views(r.inputs(), inputs, input_count, "input");
    auto out = tensor_views(r.outputs(), outputs, output_count, "output");
    r.run(in, out);
  });
}

edgert_status edgert_runner_close(edgert_runner* runner, uint32_t timeout_ms, int* in_time) {
  return guarded(__func__, [&] {
    auto object = object_of(runner);
    const bool finished = object->runner.close(milliseconds(timeout_ms));
    if (in_time) *in_time = finished ? 1 : 0;
  });
}

edgert_status edgert_runner_release(edgert_runner* runner) {
  return guarded(__func__, [&] { take_handle(runner); });
}

}  // extern "C"
