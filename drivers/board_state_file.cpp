// board_state_file: key=value form of a board snapshot, atomic replacement and locking.
#include "drivers/board_state_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <map>
#include <system_error>
#include <utility>

namespace edgert {

namespace {

constexpr std::string_view format_tag = "edgert-board-state-1";

std::int64_t mtime_ns(const struct stat& info) noexcept {
  return static_cast<std::int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec;
}

void append_settings(std::string& text, const std::string& prefix,
                     const sim::board_settings& settings) {
  text += prefix + ".clock_profile_mhz=" + std::to_string(settings.clock_profile_mhz) + "\n";
  text += prefix + ".cores=" + std::to_string(settings.cores.size()) + "\n";
  for (std::size_t i = 0; i < settings.cores.size(); ++i) {
    const std::string core = prefix + ".core." + std::to_string(i);
    text += core + ".clock_mhz=" + std::to_string(settings.cores[i].clock_mhz) + "\n";
    text += core + ".mvm_utilisation_pct=" +
            std::to_string(settings.cores[i].mvm_utilisation_pct) + "\n";
  }
}

template <class Number>
bool parse_number(const std::map<std::string, std::string>& values, const std::string& key,
                  Number& out) {
  const auto found = values.find(key);
  if (found == values.end()) return false;
  const std::string& text = found->second;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc{} && end == text.data() + text.size();
}

bool parse_settings(const std::map<std::string, std::string>& values, const std::string& prefix,
                    sim::board_settings& settings) {
  unsigned cores = 0;
  if (!parse_number(values, prefix + ".clock_profile_mhz", settings.clock_profile_mhz) ||
      !parse_number(values, prefix + ".cores", cores) || cores > 4096) {
    return false;
  }
  settings.cores.resize(cores);
  for (unsigned i = 0; i < cores; ++i) {
    const std::string core = prefix + ".core." + std::to_string(i);
    if (!parse_number(values, core + ".clock_mhz", settings.cores[i].clock_mhz) ||
        !parse_number(values, core + ".mvm_utilisation_pct",
                      settings.cores[i].mvm_utilisation_pct)) {
      return false;
    }
  }
  return true;
}

bool write_all(int fd, const std::string& text) {
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    written += static_cast<std::size_t>(n);
  }
  return true;
}

failure io_failure(const std::string& what, const std::filesystem::path& file, int error) {
  return fail(errc::io_error,
              what + " " + file.string() + ": " + std::generic_category().message(error));
}

}  // namespace

std::string format_board_snapshot(const sim::board_snapshot& snapshot) {
  std::string text = "format=" + std::string(format_tag) + "\n";
  append_settings(text, "applied", snapshot.applied);
  text += std::string("pending=") + (snapshot.pending ? "true" : "false") + "\n";
  if (snapshot.pending) append_settings(text, "pending", *snapshot.pending);
  text += "settles_at_ns=" + std::to_string(snapshot.settles_at.count()) + "\n";
  return text;
}

std::optional<sim::board_snapshot> parse_board_snapshot(std::string_view text) {
  std::map<std::string, std::string> values;
  while (!text.empty()) {
    const auto end = text.find('\n');
    if (end == std::string_view::npos) return std::nullopt;  // a cut-off last line
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    values.emplace(std::string(line.substr(0, eq)), std::string(line.substr(eq + 1)));
  }
  const auto tag = values.find("format");
  if (tag == values.end() || tag->second != format_tag) return std::nullopt;

  std::optional<sim::board_snapshot> snapshot(std::in_place);
  if (!parse_settings(values, "applied", snapshot->applied)) return std::nullopt;

  const auto pending = values.find("pending");
  if (pending == values.end()) return std::nullopt;
  if (pending->second == "true") {
    if (!parse_settings(values, "pending", snapshot->pending.emplace())) return std::nullopt;
  } else if (pending->second != "false") {
    return std::nullopt;
  }
  std::int64_t settles_at = 0;
  if (!parse_number(values, "settles_at_ns", settles_at)) return std::nullopt;
  snapshot->settles_at = sim::sim_time{settles_at};
  return snapshot;
}

std::int64_t board_state_stamp(const std::filesystem::path& file) noexcept {
  struct stat info {};
  if (::stat(file.c_str(), &info) != 0) return -1;
  return mtime_ns(info);
}

std::optional<sim::board_snapshot> read_board_state(const std::filesystem::path& file,
                                                    std::int64_t& stamp) {
  stamp = -1;
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat info {};
  std::string text;
  if (::fstat(fd, &info) == 0) {
    // The descriptor pins the version it opened, so this stamp names exactly that text.
    stamp = mtime_ns(info);
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      text.append(buffer, static_cast<std::size_t>(n));
      if (text.size() > (1u << 20)) break;
    }
  }
  ::close(fd);
  return parse_board_snapshot(text);
}

result<std::int64_t> write_board_state(const std::filesystem::path& file,
                                       const sim::board_snapshot& snapshot) {
  const std::filesystem::path temp = file.string() + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return io_failure("cannot create", temp, errno);
  (void)::fchmod(fd, 0666);  // every user of the machine shares the simulated board

  struct stat written {};
  bool ok = write_all(fd, format_board_snapshot(snapshot)) && ::fstat(fd, &written) == 0;
  if (ok) {
    // File times come from a coarse clock, so two versions written within one tick could
    // share an mtime; bump the new one past the old so readers always see the change.
    const std::int64_t previous = board_state_stamp(file);
    if (previous >= 0 && mtime_ns(written) <= previous) {
      const std::int64_t bumped = previous + 1;
      struct timespec times[2];
      times[0].tv_sec = 0;
      times[0].tv_nsec = UTIME_OMIT;
      times[1].tv_sec = static_cast<time_t>(bumped / 1'000'000'000);
      times[1].tv_nsec = static_cast<long>(bumped % 1'000'000'000);
      ok = ::futimens(fd, times) == 0 && ::fstat(fd, &written) == 0;
    }
  }
  const int error = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(temp.c_str());
    return io_failure("cannot write", temp, error);
  }
  if (::rename(temp.c_str(), file.c_str()) != 0) {
    const int rename_error = errno;
    ::unlink(temp.c_str());
    return io_failure("cannot replace", file, rename_error);
  }
  return mtime_ns(written);
}

result<board_state_lock> board_state_lock::take(const std::filesystem::path& file) {
  const std::filesystem::path lock_file = file.string() + ".lock";
  const int fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return io_failure("cannot open", lock_file, errno);
  (void)::fchmod(fd, 0666);
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    const int error = errno;
    ::close(fd);
    return io_failure("cannot lock", lock_file, error);
  }
  return board_state_lock(fd);
}

board_state_lock::board_state_lock(board_state_lock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)) {}

board_state_lock& board_state_lock::operator=(board_state_lock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

board_state_lock::~board_state_lock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor drops the flock
}

}  // namespace edgert
