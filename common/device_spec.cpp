#include "common/device_spec.hpp"

#include <cctype>
#include <charconv>

namespace edgert {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::optional<unsigned> parse_unsigned(std::string_view s) {
  s = trim(s);
  if (s.empty() || s.size() > 9) return std::nullopt;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return value;
}

bool valid_kind(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  return true;
}

failure bad_item(std::string_view item, const std::string& why) {
  return fail(errc::invalid_argument,
              "bad device spec item '" + std::string(item) + "': " + why);
}

result<device_spec_item> parse_dev_form(std::string_view item) {
  // dev:X[:Y[-Z]]
  device_spec_item out;
  auto rest = item.substr(4);
  auto colon = rest.find(':');
  auto board_text = rest.substr(0, colon);
  auto board = parse_unsigned(board_text);
  if (!board) return bad_item(item, "expected a board index after 'dev:'");
  out.board = "dev:" + std::to_string(*board);
  if (colon == std::string_view::npos) return out;
  auto range = rest.substr(colon + 1);
  auto dash = range.find('-');
  auto first = parse_unsigned(range.substr(0, dash));
  if (!first) return bad_item(item, "expected a sub-device index after 'dev:X:'");
  auto last = first;
  if (dash != std::string_view::npos) {
    last = parse_unsigned(range.substr(dash + 1));
    if (!last) return bad_item(item, "expected the last sub-device after '-'");
    if (*last < *first) return bad_item(item, "the sub-device range runs backwards");
  }
  out.first_sub_device = first;
  out.last_sub_device = last;
  return out;
}

result<device_spec_item> parse_kind_form(std::string_view item) {
  // KIND[(C)][*N], or a bare board name.
  device_spec_item out;
  auto star = item.find('*');
  auto head = trim(item.substr(0, star));
  if (star != std::string_view::npos) {
    auto count = parse_unsigned(item.substr(star + 1));
    if (!count || *count == 0) return bad_item(item, "the count after '*' must be at least 1");
    out.count = *count;
  }
  auto paren = head.find('(');
  if (paren != std::string_view::npos) {
    if (head.back() != ')') return bad_item(item, "missing ')'");
    auto cores = parse_unsigned(head.substr(paren + 1, head.size() - paren - 2));
    if (!cores || *cores == 0) return bad_item(item, "the core count in '(..)' must be at least 1");
    out.cores = *cores;
    head = trim(head.substr(0, paren));
  }
  if (!valid_kind(head)) return bad_item(item, "expected dev:X[:Y[-Z]] or KIND[(C)][*N]");
  if (paren == std::string_view::npos && star == std::string_view::npos) {
    out.board = std::string(head);  // a bare name: index, board id or kind
    return out;
  }
  out.kind = std::string(head);
  return out;
}

}  // namespace

std::vector<unsigned> device_spec_item::sub_devices() const {
  std::vector<unsigned> out;
  if (!first_sub_device) return out;
  for (unsigned i = *first_sub_device; i <= *last_sub_device; ++i) out.push_back(i);
  return out;
}

result<std::vector<device_spec_item>> parse_device_spec(std::string_view text) {
  std::vector<device_spec_item> items;
  if (trim(text).empty()) return fail(errc::invalid_argument, "the device spec is empty");
  while (true) {
    auto comma = text.find(',');
    auto item = trim(text.substr(0, comma));
    if (item.empty()) return fail(errc::invalid_argument, "the device spec has an empty item");
    auto parsed = item.substr(0, 4) == "dev:" ? parse_dev_form(item) : parse_kind_form(item);
    if (!parsed) return parsed.error();
    items.push_back(std::move(*parsed));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return items;
}

result<std::size_t> resolve_device_name(std::string_view text,
                                        const std::vector<device_name_entry>& devices) {
  auto name = trim(text);
  std::string canonical(name);
  if (auto index = parse_unsigned(name)) canonical = "dev:" + std::to_string(*index);
  std::vector<std::size_t> by_kind;
  for (std::size_t i = 0; i < devices.size(); ++i) {
    if (devices[i].name == canonical || devices[i].id == canonical) return i;
    if (devices[i].kind == canonical) by_kind.push_back(i);
  }
  if (by_kind.size() == 1) return by_kind.front();
  std::string known;
  for (auto& d : devices) known += (known.empty() ? "" : ", ") + d.name + " (" + d.id + ")";
  if (by_kind.size() > 1)
    return fail(errc::invalid_argument, "'" + canonical + "' matches " +
                                            std::to_string(by_kind.size()) +
                                            " boards; name one of: " + known);
  return fail(errc::invalid_argument,
              "unknown device '" + std::string(name) + "'; known devices: " +
                  (known.empty() ? std::string("none") : known));
}

}  // namespace edgert
