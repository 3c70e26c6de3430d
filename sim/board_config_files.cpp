// Reading board files from disk: one file, or every *.toml in a folder.
//
// These functions touch only the files they are given and keep no state; any thread may
// call them.
#include <algorithm>
#include <fstream>
#include <sstream>
#include <system_error>

#include "sim/board_config.hpp"

namespace edgert::sim {

result<board_config> load_board_config(const std::filesystem::path& file) {
  std::error_code ec;
  const auto status = std::filesystem::status(file, ec);
  if (ec || !std::filesystem::exists(status)) {
    return fail(errc::io_error, "cannot read board file '" + file.string() + "': it does not exist");
  }
  if (!std::filesystem::is_regular_file(status)) {
    return fail(errc::io_error,
                "cannot read board file '" + file.string() + "': it is not a regular file");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in.is_open()) {
    return fail(errc::io_error, "cannot open board file '" + file.string() + "'");
  }
  std::ostringstream text;
  if (in.peek() != std::ifstream::traits_type::eof()) text << in.rdbuf();
  if (in.bad()) return fail(errc::io_error, "cannot read board file '" + file.string() + "'");
  return parse_board_config(text.str(), file.string(), file.stem().string());
}

result<std::vector<board_config>> load_board_configs(const std::filesystem::path& dir) {
  std::error_code ec;
  const auto status = std::filesystem::status(dir, ec);
  if (ec || !std::filesystem::exists(status)) {
    return fail(errc::io_error,
                "board config directory '" + dir.string() + "' does not exist");
  }
  if (!std::filesystem::is_directory(status)) {
    return fail(errc::io_error,
                "board config directory '" + dir.string() + "' is not a directory");
  }

  std::vector<std::filesystem::path> files;
  std::filesystem::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const auto& path = it->path();
    if (path.extension() == ".toml" && it->is_regular_file(ec)) files.push_back(path);
  }
  if (ec) {
    return fail(errc::io_error, "cannot list board config directory '" + dir.string() +
                                    "': " + ec.message());
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
    return a.stem().string() < b.stem().string();
  });

  std::vector<board_config> configs;
  configs.reserve(files.size());
  for (const auto& file : files) {
    auto config = load_board_config(file);
    if (!config) return config.error();
    configs.push_back(std::move(config).value());
  }
  return configs;
}

}  // namespace edgert::sim
