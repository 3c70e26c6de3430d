// lease_registry: sub-device leases as open-file-description locks on per-sub-device files.
//
// Every lock file holds, while leased, the holder's identity as "key=value" lines
// (pid, user, program, since). The lock covers the whole file and belongs to the open file
// description, so two opens in one process conflict with each other just as two processes
// do, and closing the descriptor (or dying) releases it.
#include "drivers/lease_registry.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

namespace edgert {

namespace {

// How often, and how far apart, a reader retries a lock file that a new holder has locked
// but not written yet.
constexpr int holder_read_attempts = 10;
constexpr auto holder_read_pause = std::chrono::milliseconds(1);

std::string one_line(std::string value) {
  std::replace(value.begin(), value.end(), '\n', ' ');
  std::replace(value.begin(), value.end(), '\r', ' ');
  return value;
}

std::string holder_text(const lease_holder& holder) {
  return "pid=" + std::to_string(holder.pid) + "\nuser=" + one_line(holder.user) +
         "\nprogram=" + one_line(holder.program) + "\nsince=" + one_line(holder.since) + "\n";
}

// Parses holder_text(); nothing when the text is empty, cut short or not a holder at all.
std::optional<lease_holder> parse_holder_text(const std::string& text) {
  lease_holder holder;
  bool have_pid = false, have_since = false;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) return std::nullopt;  // a line still being written
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq);
    const std::string value = line.substr(eq + 1);
    if (key == "pid") {
      char* rest = nullptr;
      errno = 0;
      const long pid = std::strtol(value.c_str(), &rest, 10);
      if (errno != 0 || rest == value.c_str() || *rest != '\0') return std::nullopt;
      holder.pid = pid;
      have_pid = true;
    } else if (key == "user") {
      holder.user = value;
    } else if (key == "program") {
      holder.program = value;
    } else if (key == "since") {
      holder.since = value;
      have_since = true;
    }
  }
  if (!have_pid || !have_since) return std::nullopt;
  return holder;
}

std::string read_all(int fd) {
  std::string text;
  char buffer[1024];
  off_t offset = 0;
  for (;;) {
    const ssize_t n = ::pread(fd, buffer, sizeof buffer, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    offset += n;
    if (text.size() > 16 * 1024) break;  // not a lease file; stop reading
  }
  return text;
}

// The holder recorded in a locked file. A new holder truncates and then writes the file
// right after locking it, so an empty or partial text is retried for a short while.
lease_holder read_holder(int fd) {
  for (int attempt = 0; attempt < holder_read_attempts; ++attempt) {
    if (auto holder = parse_holder_text(read_all(fd))) return *holder;
    std::this_thread::sleep_for(holder_read_pause);
  }
  lease_holder unknown;
  unknown.user = "unknown";
  unknown.program = "unknown";
  unknown.since = "unknown";
  return unknown;
}

struct flock whole_file_lock(short type) {
  struct flock lock{};
  lock.l_type = type;
  lock.l_whence = SEEK_SET;
  lock.l_start = 0;
  lock.l_len = 0;  // to the end of the file, however long it grows
  lock.l_pid = 0;  // required by the OFD commands
  return lock;
}

bool write_holder(int fd, const lease_holder& holder) {
  const std::string text = holder_text(holder);
  if (::ftruncate(fd, 0) != 0) return false;
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::pwrite(fd, text.data() + written, text.size() - written,
                               static_cast<off_t>(written));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    written += static_cast<std::size_t>(n);
  }
  return true;
}

void close_all(std::vector<int>& fds) noexcept {
  for (int fd : fds) ::close(fd);
  fds.clear();
}

std::string errno_text(int error) { return std::generic_category().message(error); }

}  // namespace

lease::lease(std::string board, std::vector<unsigned> sub_devices, std::vector<int> fds)
    : board_(std::move(board)), sub_devices_(std::move(sub_devices)), fds_(std::move(fds)) {}

lease::lease(lease&& other) noexcept
    : board_(std::move(other.board_)),
      sub_devices_(std::move(other.sub_devices_)),
      fds_(std::exchange(other.fds_, {})) {}

