#include "scenario_trace.hpp"

#include <cstdio>
#include <fstream>

#include "edgert/errors.hpp"

namespace edgert::cli {

std::string scenario_trace::format_time(std::chrono::nanoseconds t) {
  const auto ns = t.count();
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%lld.%06lldms", static_cast<long long>(ns / 1'000'000),
                static_cast<long long>(ns % 1'000'000));
  return buffer;
}

void scenario_trace::add(std::chrono::nanoseconds at, const std::string& text) {
  std::string stamp = format_time(at);
  if (stamp.size() < 16) stamp.insert(0, 16 - stamp.size(), ' ');
  text_ += stamp;
  text_ += "  ";
  text_ += text;
  text_ += '\n';
  ++lines_;
}

void scenario_trace::write(const std::filesystem::path& file) const {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  if (!out.is_open()) throw IoError("cannot write trace '" + file.string() + "'");
  out << text_;
  if (!out.good()) throw IoError("cannot write trace '" + file.string() + "'");
}

}  // namespace edgert::cli
