// edgert run: one inference of a model on a device, inputs from .npy files (or random,
// said so), outputs printed and optionally written as DIR/NAME.npy.
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cli.hpp"
#include "tensor_fill.hpp"

namespace edgert::cli {

namespace {

struct run_args {
  std::string model;
  std::string device = "host";
  std::vector<std::string> inputs;  // NAME=FILE.npy
  std::string output_dir;
  unsigned threads = 1;
  bool json = false;
  std::string profile;  // --profile: Chrome-trace JSON of the request
  bool isolate = false;  // --isolate: compute in a worker process
};

std::map<std::string, std::string> parse_input_files(const std::vector<std::string>& specs) {
  std::map<std::string, std::string> files;
  for (auto& spec : specs) {
    auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
      throw InvalidArgument("--input takes NAME=FILE.npy, not '" + spec + "'");
    files[spec.substr(0, eq)] = spec.substr(eq + 1);
  }
  return files;
}

int run_command(const global_options& g, const run_args& args) {
  // The served model records the request's spans and writes them when it closes.
  if (!args.profile.empty()) setenv("EDGERT_PROFILE", args.profile.c_str(), 1);
  Context ctx(g.context_options());
  auto model = ctx.load_model(args.model);
  auto files = parse_input_files(args.inputs);

  std::vector<Tensor> inputs;
  std::vector<std::string> sources;
  for (std::size_t i = 0; i < model.inputs().size(); ++i) {
    const auto& info = model.inputs()[i];
    auto file = files.find(info.name);
    if (file != files.end()) {
      inputs.push_back(load_npy(file->second));
      sources.push_back(file->second);
      files.erase(file);
    } else {
      inputs.push_back(random_tensor(info, 0x5eed + i));
      sources.push_back("random (seed " + std::to_string(0x5eed + i) + ")");
      if (!args.json)
        std::cerr << "edgert: no --input for '" << info.name << "': using random values\n";
    }
  }
  if (!files.empty())
    throw InvalidArgument("model " + model.name() + " has no input named '" + files.begin()->first + "'");

  RunnerOptions options;
  options.device = args.device;
  options.threads = args.threads;
  options.supervision.process_isolation = args.isolate;
  auto runner = ctx.create_runner(model, options);
  const auto start = std::chrono::steady_clock::now();
  auto outputs = runner.run(inputs);
  const auto took = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);

  if (!args.output_dir.empty()) std::filesystem::create_directories(args.output_dir);
  nlohmann::json out_json = nlohmann::json::array();
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const auto& info = model.outputs()[i];
    std::string file;
    if (!args.output_dir.empty()) {
      file = (std::filesystem::path(args.output_dir) / (info.name + ".npy")).string();
      save_npy(file, outputs[i]);
    }
    const auto stats = summarize(outputs[i]);
    out_json.push_back({{"name", info.name}, {"dtype", to_string(outputs[i].dtype())},
                        {"shape", outputs[i].shape()}, {"file", file}, {"min", stats.min},
                        {"max", stats.max}, {"mean", stats.mean}, {"argmax", stats.argmax}});
  }
  if (args.json) {
    nlohmann::json in_json = nlohmann::json::array();
    for (std::size_t i = 0; i < inputs.size(); ++i)
      in_json.push_back({{"name", model.inputs()[i].name}, {"source", sources[i]}});
    print_json({{"model", model.name()}, {"device", args.device}, {"latency_ms", took.count()},
                {"inputs", in_json}, {"outputs", out_json}});
    return exit_ok;
  }
  std::cout << "model   " << model.name() << "\ndevice  " << args.device << "\nlatency "
            << took.count() << " ms\n";
  for (std::size_t i = 0; i < inputs.size(); ++i)
    std::cout << "input   " << model.inputs()[i].name << " " << to_string(inputs[i].dtype())
              << to_string(inputs[i].shape()) << " from " << sources[i] << "\n";
  for (auto& o : out_json) {
    std::cout << "output  " << o["name"].get<std::string>() << " " << o["dtype"].get<std::string>()
              << to_string(o["shape"].get<Shape>()) << "  min " << o["min"].get<double>() << "  max "
              << o["max"].get<double>() << "  mean " << o["mean"].get<double>() << "  argmax "
              << o["argmax"].get<std::int64_t>();
    if (!o["file"].get<std::string>().empty()) std::cout << "  -> " << o["file"].get<std::string>();
    std::cout << "\n";
  }
  return exit_ok;
}

}  // namespace

void add_run_command(CLI::App& app, const global_options& g, int& status) {
  auto* cmd = app.add_subcommand("run", "run one inference of a model on a device");
  auto args = std::make_shared<run_args>();
  cmd->add_option("MODEL", args->model, "the ONNX model file")->required();
  cmd->add_option("--device", args->device, "device spec (default host; see docs/device-specs.md)");
  cmd->add_option("--input", args->inputs,
                  "NAME=FILE.npy for an input (repeatable); inputs not given get random values");
  cmd->add_option("--output-dir", args->output_dir, "write each output as DIR/NAME.npy");
  cmd->add_option("--threads", args->threads, "compute threads (default 1)")
      ->check(CLI::Range(1, 256));
  cmd->add_flag("--json", args->json, "print JSON");
  cmd->add_flag("--isolate", args->isolate, "compute in a worker process (process isolation)");
  cmd->add_option("--profile", args->profile,
                  "write the request's spans as Chrome-trace JSON to FILE (as EDGERT_PROFILE=FILE)");
  cmd->callback([&g, &status, args] { status = guarded([&] { return run_command(g, *args); }); });
}

}  // namespace edgert::cli
