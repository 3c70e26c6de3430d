#include "api/model_core.hpp"

#include "api/unwrap.hpp"
#include "engine/onnx_loader.hpp"

namespace edgert {

DType to_public(engine::dtype t) noexcept {
  return t == engine::dtype::string ? DType::undefined : static_cast<DType>(static_cast<int>(t));
}

engine::dtype to_engine(DType t) noexcept { return static_cast<engine::dtype>(static_cast<int>(t)); }

namespace {

TensorInfo public_info(const engine::tensor_info& e) {
  TensorInfo t;
  t.name = e.name;
  t.dtype = to_public(e.type);
  t.shape = e.shape;
  t.unpadded_shape = e.unpadded_shape.empty() ? e.shape : e.unpadded_shape;
  t.layout = e.layout;
  if (e.quantization)
    t.quantization = Quantization{e.quantization->scale, e.quantization->zero_point};
  for (auto& p : e.padding) t.padding.push_back(Padding{p.before, p.after});
  return t;
}

std::shared_ptr<model_core> finish(std::shared_ptr<const engine::graph> g,
                                   engine::model_info info) {
  auto core = std::make_shared<model_core>();
  core->graph = std::move(g);
  core->info = std::move(info);
  for (auto& i : core->info.inputs) core->inputs.push_back(public_info(i));
  for (auto& o : core->info.outputs) core->outputs.push_back(public_info(o));
  return core;
}

}  // namespace

result<std::shared_ptr<const engine::plan>> model_core::plan_for(unsigned threads) const {
  std::lock_guard<std::mutex> guard(plans_mutex_);
  auto found = plans_.find(threads);
  if (found != plans_.end()) return found->second;
  engine::plan_options options;
  options.threads = static_cast<int>(threads);
  auto made = engine::plan::create(graph, options);
  if (!made) return made.error();
  plans_.emplace(threads, *made);
  return *made;
}

std::shared_ptr<const model_core> load_model_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw InvalidArgument("model file " + path.string() + " does not exist or is not a file");
  std::shared_ptr<const engine::graph> g;
  auto info = unwrap(engine::describe_model_file(path, &g));
  return finish(std::move(g), std::move(info));
}

std::shared_ptr<const model_core> load_model_bytes(const std::string& bytes,
                                                   const std::filesystem::path& base_dir) {
  auto g = unwrap(engine::load_onnx_bytes(bytes, base_dir));
  auto header = unwrap(engine::read_model_header(bytes));
  auto info = unwrap(engine::describe_graph(g, header));
  auto core = finish(std::make_shared<const engine::graph>(std::move(g)), std::move(info));
  core->source_bytes = std::make_shared<const std::string>(bytes);
  core->base_dir = base_dir;
  return core;
}

}  // namespace edgert
