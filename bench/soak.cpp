// soak: three models on two simulated boards under random, seeded faults of every kind
// (bench/soak_run.hpp). Prints the request counts, each error count, duplicates, hangs and
// resident memory after warm-up and at the end. Exits 1 when a request was lost, hung or
// completed twice.
//
//   soak [--requests N] [--seed S] [--models DIR] [--messages]
//
// --messages also prints how often each distinct error message occurred, per model.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "bench/soak_run.hpp"

namespace {

std::filesystem::path default_models_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return exe.parent_path() / ".." / "share" / "edgert" / "examples";
}

}  // namespace

int main(int argc, char** argv) {
  edgert::soak::soak_options o;
  bool messages = false;
  o.models_dir = default_models_dir();
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--requests" && i + 1 < argc)
      o.requests = std::stoull(argv[++i]);
    else if (arg == "--seed" && i + 1 < argc)
      o.seed = std::stoull(argv[++i]);
    else if (arg == "--messages")
      messages = true;
    else if (arg == "--models" && i + 1 < argc)
      o.models_dir = argv[++i];
    else {
      std::fprintf(stderr, "usage: soak [--requests N] [--seed S] [--models DIR] [--messages]\n");
      return 2;
    }
  }
  try {
    auto r = edgert::soak::run_soak(o);
    std::printf("soak: %llu requests, seed %llu, %.2f s\n",
                static_cast<unsigned long long>(o.requests), static_cast<unsigned long long>(o.seed),
                r.seconds);
    std::printf("submitted        %llu\n", static_cast<unsigned long long>(r.submitted));
    std::printf("results          %llu\n", static_cast<unsigned long long>(r.results));
    for (auto& [code, n] : r.errors)
      std::printf("errors %-10s %llu\n", code.c_str(), static_cast<unsigned long long>(n));
    for (auto& [code, message] : r.first_message)
      std::printf("first %-10s %s\n", code.c_str(), message.c_str());
    if (messages)
      for (auto& [m, n] : r.messages)
        std::printf("  %6llu x %s\n", static_cast<unsigned long long>(n), m.c_str());
    for (auto& [model, n] : r.results_by_model)
      std::printf("results of %-5s %llu\n", model.c_str(), static_cast<unsigned long long>(n));
    for (auto& state : r.device_states) std::printf("device %s\n", state.c_str());
    std::printf("errors total     %llu\n", static_cast<unsigned long long>(r.errors_total()));
    std::printf("results+errors   %llu (%s)\n",
                static_cast<unsigned long long>(r.results + r.errors_total()),
                r.results + r.errors_total() == r.submitted ? "= submitted" : "!= submitted");
    std::printf("duplicates       %llu\n", static_cast<unsigned long long>(r.duplicates));
    std::printf("hangs            %llu\n", static_cast<unsigned long long>(r.hangs));
    std::printf("reconfigurations %llu (operator resets %llu)\n",
                static_cast<unsigned long long>(r.reconfigurations),
                static_cast<unsigned long long>(r.operator_resets));
    std::printf("worker crashes   %llu injected into model c's worker processes\n",
                static_cast<unsigned long long>(r.worker_crashes));
    std::printf("rss after warmup %llu KiB\n", static_cast<unsigned long long>(r.rss_after_warmup_kib));
    std::printf("rss at end       %llu KiB\n", static_cast<unsigned long long>(r.rss_end_kib));
    const bool sound = r.duplicates == 0 && r.hangs == 0 &&
                       r.results + r.errors_total() == r.submitted;
    return sound ? 0 : 1;
  } catch (const edgert::Error& e) {
    std::fprintf(stderr, "soak: %s: %s\n", std::string(to_string(e.code())).c_str(), e.what());
    return 1;
  }
}
