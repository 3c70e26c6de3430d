// scratch_dir: a fresh temporary directory for one benchmark run, removed with everything
// in it when the object goes. Benchmarks use it as the Context's runtime directory so they
// neither see nor disturb leases and board state of the machine's real runtime directory.
// Owned by main; used only from the main thread.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "edgert/context.hpp"

class scratch_dir {
 public:
  scratch_dir() {
    auto pattern = (std::filesystem::temp_directory_path() / "edgert-bench-XXXXXX").string();
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (!mkdtemp(buffer.data())) throw std::runtime_error("mkdtemp failed");
    path_ = buffer.data();
  }
  ~scratch_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// Options for a Context whose only device is the host CPU, with `dir` as its runtime directory.
inline edgert::ContextOptions host_only_options(const scratch_dir& dir) {
  edgert::ContextOptions options;
  options.system = "host";
  options.runtime_dir = dir.path().string();
  return options;
}
