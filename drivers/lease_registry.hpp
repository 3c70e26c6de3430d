// lease_registry: exclusive reservations of sub-devices that hold across processes.
//
// Each sub-device of each board has a lock file <runtime_dir>/leases/<board>.<index>.lock.
// A lease is an open-file-description lock (fcntl F_OFD_SETLK) on that file plus the
// holder's identity written inside it. The kernel drops the lock when the holder's last
// descriptor closes, including when the holder process dies, so a dead holder's lease is
// free again without any clean-up; the stale holder text left in the file is overwritten
// by the next holder. Probing uses F_OFD_GETLK, which never takes the lock, so looking at
// a lease cannot make a concurrent reservation fail.
//
// Thread-safety: a lease_registry is immutable after construction and may be shared by
// every driver of a process; a lease object is owned by one driver.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace edgert {

/// Who holds a lease: written into the lock file by the holder.
struct lease_holder {
  long pid = 0;
  std::string user;
  std::string program;
  std::string since;  // ISO-8601 UTC time the lease was taken
  /// "pid 1234 (user alice, program edgert connect, since 2026-11-22T03:14:29Z)"
  std::string describe() const;
  /// The identity of the calling process.
  static lease_holder current_process();
};

/// An acquired lease on a set of sub-devices of one board. Releasing (or destroying) it
/// frees every sub-device it covers.
class lease {
 public:
  lease() = default;
  lease(std::string board, std::vector<unsigned> sub_devices, std::vector<int> fds);
  lease(lease&& other) noexcept;
  lease& operator=(lease&& other) noexcept;
  lease(const lease&) = delete;
  lease& operator=(const lease&) = delete;
  ~lease();

  const std::string& board() const noexcept { return board_; }
  const std::vector<unsigned>& sub_devices() const noexcept { return sub_devices_; }
  bool held() const noexcept { return !fds_.empty(); }
  void release() noexcept;

 private:
  std::string board_;
  std::vector<unsigned> sub_devices_;
  std::vector<int> fds_;
};

class lease_registry {
 public:
  /// Creates <runtime_dir>/leases if needed; fails with io_error when it cannot.
  static result<std::shared_ptr<lease_registry>> open(const std::filesystem::path& runtime_dir);

  /// The runtime directory used when none is given: $EDGERT_RUNTIME_DIR, else
  /// $XDG_RUNTIME_DIR/edgert, else <temp dir>/edgert-<uid>.
  static std::filesystem::path default_runtime_dir();

  /// Takes every listed sub-device or none. Fails with device_in_use naming the holder
  /// of the first busy sub-device.
  result<lease> acquire(const std::string& board, const std::vector<unsigned>& sub_devices,
                        const lease_holder& holder) const;

  /// The holder of a sub-device's lease, or nothing when it is free. A lease held through
  /// this very process is reported too.
  std::optional<lease_holder> holder_of(const std::string& board, unsigned sub_device) const;

  const std::filesystem::path& directory() const noexcept { return dir_; }

 private:
  explicit lease_registry(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path lock_file(const std::string& board, unsigned sub_device) const;

  std::filesystem::path dir_;
};

}  // namespace edgert
