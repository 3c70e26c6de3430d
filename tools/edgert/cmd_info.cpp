// edgert info: describes a model file (inputs, outputs, ops, parameters, MACs) without a
// device. Reads the manifest.json beside the model when there is one. Runs on the main
// thread and plans the model once (reference kernels) for its MAC count.
#include <iostream>
#include <memory>
#include <string>

#include "cli.hpp"
#include "engine/model_info.hpp"
#include "engine/plan.hpp"

namespace edgert::cli {

namespace {

struct info_args {
  std::string model;
  bool json = false;
};

int run_info_command(const info_args& args) {
  std::shared_ptr<const engine::graph> graph;
  auto info = engine::describe_model_file(args.model, &graph);
  if (!info) {
    std::cerr << "edgert: " << to_string(info.code()) << ": " << info.error().message << "\n";
    // A model that cannot be read or understood is a bad argument to this command.
    switch (info.code()) {
      case errc::io_error:
      case errc::invalid_argument:
      case errc::not_implemented: return exit_usage;
      default: return exit_error;
    }
  }
  // The plan's MACs see the graph after folding and fusion. Planning with the reference
  // kernels skips weight reordering; a model the engine cannot plan keeps the counted MACs.
  engine::plan_options options;
  options.fast_kernels = false;
  if (auto planned = engine::plan::create(graph, options)) engine::apply_plan_cost(*info, (*planned)->cost());
  std::cout << (args.json ? engine::model_summary_json(*info) + "\n" : engine::model_summary(*info))
            << std::flush;
  return exit_ok;
}

}  // namespace

void add_info_command(CLI::App& app, const global_options&, int& status) {
  auto* cmd = app.add_subcommand(
      "info", "describe a model: inputs and outputs (type, shape, layout, bytes, quantization), "
              "op counts, parameters and MACs");
  auto args = std::make_shared<info_args>();
  cmd->add_option("model", args->model, "the ONNX model file (a manifest.json beside it is read too)")
      ->required();
  cmd->add_flag("--json", args->json, "print one JSON document instead of text");
  cmd->callback([&status, args] { status = guarded([&] { return run_info_command(*args); }); });
}

}  // namespace edgert::cli
