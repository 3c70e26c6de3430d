// edgert conformance: runs ONNX backend tests through the engine's reference interpreter.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli.hpp"
#include "engine/conformance.hpp"

namespace edgert::cli {

namespace {

constexpr const char* default_suite = "/usr/share/libonnx-testdata/data";

struct conformance_args {
  std::vector<std::string> dirs;
  std::string filter;
  bool json = false;
  bool failures_only = false;
  bool in_process = false;
};

std::string status_word(engine::test_status s) {
  switch (s) {
    case engine::test_status::pass: return "PASS";
    case engine::test_status::fail: return "FAIL";
    case engine::test_status::unsupported: return "UNSUPPORTED";
  }
  return "FAIL";
}

int run_conformance_command(const conformance_args& args) {
  std::vector<std::filesystem::path> roots;
  if (args.dirs.empty()) {
    for (const char* folder : {"node", "pytorch-converted", "pytorch-operator", "simple"})
      roots.emplace_back(std::filesystem::path(default_suite) / folder);
  } else {
    roots.assign(args.dirs.begin(), args.dirs.end());
  }
  auto tests = engine::list_backend_tests(roots);
  if (!tests) {
    std::cerr << "edgert: " << to_string(tests.code()) << ": " << tests.error().message << "\n";
    return exit_error;
  }

  engine::conformance_options options;
  options.filter = args.filter;
  options.isolate = !args.in_process;
  if (!args.json)
    options.on_result = [&args](const engine::test_outcome& o) {
      if (args.failures_only && o.status == engine::test_status::pass) return;
      std::cout << status_word(o.status) << " " << o.name;
      if (!o.reason.empty()) std::cout << ": " << o.reason;
      std::cout << std::endl;
    };
  auto summary = engine::run_conformance(*tests, options);
  if (!summary) {
    std::cerr << "edgert: " << to_string(summary.code()) << ": " << summary.error().message << "\n";
    return summary.code() == errc::invalid_argument ? exit_usage : exit_error;
  }

  if (args.json) {
    // Ordered, so the counts come first as documented.
    nlohmann::ordered_json doc;
    doc["passed"] = summary->passed;
    doc["failed"] = summary->failed;
    doc["unsupported"] = summary->unsupported;
    doc["tests"] = nlohmann::ordered_json::array();
    for (const auto& t : summary->tests) {
      if (args.failures_only && t.status == engine::test_status::pass) continue;
      nlohmann::ordered_json entry;
      entry["name"] = t.name;
      entry["status"] = engine::to_string(t.status);
      entry["reason"] = t.reason;
      doc["tests"].push_back(std::move(entry));
    }
    std::cout << doc.dump(2) << std::endl;
  } else {
    std::cout << "passed " << summary->passed << ", failed " << summary->failed << ", unsupported "
              << summary->unsupported << std::endl;
  }
  return exit_ok;
}

}  // namespace

void add_conformance_command(CLI::App& app, const global_options&, int& status) {
  auto* cmd = app.add_subcommand(
      "conformance",
      "run ONNX backend tests (default: the node, pytorch-converted, pytorch-operator and simple "
      "folders of " + std::string(default_suite) + ") through the reference interpreter");
  auto args = std::make_shared<conformance_args>();
  cmd->add_option("dirs", args->dirs,
                  "test roots: a suite data directory, one of its folders, or a single test");
  cmd->add_option("--filter", args->filter, "run only tests whose name matches this regex");
  cmd->add_flag("--json", args->json, "print one JSON document instead of lines");
  cmd->add_flag("--failures", args->failures_only, "list only tests that did not pass");
  cmd->add_flag("--in-process", args->in_process,
                "run tests in this process instead of a forked worker process (a crashing "
                "kernel then ends the run)");
  cmd->callback([&status, args] { status = guarded([&] { return run_conformance_command(*args); }); });
}

}  // namespace edgert::cli
