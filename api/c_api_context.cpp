// The C API over edgert::Context: contexts, device listing, configuration and connections.
#include <algorithm>

#include "api/c_api_handles.hpp"

using namespace edgert;
using namespace edgert::capi;

namespace {

ContextOptions context_options_from(const edgert_context_options* given) {
  ContextOptions options;
  if (given == nullptr) return options;
  if (given->system) options.system = given->system;
  if (given->board_config_dir) options.board_config_dir = given->board_config_dir;
  if (given->runtime_dir) options.runtime_dir = given->runtime_dir;
  if (given->scheduler_policy && *given->scheduler_policy)
    options.scheduler.policy = given->scheduler_policy;
  options.scheduler.threads = given->scheduler_threads;
  if (given->scheduler_max_throughput) options.scheduler.max_throughput = given->scheduler_max_throughput;
  if (given->request_timeout_ms) options.request_timeout = milliseconds(given->request_timeout_ms);
  return options;
}

edgert_board_type board_type_of(BoardType type) {
  switch (type) {
    case BoardType::pcie: return EDGERT_BOARD_PCIE;
    case BoardType::m2: return EDGERT_BOARD_M2;
    case BoardType::devboard: return EDGERT_BOARD_DEVBOARD;
    case BoardType::sbc: return EDGERT_BOARD_SBC;
    case BoardType::host: return EDGERT_BOARD_HOST;
  }
  throw InternalError("unknown board type " + std::to_string(static_cast<int>(type)));
}

edgert_device_state device_state_of(DeviceState state) {
  switch (state) {
    case DeviceState::offline: return EDGERT_DEVICE_OFFLINE;
    case DeviceState::configuring: return EDGERT_DEVICE_CONFIGURING;
    case DeviceState::ready: return EDGERT_DEVICE_READY;
    case DeviceState::faulted: return EDGERT_DEVICE_FAULTED;
    case DeviceState::recovering: return EDGERT_DEVICE_RECOVERING;
  }
  throw InternalError("unknown device state " + std::to_string(static_cast<int>(state)));
}

void fill_device_info(const DeviceInfo& info, edgert_device_info& out) {
  edgert_device_info filled{};
  copy_string(filled.name, sizeof filled.name, info.name);
  copy_string(filled.id, sizeof filled.id, info.id);
  copy_string(filled.kind, sizeof filled.kind, info.kind);
  filled.board_type = board_type_of(info.board_type);
  filled.sub_devices = info.sub_devices;
  filled.fusable = info.fusable ? 1 : 0;
  copy_string(filled.board_revision, sizeof filled.board_revision, info.board_revision);
  copy_string(filled.firmware_version, sizeof filled.firmware_version, info.firmware_version);
  copy_string(filled.flashed_firmware_version, sizeof filled.flashed_firmware_version,
              info.flashed_firmware_version);
  copy_string(filled.board_controller_version, sizeof filled.board_controller_version,
              info.board_controller_version);
  filled.max_memory = info.max_memory;
  filled.state = device_state_of(info.state);
  filled.in_use = info.in_use ? 1 : 0;
  copy_string(filled.in_use_by, sizeof filled.in_use_by, info.in_use_by);
  out = filled;
}

}  // namespace

