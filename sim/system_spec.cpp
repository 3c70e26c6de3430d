// A hand-written recursive-descent parser for the system spec grammar of
// sim/system_spec.hpp. Whether a kind exists is not checked here; the driver layer does
// that against the loaded board files. Pure function; any thread may call it.
#include "sim/system_spec.hpp"

#include <cstdint>

namespace edgert::sim {

namespace {

// More boards than this in one process is a typo ("m2*1000"), not a system.
constexpr std::uint64_t max_count = 256;

bool is_space(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'; }
bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }
bool is_kind_char(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || is_digit(ch) || ch == '_' ||
         ch == '-';
}

class spec_parser {
 public:
  explicit spec_parser(std::string_view text) : text_(text) {}

  result<std::vector<system_entry>> parse() {
    std::vector<system_entry> entries;
    while (true) {
      auto entry = parse_entry();
      if (!entry) return entry.error();
      entries.push_back(std::move(entry).value());
      skip_space();
      if (at_end()) return entries;
      if (peek() != ',') return unexpected("',' or the end of the spec");
      ++pos_;
    }
  }

 private:
  result<system_entry> parse_entry() {
    system_entry entry;
    skip_space();
    const std::size_t start = pos_;
    while (!at_end() && is_kind_char(peek())) ++pos_;
    if (pos_ == start) return unexpected("a board kind");
    entry.kind = std::string(text_.substr(start, pos_ - start));

    skip_space();
    if (!at_end() && peek() == '(') {
      ++pos_;
      auto cores = parse_number("a core count");
      if (!cores) return cores.error();
      if (*cores < 1) return error_at(number_at_, "core count must be at least 1");
      entry.cores = static_cast<unsigned>(*cores);
      skip_space();
      if (at_end() || peek() != ')') return unexpected("')'");
      ++pos_;
      skip_space();
    }
    if (!at_end() && peek() == '*') {
      ++pos_;
      auto count = parse_number("a board count");
      if (!count) return count.error();
      if (*count < 1) return error_at(number_at_, "count must be at least 1");
      if (*count > max_count) {
        return error_at(number_at_, "count must be at most " + std::to_string(max_count));
      }
      entry.count = static_cast<unsigned>(*count);
    }
    return entry;
  }

  // A run of decimal digits; its start is kept in number_at_ for range errors.
  result<std::uint64_t> parse_number(const std::string& what) {
    skip_space();
    number_at_ = pos_;
    if (at_end() || !is_digit(peek())) return unexpected(what);
    std::uint64_t value = 0;
    while (!at_end() && is_digit(peek())) {
      value = value * 10 + static_cast<unsigned>(peek() - '0');
      if (value > 0xffff'ffffu) return error_at(number_at_, "number is too large");
      ++pos_;
    }
    return value;
  }

  failure unexpected(const std::string& expected) const {
    if (at_end()) return error_at(pos_, "expected " + expected + ", found the end of the spec");
    return error_at(pos_, "expected " + expected + ", found '" + std::string(1, peek()) + "'");
  }

  // Positions are 1-based character columns in the spec text.
  failure error_at(std::size_t pos, const std::string& what) const {
    return fail(errc::invalid_argument, "bad system spec '" + std::string(text_) + "': " + what +
                                            " (at position " + std::to_string(pos + 1) + ")");
  }

  void skip_space() {
    while (!at_end() && is_space(peek())) ++pos_;
  }
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t number_at_ = 0;
};

}  // namespace

result<std::vector<system_entry>> parse_system_spec(std::string_view text) {
  return spec_parser(text).parse();
}

}  // namespace edgert::sim
