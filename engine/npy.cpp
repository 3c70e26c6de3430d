#include "engine/npy.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <new>
#include <stdexcept>

namespace edgert::engine {

namespace {

constexpr char magic[] = "\x93NUMPY";
constexpr std::size_t magic_size = 6;

failure malformed(const std::string& why) {
  return fail(errc::invalid_argument, "not a valid .npy file: " + why);
}

struct npy_header {
  std::string descr;
  bool fortran_order = false;
  shape_t shape;
  bool has_descr = false, has_fortran = false, has_shape = false;
};

// A recursive-descent reader for the Python dict literal of a .npy header, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class header_parser {
 public:
  explicit header_parser(std::string_view text) : text_(text) {}

  result<npy_header> parse() {
    npy_header h;
    skip_space();
    if (!take('{')) return malformed("the header does not start with a dict");
    for (;;) {
      skip_space();
      if (take('}')) break;
      auto key = parse_string();
      if (!key) return key.error();
      skip_space();
      if (!take(':')) return malformed("expected ':' after '" + *key + "' in the header");
      skip_space();
      if (*key == "descr") {
        if (peek() == '[')
          return fail(errc::not_implemented, "structured .npy dtypes are not supported");
        auto d = parse_string();
        if (!d) return d.error();
        h.descr = *d;
        h.has_descr = true;
      } else if (*key == "fortran_order") {
        if (take_word("True")) h.fortran_order = true;
        else if (take_word("False")) h.fortran_order = false;
        else return malformed("fortran_order is not True or False");
        h.has_fortran = true;
      } else if (*key == "shape") {
        auto s = parse_shape();
        if (!s) return s.error();
        h.shape = *s;
        h.has_shape = true;
      } else {
        return malformed("unexpected header key '" + *key + "'");
      }
      skip_space();
      if (take(',')) continue;
      skip_space();
      if (take('}')) break;
      return malformed("expected ',' or '}' in the header");
    }
    skip_space();
    if (pos_ != text_.size()) return malformed("unexpected text after the header dict");
    if (!h.has_descr || !h.has_fortran || !h.has_shape)
      return malformed("the header lacks one of 'descr', 'fortran_order', 'shape'");
    return h;
  }

 private:
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool take(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  bool take_word(std::string_view w) {
    if (text_.substr(pos_, w.size()) != w) return false;
    pos_ += w.size();
    return true;
  }
  void skip_space() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }

  result<std::string> parse_string() {
    char quote = peek();
    if (quote != '\'' && quote != '"') return malformed("expected a quoted string in the header");
    ++pos_;
    std::size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) return malformed("unterminated string in the header");
    std::string s(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }

  result<shape_t> parse_shape() {
    if (!take('(')) return malformed("shape is not a tuple");
    shape_t shape;
    for (;;) {
      skip_space();
      if (take(')')) break;
      if (peek() < '0' || peek() > '9') return malformed("shape holds something other than integers");
      std::int64_t d = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (d > (std::int64_t{1} << 50)) return malformed("a shape dimension is too large");
        d = d * 10 + (peek() - '0');
        ++pos_;
      }
      take('L');  // Python 2 long literal
      shape.push_back(d);
      if (shape.size() > 64) return malformed("shape has more than 64 dimensions");
      skip_space();
      if (take(',')) continue;
      skip_space();
      if (take(')')) break;
      return malformed("expected ',' or ')' in the shape");
    }
    return shape;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

struct descr_info {
  dtype type = dtype::undefined;
  bool swap = false;
};

result<descr_info> parse_descr(const std::string& descr) {
  if (descr.size() < 3) return malformed("unknown dtype descriptor '" + descr + "'");
  char order = descr[0];
  char kind = descr[1];
  std::string size = descr.substr(2);
  if (order != '<' && order != '>' && order != '|' && order != '=')
    return malformed("unknown byte order in dtype descriptor '" + descr + "'");
  descr_info info;
  if (kind == 'f' && size == "2") info.type = dtype::f16;
  else if (kind == 'f' && size == "4") info.type = dtype::f32;
  else if (kind == 'f' && size == "8") info.type = dtype::f64;
  else if (kind == 'i' && size == "1") info.type = dtype::i8;
  else if (kind == 'i' && size == "2") info.type = dtype::i16;
  else if (kind == 'i' && size == "4") info.type = dtype::i32;
  else if (kind == 'i' && size == "8") info.type = dtype::i64;
  else if (kind == 'u' && size == "1") info.type = dtype::u8;
  else if (kind == 'u' && size == "2") info.type = dtype::u16;
  else if (kind == 'u' && size == "4") info.type = dtype::u32;
  else if (kind == 'u' && size == "8") info.type = dtype::u64;
  else if (kind == 'b' && size == "1") info.type = dtype::boolean;
  else
    return fail(errc::not_implemented, ".npy dtype '" + descr + "' is not supported");
  info.swap = order == '>' && size_of(info.type) > 1;
  return info;
}

const char* descr_of(dtype t) {
  switch (t) {
    case dtype::f16: return "<f2";
    case dtype::f32: return "<f4";
    case dtype::f64: return "<f8";
    case dtype::i8: return "|i1";
    case dtype::i16: return "<i2";
    case dtype::i32: return "<i4";
    case dtype::i64: return "<i8";
    case dtype::u8: return "|u1";
    case dtype::u16: return "<u2";
    case dtype::u32: return "<u4";
    case dtype::u64: return "<u8";
    case dtype::boolean: return "|b1";
    default: return nullptr;
  }
}

std::uint32_t read_le(std::string_view bytes, std::size_t at, std::size_t width) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < width; ++i)
    v |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  return v;
}

}  // namespace

