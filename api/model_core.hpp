// model_core: what a Model handle shares: the loaded graph, its description, and the
// compiled plans (one per compute-thread count, compiled on first use).
//
// Ownership and threads: shared by Model handles and by every runner serving the model;
// immutable after load except the plan cache, which is guarded by its mutex.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "edgert/tensor.hpp"
#include "engine/graph.hpp"
#include "engine/model_info.hpp"
#include "engine/plan.hpp"

namespace edgert {

struct model_core {
  std::shared_ptr<const engine::graph> graph;
  engine::model_info info;
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  /// Where the model came from, for a worker process to load it again (process isolation):
  /// info.path for a model file; for a model given as bytes, those bytes and the folder
  /// its external data resolves against.
  std::shared_ptr<const std::string> source_bytes;
  std::filesystem::path base_dir;

  /// The compiled plan for `threads` compute threads per run.
  result<std::shared_ptr<const engine::plan>> plan_for(unsigned threads) const;

 private:
  mutable std::mutex plans_mutex_;
  mutable std::map<unsigned, std::shared_ptr<const engine::plan>> plans_;
};

/// Loads a model file (and its manifest.json, if any). Throws like the facade.
std::shared_ptr<const model_core> load_model_file(const std::filesystem::path& path);
/// Loads a serialised ModelProto; external data resolves against `base_dir`.
std::shared_ptr<const model_core> load_model_bytes(const std::string& bytes,
                                                   const std::filesystem::path& base_dir);

DType to_public(engine::dtype t) noexcept;
engine::dtype to_engine(DType t) noexcept;

}  // namespace edgert
