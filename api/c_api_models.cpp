// The C API over edgert::Model: loading models and reading their tensor metadata.
#include "api/c_api_handles.hpp"

using namespace edgert;
using namespace edgert::capi;

extern "C" {

edgert_status edgert_load_model(edgert_context* context, const char* path, edgert_model** model) {
  return guarded(__func__, [&] {
    require(model, "model (the out-parameter)");
    *model = nullptr;
    auto object = object_of(context);
    const auto file = string_argument(path, "path");
    auto loaded = std::make_shared<model_object>(object->context.load_model(file));
    *model = make_handle<edgert_model>(std::move(loaded));
  });
}

edgert_status edgert_load_model_from_bytes(edgert_context* context, const void* bytes, size_t size,
                                           const char* base_dir, edgert_model** model) {
  return guarded(__func__, [&] {
    require(model, "model (the out-parameter)");
    *model = nullptr;
    auto object = object_of(context);
    require(bytes, "bytes");
    if (size == 0) throw InvalidArgument("the model is empty (0 bytes)");
    std::string serialised(static_cast<const char*>(bytes), size);
    auto loaded = std::make_shared<model_object>(object->context.load_model_from_bytes(
        serialised, base_dir ? std::filesystem::path(base_dir) : std::filesystem::path()));
    *model = make_handle<edgert_model>(std::move(loaded));
  });
}

edgert_status edgert_model_release(edgert_model* model) {
  return guarded(__func__, [&] { take_handle(model); });
}

edgert_status edgert_model_name(edgert_model* model, const char** name) {
  return guarded(__func__, [&] {
    auto object = object_of(model);
    require(name, "name");
    *name = object->model.name().c_str();  // lives in the shared model core
  });
}

edgert_status edgert_model_macs(edgert_model* model, uint64_t* macs) {
  return guarded(__func__, [&] {
    auto object = object_of(model);
    require(macs, "macs");
    *macs = object->model.macs();
  });
}

edgert_status edgert_model_input_count(edgert_model* model, size_t* count) {
  return guarded(__func__, [&] {
    auto object = object_of(model);
    require(count, "count");
    *count = object->model.inputs().size();
  });
}

edgert_status edgert_model_output_count(edgert_model* model, size_t* count) {
  return guarded(__func__, [&] {
    auto object = object_of(model);
    require(count, "count");
    *count = object->model.outputs().size();
  });
}

edgert_status edgert_model_input_info(edgert_model* model, size_t index, edgert_tensor_info* info) {
  return guarded(__func__, [&] {
    auto object = object_of(model);
    require(info, "info");
    fill_tensor_info(info_at(object->model.inputs(), index, "input"), *info);
  });
}

edgert_status edgert_model_output_info(edgert_model* model, size_t index, edgert_tensor_info* info) {
  return guarded(__func__, [&] {
    auto object = object_of(model);
    require(info, "info");
    fill_tensor_info(info_at(object->model.outputs(), index, "output"), *info);
  });
}

}  // extern "C"
