// temp_dir: a fresh directory for one test, removed with everything in it on destruction.
// Tests use one as their runtime directory so leases and board state never leak between
// tests that ctest runs in parallel.
#pragma once

#include <filesystem>

namespace edgert::test {

class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

/// The board_configs/ folder of the source tree.
inline std::filesystem::path board_config_dir() { return EDGERT_TEST_BOARD_CONFIG_DIR; }
/// Where the build put its programs (edgert, test helpers).
inline std::filesystem::path bin_dir() { return EDGERT_TEST_BIN_DIR; }

}  // namespace edgert::test