lease& lease::operator=(lease&& other) noexcept {
  if (this != &other) {
    release();
    board_ = std::move(other.board_);
    sub_devices_ = std::move(other.sub_devices_);
    fds_ = std::exchange(other.fds_, {});
  }
  return *this;
}

lease::~lease() { release(); }

void lease::release() noexcept { close_all(fds_); }

result<std::shared_ptr<lease_registry>> lease_registry::open(
    const std::filesystem::path& runtime_dir) {
  const auto dir = runtime_dir / "leases";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir, ec)) {
    return fail(errc::io_error, "cannot create the lease directory " + dir.string() + ": " +
                                    (ec ? ec.message() : "not a directory"));
  }
  return std::shared_ptr<lease_registry>(new lease_registry(dir));
}

std::filesystem::path lease_registry::default_runtime_dir() {
  if (const char* dir = std::getenv("EDGERT_RUNTIME_DIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg != nullptr && *xdg != '\0') {
    return std::filesystem::path(xdg) / "edgert";
  }
  std::error_code ec;
  std::filesystem::path temp = std::filesystem::temp_directory_path(ec);
  if (ec) temp = "/tmp";
  return temp / ("edgert-" + std::to_string(::getuid()));
}

std::filesystem::path lease_registry::lock_file(const std::string& board,
                                                unsigned sub_device) const {
  return dir_ / (board + "." + std::to_string(sub_device) + ".lock");
}

result<lease> lease_registry::acquire(const std::string& board,
                                      const std::vector<unsigned>& sub_devices,
                                      const lease_holder& holder) const {
  if (board.empty() || board.find('/') != std::string::npos || board.front() == '.') {
    return fail(errc::invalid_argument, "'" + board + "' is not a valid board id for a lease");
  }
  if (sub_devices.empty()) {
    return fail(errc::invalid_argument, board + ": a lease needs at least one sub-device");
  }
  // A sub-device listed twice is leased once; opening its file twice would conflict.
  std::vector<unsigned> wanted;
  for (unsigned sub : sub_devices) {
    if (std::find(wanted.begin(), wanted.end(), sub) == wanted.end()) wanted.push_back(sub);
  }

  std::vector<int> fds;
  for (unsigned sub : wanted) {
    const auto path = lock_file(board, sub);
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
      const int error = errno;
      close_all(fds);
      return fail(errc::io_error, "cannot open lease file " + path.string() + ": " +
                                      errno_text(error));
    }
    // Other users may read who holds the lease whatever this process's umask is; the call
    // fails harmlessly on a file another user created.
    (void)::fchmod(fd, 0666);

    struct flock lock = whole_file_lock(F_WRLCK);
    if (::fcntl(fd, F_OFD_SETLK, &lock) != 0) {
      const int error = errno;
      if (error == EAGAIN || error == EACCES) {
        const lease_holder other = read_holder(fd);
        ::close(fd);
        close_all(fds);
        return fail(errc::device_in_use, board + " sub-device " + std::to_string(sub) +
                                             " is in use by " + other.describe());
      }
      ::close(fd);
      close_all(fds);
      return fail(errc::io_error,
                  "cannot lock lease file " + path.string() + ": " + errno_text(error));
    }
    if (!write_holder(fd, holder)) {
      const int error = errno;
      ::close(fd);
      close_all(fds);
      return fail(errc::io_error,
                  "cannot write lease file " + path.string() + ": " + errno_text(error));
    }
    fds.push_back(fd);
  }
  return lease(board, std::move(wanted), std::move(fds));
}

std::optional<lease_holder> lease_registry::holder_of(const std::string& board,
                                                      unsigned sub_device) const {
  if (board.empty() || board.find('/') != std::string::npos) return std::nullopt;
  const auto path = lock_file(board, sub_device);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;  // never leased, so free

  struct flock probe = whole_file_lock(F_WRLCK);
  std::optional<lease_holder> holder;
  if (::fcntl(fd, F_OFD_GETLK, &probe) == 0 && probe.l_type != F_UNLCK) {
    holder = read_holder(fd);
  }
  ::close(fd);
  return holder;
}

}  // namespace edgert