extern "C" {

// ---- context --------------------------------------------------------------------------

edgert_status edgert_context_options_init(edgert_context_options* options) {
  return guarded(__func__, [&] {
    require(options, "options");
    *options = edgert_context_options{};
  });
}

edgert_status edgert_context_create(const edgert_context_options* options, edgert_context** context) {
  return guarded(__func__, [&] {
    require(context, "context (the out-parameter)");
    *context = nullptr;
    auto object = std::make_shared<context_object>(context_options_from(options));
    *context = make_handle<edgert_context>(std::move(object));
  });
}

edgert_status edgert_context_release(edgert_context* context) {
  return guarded(__func__, [&] {
    auto object = take_handle(context);
    if (object) object->context.release();
  });
}

// ---- devices --------------------------------------------------------------------------

edgert_status edgert_device_count(edgert_context* context, size_t* count) {
  return guarded(__func__, [&] {
    auto object = object_of(context);
    require(count, "count");
    *count = object->context.list_devices().size();
  });
}

edgert_status edgert_device_info_at(edgert_context* context, size_t index, edgert_device_info* info) {
  return guarded(__func__, [&] {
    auto object = object_of(context);
    require(info, "info");
    const auto devices = object->context.list_devices();
    if (index >= devices.size())
      throw InvalidArgument("device index " + std::to_string(index) + " is out of range (" +
                            std::to_string(devices.size()) + " devices)");
    fill_device_info(devices[index], *info);
  });
}

edgert_status edgert_device_info_by_name(edgert_context* context, const char* device,
                                         edgert_device_info* info) {
  return guarded(__func__, [&] {
    auto object = object_of(context);
    const auto name = string_argument(device, "device");
    require(info, "info");
    fill_device_info(object->context.device_info(name), *info);
  });
}

edgert_status edgert_configure_device(edgert_context* context, const char* device,
                                      const edgert_setting* settings, size_t count, int* complete) {
  return guarded(__func__, [&] {
    auto object = object_of(context);
    const auto name = string_argument(device, "device");
    if (count != 0) require(settings, "settings");
    require(complete, "complete");
    DeviceSettings map;
    for (size_t i = 0; i < count; ++i) {
      const auto key = string_argument(settings[i].key, "a setting key");
      if (!map.emplace(key, settings[i].value).second)
        throw InvalidArgument("setting '" + key + "' is given twice");
    }
    *complete = object->context.configure_device(name, map) ? 1 : 0;
  });
}

edgert_status edgert_device_ready(edgert_context* context, const char* device, int* ready) {
  return guarded(__func__, [&] {
    auto object = object_of(context);
    const auto name = string_argument(device, "device");
    require(ready, "ready");
    *ready = object->context.device_ready(name) ? 1 : 0;
  });
}

edgert_status edgert_wait_device_ready(edgert_context* context, const char* device,
                                       uint32_t timeout_ms, int* ready) {
  return guarded(__func__, [&] {
    auto object = object_of(context);
    const auto name = string_argument(device, "device");
    require(ready, "ready");
    *ready = object->context.wait_device_ready(name, milliseconds(timeout_ms)) ? 1 : 0;
  });
}

edgert_status edgert_reset_device(edgert_context* context, const char* device) {
  return guarded(__func__, [&] {
    auto object = object_of(context);
    object->context.reset_device(string_argument(device, "device"));
  });
}

// ---- configuration read back ----------------------------------------------------------

edgert_status edgert_read_device_configuration(edgert_context* context, const char* device,
                                               edgert_configuration** configuration) {
  return guarded(__func__, [&] {
    require(configuration, "configuration (the out-parameter)");
    *configuration = nullptr;
    auto object = object_of(context);
    const auto name = string_argument(device, "device");
    auto read = std::make_shared<configuration_object>();
    for (auto& entry : object->context.read_device_configuration(name))  // a std::map: sorted
      read->entries.emplace_back(entry.first, entry.second);
    *configuration = make_handle<edgert_configuration>(std::move(read));
  });
}

edgert_status edgert_configuration_count(edgert_configuration* configuration, size_t* count) {
  return guarded(__func__, [&] {
    auto object = object_of(configuration);
    require(count, "count");
    *count = object->entries.size();
  });
}

edgert_status edgert_configuration_entry(edgert_configuration* configuration, size_t index,
                                         const char** key, const char** value) {
  return guarded(__func__, [&] {
    auto object = object_of(configuration);
    require(key, "key");
    require(value, "value");
    if (index >= object->entries.size())
      throw InvalidArgument("configuration entry " + std::to_string(index) + " is out of range (" +
                            std::to_string(object->entries.size()) + " entries)");
    // The strings live in the object, which the handle table keeps until release.
    *key = object->entries[index].first.c_str();
    *value = object->entries[index].second.c_str();
  });
}

edgert_status edgert_configuration_get(edgert_configuration* configuration, const char* key,
                                       const char** value) {
  return guarded(__func__, [&] {
    auto object = object_of(configuration);
    const auto wanted = string_argument(key, "key");
    require(value, "value");
    auto i = std::find_if(object->entries.begin(), object->entries.end(),
                          [&](const auto& entry) { return entry.first == wanted; });
    if (i == object->entries.end())
      throw InvalidArgument("the configuration has no key '" + wanted + "'");
    *value = i->second.c_str();
  });
}

edgert_status edgert_configuration_release(edgert_configuration* configuration) {
  return guarded(__func__, [&] { take_handle(configuration); });
}

// ---- connections ----------------------------------------------------------------------

edgert_status edgert_device_connect(edgert_context* context, const char* device,
                                    uint32_t num_sub_devices, edgert_connection** connection) {
  return guarded(__func__, [&] {
    require(connection, "connection (the out-parameter)");
    *connection = nullptr;
    auto object = object_of(context);
    const auto name = string_argument(device, "device");
    auto leased = std::make_shared<connection_object>(
        object->context.device_connect(name, num_sub_devices));
    *connection = make_handle<edgert_connection>(std::move(leased));
  });
}

edgert_status edgert_connection_info(edgert_connection* connection, const char** device,
                                     uint32_t* sub_devices) {
  return guarded(__func__, [&] {
    auto object = object_of(connection);
    // device() refers to a member set at creation and never changed: valid for the object's life.
    if (device) *device = object->connection.device().c_str();
    if (sub_devices) *sub_devices = static_cast<uint32_t>(object->connection.sub_devices().size());
  });
}

edgert_status edgert_connection_release(edgert_connection* connection) {
  return guarded(__func__, [&] { take_handle(connection); });
}

}  // extern "C"
