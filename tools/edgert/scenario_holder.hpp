// Another process holding a lease, for the scenario steps spawn_holder and kill_holder:
// `edgert connect DEVICE --hold 600` started from this same binary with the scenario's
// system and runtime directory, so the two processes contend for the same leases.
//
// Called from the scenario's controlling thread only.
#pragma once

#include <sys/types.h>

#include <string>

namespace edgert::cli {

struct holder_command {
  std::string system;
  std::string runtime_dir;
  std::string board_configs;  // empty: the default
  std::string device;         // dev:X, dev:X:Y or dev:X:Y-Z
  unsigned sub_devices = 0;   // 0: as `edgert connect` decides
};

/// Starts the holder and waits until it holds its lease or has failed. Returns "ok" (and
/// the process id in `pid`), "device_in_use" when the lease was taken, or "internal_error".
std::string spawn_lease_holder(const holder_command& command, pid_t& pid);
/// Kills the holder with SIGKILL (a crash: it releases nothing itself) and reaps it.
void kill_lease_holder(pid_t pid);

}  // namespace edgert::cli