result<tensor> parse_npy(std::string_view bytes) {
  if (bytes.size() < magic_size + 2 || bytes.substr(0, magic_size) != std::string_view(magic, magic_size))
    return malformed("missing the \\x93NUMPY magic string");
  const int major = static_cast<unsigned char>(bytes[6]);
  if (major < 1 || major > 3)
    return malformed("unknown format version " + std::to_string(major) + "." +
                     std::to_string(static_cast<unsigned char>(bytes[7])));
  const std::size_t length_width = major == 1 ? 2 : 4;
  const std::size_t header_start = magic_size + 2 + length_width;
  if (bytes.size() < header_start) return malformed("the file ends inside the preamble");
  const std::size_t header_length = read_le(bytes, magic_size + 2, length_width);
  if (bytes.size() - header_start < header_length)
    return malformed("the header is " + std::to_string(header_length) + " bytes but the file has only " +
                     std::to_string(bytes.size() - header_start) + " after the preamble");

  auto header = header_parser(bytes.substr(header_start, header_length)).parse();
  if (!header) return header.error();
  if (header->fortran_order)
    return fail(errc::not_implemented, ".npy files in Fortran order are not supported");
  auto descr = parse_descr(header->descr);
  if (!descr) return descr.error();

  const std::string_view data = bytes.substr(header_start + header_length);
  const std::size_t item = size_of(descr->type);
  std::uint64_t count = 1;
  for (auto d : header->shape) {
    // A shape larger than the data is rejected before anything is allocated.
    if (d != 0 && count > data.size() / static_cast<std::uint64_t>(d)) count = data.size() + 1;
    else count *= static_cast<std::uint64_t>(d);
  }
  if (count > data.size() / item || count * item != data.size())
    return malformed("shape " + to_string(header->shape) + " of " + header->descr + " needs " +
                     (count > data.size() ? std::string("more") : std::to_string(count * item)) +
                     " bytes of data, the file has " + std::to_string(data.size()));

  tensor t;
  try {
    t = tensor(descr->type, header->shape);
  } catch (const std::bad_alloc&) {
    return fail(errc::out_of_memory, ".npy tensor of shape " + to_string(header->shape) + " does not fit in memory");
  }
  if (t.bytes()) std::memcpy(t.raw(), data.data(), t.bytes());
  auto* p = static_cast<unsigned char*>(t.raw());
  if (descr->swap)
    for (std::size_t i = 0; i < t.bytes(); i += item) std::reverse(p + i, p + i + item);
  if (descr->type == dtype::boolean)
    for (std::size_t i = 0; i < t.bytes(); ++i) p[i] = p[i] != 0 ? 1 : 0;
  return t;
}

result<tensor> read_npy(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in || std::filesystem::is_directory(path))
    return fail(errc::io_error, "cannot read '" + path.string() + "'");
  std::string bytes;
  try {
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } catch (const std::bad_alloc&) {
    return fail(errc::out_of_memory, "'" + path.string() + "' does not fit in memory");
  }
  if (in.bad()) return fail(errc::io_error, "error while reading '" + path.string() + "'");
  auto t = parse_npy(bytes);
  if (!t) return fail(t.code(), "'" + path.string() + "': " + t.error().message);
  return t;
}

std::string encode_npy(const tensor& t) {
  const char* descr = descr_of(t.type());
  if (!descr)
    throw std::invalid_argument("encode_npy: " + std::string(to_string(t.type())) +
                                " has no NumPy dtype descriptor");
  std::string shape = "(";
  for (std::size_t i = 0; i < t.rank(); ++i)
    shape += (i ? ", " : "") + std::to_string(t.shape()[i]);
  if (t.rank() == 1) shape += ",";
  shape += ")";
  std::string header = std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";

  // The data starts on a 64-byte boundary; the header is padded with spaces and ends in '\n'.
  const bool v2 = header.size() + 1 + magic_size + 2 + 2 > 65535;
  const std::size_t preamble = magic_size + 2 + (v2 ? 4 : 2);
  const std::size_t total = (preamble + header.size() + 1 + 63) / 64 * 64;
  header.append(total - preamble - header.size() - 1, ' ');
  header.push_back('\n');

  std::string out(magic, magic_size);
  out.push_back(static_cast<char>(v2 ? 2 : 1));
  out.push_back(0);
  const std::size_t length = header.size();
  for (std::size_t i = 0; i < (v2 ? 4u : 2u); ++i) out.push_back(static_cast<char>((length >> (8 * i)) & 0xff));
  out += header;
  out.append(static_cast<const char*>(t.raw()), t.bytes());
  return out;
}

result<void> write_npy(const std::filesystem::path& path, const tensor& t) {
  if (!descr_of(t.type()))
    return fail(errc::not_implemented,
                "cannot write " + std::string(to_string(t.type())) + " to .npy: NumPy has no such dtype");
  std::string bytes;
  try {
    bytes = encode_npy(t);
  } catch (const std::bad_alloc&) {
    return fail(errc::out_of_memory, "tensor too large to encode as .npy");
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return fail(errc::io_error, "cannot write '" + path.string() + "'");
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return fail(errc::io_error, "error while writing '" + path.string() + "'");
  return {};
}

}  // namespace edgert::engine
