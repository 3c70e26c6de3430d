// lease_holder: the identity a lease records for whoever holds it.
#include <pwd.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "drivers/lease_registry.hpp"

namespace edgert {

namespace {

constexpr std::size_t max_program_chars = 120;

std::string user_name() {
  const uid_t uid = ::getuid();
  long size_hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(size_hint > 0 ? static_cast<std::size_t>(size_hint) : 4096);
  passwd entry{};
  passwd* found = nullptr;
  if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr &&
      found->pw_name != nullptr && found->pw_name[0] != '\0') {
    return found->pw_name;
  }
  return std::to_string(uid);
}

// The command line of this process: the basename of argv[0] followed by the arguments,
// separated by spaces, cut to max_program_chars so a lease file stays one short line.
std::string program_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  std::string current;
  for (char c : raw) {
    if (c == '\0') {
      args.push_back(current);
      current.clear();
    } else {
      current += (c == '\n' || c == '\r') ? ' ' : c;
    }
  }
  if (!current.empty()) args.push_back(current);
  if (args.empty() || args.front().empty()) return "unknown";

  const auto slash = args.front().rfind('/');
  std::string line = slash == std::string::npos ? args.front() : args.front().substr(slash + 1);
  for (std::size_t i = 1; i < args.size(); ++i) line += ' ' + args[i];
  if (line.size() > max_program_chars) line = line.substr(0, max_program_chars - 3) + "...";
  return line;
}

std::string utc_now_iso8601() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  ::gmtime_r(&now, &utc);
  char text[32];
  if (std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc) == 0) return "unknown";
  return text;
}

}  // namespace

std::string lease_holder::describe() const {
  return "pid " + std::to_string(pid) + " (user " + user + ", program " + program + ", since " +
         since + ")";
}

lease_holder lease_holder::current_process() {
  lease_holder self;
  self.pid = static_cast<long>(::getpid());
  self.user = user_name();
  self.program = program_command_line();
  self.since = utc_now_iso8601();
  return self;
}

}  // namespace edgert
