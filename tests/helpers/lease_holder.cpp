// lease_holder: a test helper that holds a lease from a separate process.
//
// Usage: lease_holder <runtime_dir> <board_id> <sub_devices>
//   <sub_devices> is a comma-separated list, e.g. "0,2".
// Acquires the lease, prints "held" on stdout and flushes, then keeps the lease until it is
// killed or its stdin reaches end-of-file. On failure it prints "failed: <reason>" and
// exits with status 1; on a usage error it exits with status 2.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "drivers/lease_registry.hpp"

namespace {

bool parse_sub_devices(const std::string& text, std::vector<unsigned>& out) {
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, comma - start);
    if (item.empty()) return false;
    char* rest = nullptr;
    const unsigned long value = std::strtoul(item.c_str(), &rest, 10);
    if (*rest != '\0') return false;
    out.push_back(static_cast<unsigned>(value));
    start = comma + 1;
  }
  return !out.empty();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<unsigned> sub_devices;
  if (argc != 4 || !parse_sub_devices(argv[3], sub_devices)) {
    std::fprintf(stderr, "usage: lease_holder <runtime_dir> <board_id> <sub_devices>\n");
    return 2;
  }
  auto registry = edgert::lease_registry::open(argv[1]);
  if (!registry) {
    std::printf("failed: %s\n", registry.error().message.c_str());
    return 1;
  }
  auto held = (*registry)->acquire(argv[2], sub_devices,
                                   edgert::lease_holder::current_process());
  if (!held) {
    std::printf("failed: %s\n", held.error().message.c_str());
    return 1;
  }
  std::printf("held\n");
  std::fflush(stdout);

  // The lease lives until this process ends: killed, or its parent closes our stdin.
  char buffer[256];
  for (;;) {
    const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (n == 0) break;
    if (n < 0 && errno != EINTR) break;
  }
  return 0;
}
