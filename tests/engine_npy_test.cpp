// NumPy .npy reading and writing: round trips for every type, files as NumPy writes them,
// and malformed input that must be rejected without crashing.
#include <doctest/doctest.h>

#include <cstring>
#include <fstream>
#include <random>

#include "engine/npy.hpp"
#include "support/temp_dir.hpp"

using namespace edgert;
using namespace edgert::engine;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A .npy file with the given header dict, padded the way NumPy pads it, followed by data.
std::string npy_file(const std::string& dict, const std::string& data, int major = 1) {
  std::string header = dict;
  const std::size_t preamble = major == 1 ? 10 : 12;
  while ((preamble + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  const std::size_t n = header.size();
  out += static_cast<char>(n & 0xff);
  out += static_cast<char>((n >> 8) & 0xff);
  if (major != 1) out += std::string(2, '\0');
  return out + header + data;
}

template <class T>
std::string bytes_of(std::initializer_list<T> values) {
  std::string out;
  for (T v : values) out.append(reinterpret_cast<const char*>(&v), sizeof v);
  return out;
}

// A tensor whose bytes are 0, 1, 2, ... (booleans get 0/1).
tensor patterned(dtype type, shape_t shape) {
  tensor t(type, std::move(shape));
  auto* p = static_cast<unsigned char*>(t.raw());
  for (std::size_t i = 0; i < t.bytes(); ++i)
    p[i] = type == dtype::boolean ? static_cast<unsigned char>(i % 2) : static_cast<unsigned char>(i * 7 + 1);
  return t;
}

}  // namespace

SCENARIO("every dtype survives an encode and parse round trip") {
  const dtype types[] = {dtype::f16, dtype::f32, dtype::f64, dtype::i8,  dtype::i16, dtype::i32,
                         dtype::i64, dtype::u8,  dtype::u16, dtype::u32, dtype::u64, dtype::boolean};
  for (dtype type : types)
    for (const shape_t& shape : {shape_t{}, shape_t{5}, shape_t{2, 3}, shape_t{2, 0, 4}}) {
      CAPTURE(to_string(type));
      CAPTURE(to_string(shape));
      tensor t = patterned(type, shape);
      auto back = parse_npy(encode_npy(t));
      REQUIRE(back.ok());
      CHECK(back->type() == type);
      CHECK(back->shape() == shape);
      REQUIRE(back->bytes() == t.bytes());
      CHECK(std::memcmp(back->raw(), t.raw(), t.bytes()) == 0);
    }
}

SCENARIO("the encoded file is format 1.0 with a 64-byte aligned header") {
  tensor t(dtype::f32, {2, 3});
  std::string bytes = encode_npy(t);
  CHECK(bytes.compare(0, 6, "\x93NUMPY") == 0);
  CHECK(bytes[6] == 1);
  CHECK(bytes[7] == 0);
  std::size_t header_length = static_cast<unsigned char>(bytes[8]) | (static_cast<unsigned char>(bytes[9]) << 8);
  CHECK((10 + header_length) % 64 == 0);
  CHECK(bytes.size() == 10 + header_length + 24);
  std::string header = bytes.substr(10, header_length);
  CHECK(contains(header, "'descr': '<f4'"));
  CHECK(contains(header, "'fortran_order': False"));
  CHECK(contains(header, "'shape': (2, 3)"));
  CHECK(header.back() == '\n');
}

SCENARIO("a one-dimensional shape is written as a one-element tuple") {
  std::string bytes = encode_npy(tensor(dtype::i64, {4}));
  CHECK(contains(bytes, "'shape': (4,)"));
  CHECK(contains(encode_npy(tensor(dtype::boolean, {})), "'shape': ()"));
  CHECK(contains(encode_npy(tensor(dtype::u8, {1})), "'descr': '|u1'"));
}

SCENARIO("files as NumPy writes them are read") {
  GIVEN("version 1.0 float32") {
    auto t = parse_npy(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
                                bytes_of<float>({1.5f, -2.0f})));
    REQUIRE(t.ok());
    CHECK(t->type() == dtype::f32);
    CHECK(t->shape() == shape_t{2});
    CHECK(t->data<float>()[1] == -2.0f);
  }
  GIVEN("version 2.0 with keys in another order and double quotes") {
    auto t = parse_npy(npy_file("{\"shape\": (1, 2), \"descr\": \"<i8\", \"fortran_order\": False}",
                                bytes_of<std::int64_t>({7, -9}), 2));
    REQUIRE(t.ok());
    CHECK(t->shape() == shape_t{1, 2});
    CHECK(t->data<std::int64_t>()[1] == -9);
  }
  GIVEN("version 3.0 with a bool array") {
    auto t = parse_npy(npy_file("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }",
                                std::string("\x01\x00\x01", 3), 3));
    REQUIRE(t.ok());
    CHECK(t->type() == dtype::boolean);
    CHECK(t->data<std::uint8_t>()[2] == 1);
  }
  GIVEN("a big-endian int32") {
    auto t = parse_npy(npy_file("{'descr': '>i4', 'fortran_order': False, 'shape': (1,), }",
                                std::string("\x00\x00\x01\x02", 4)));
    REQUIRE(t.ok());
    CHECK(t->data<std::int32_t>()[0] == 258);
  }
  GIVEN("a float16 scalar") {
    auto t = parse_npy(npy_file("{'descr': '<f2', 'fortran_order': False, 'shape': (), }",
                                bytes_of<std::uint16_t>({0x3C00})));
    REQUIRE(t.ok());
    CHECK(t->type() == dtype::f16);
    CHECK(t->rank() == 0);
    CHECK(half_to_float(t->data<std::uint16_t>()[0]) == 1.0f);
  }
}

SCENARIO("Fortran order and exotic dtypes are not implemented") {
  auto fortran = parse_npy(npy_file("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }",
                                    bytes_of<float>({1})));
  REQUIRE_FALSE(fortran.ok());
  CHECK(fortran.code() == errc::not_implemented);
  CHECK(contains(fortran.error().message, "Fortran"));

  auto complex = parse_npy(npy_file("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }",
                                    std::string(8, '\0')));
  REQUIRE_FALSE(complex.ok());
  CHECK(complex.code() == errc::not_implemented);
  CHECK(contains(complex.error().message, "<c8"));
}

SCENARIO("malformed files give clear errors") {
  const std::string good_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  const std::string data = bytes_of<float>({1, 2});
  auto rejects = [](const std::string& bytes, const std::string& why) {
    auto t = parse_npy(bytes);
    REQUIRE_FALSE(t.ok());
    CHECK(t.code() == errc::invalid_argument);
    CHECK(contains(t.error().message, why));
  };
  rejects("PK\x03\x04 a zip file", "magic");
  rejects("", "magic");
  rejects(std::string("\x93NUMPY\x01\x00", 8), "preamble");
  rejects(std::string("\x93NUMPY\x09\x00\x10\x00", 10), "version 9.0");
  rejects(std::string("\x93NUMPY\x01\x00\xff\x7f{'descr'", 17), "only");
  rejects(npy_file("['descr', '<f4']", data), "dict");
  rejects(npy_file("{'descr': '<f4', 'shape': (2,), }", data), "lacks");
  rejects(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1}", data),
          "unexpected header key 'extra'");
  rejects(npy_file("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }", data), "True or False");
  rejects(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", data), "integers");
  rejects(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': [2], }", data), "tuple");
  rejects(npy_file("{'descr: '<f4', 'fortran_order': False, 'shape': (2,), }", data), "expected");
  rejects(npy_file("{'descr': 'f4', 'fortran_order': False, 'shape': (2,), }", data), "'f4'");
  rejects(npy_file(good_dict, data.substr(0, 7)), "needs 8 bytes");
  rejects(npy_file(good_dict, data + "xx"), "the file has 10");
  rejects(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }", data),
          "needs more bytes");
}

SCENARIO("random bytes after a valid preamble never crash the reader") {
  std::mt19937 rng(1234);
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }";
  const std::string base = npy_file(dict, std::string(24, '\x01'));
  int accepted = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string bytes = base;
    int flips = 1 + static_cast<int>(rng() % 6);
    for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] = static_cast<char>(rng() % 256);
    if (rng() % 4 == 0) bytes.resize(rng() % bytes.size());
    auto t = parse_npy(bytes);
    if (t.ok()) {
      ++accepted;
      CHECK(t->bytes() <= bytes.size());
    } else {
      CHECK_FALSE(t.error().message.empty());
    }
  }
  CHECK(accepted > 0);
}

SCENARIO("write_npy and read_npy use files") {
  test::temp_dir dir;
  tensor t = patterned(dtype::i32, {3, 1});
  REQUIRE(write_npy(dir.path() / "t.npy", t).ok());
  auto back = read_npy(dir.path() / "t.npy");
  REQUIRE(back.ok());
  CHECK(back->shape() == shape_t{3, 1});
  CHECK(std::memcmp(back->raw(), t.raw(), t.bytes()) == 0);

  CHECK(read_npy(dir.path() / "absent.npy").code() == errc::io_error);
  CHECK(write_npy(dir.path() / "no_such_dir" / "t.npy", t).code() == errc::io_error);

  std::ofstream(dir.path() / "junk.npy") << "not numpy";
  auto junk = read_npy(dir.path() / "junk.npy");
  REQUIRE_FALSE(junk.ok());
  CHECK(contains(junk.error().message, "junk.npy"));
}

SCENARIO("bfloat16 has no NumPy descriptor") {
  tensor t(dtype::bf16, {2});
  test::temp_dir dir;
  CHECK(write_npy(dir.path() / "b.npy", t).code() == errc::not_implemented);
  CHECK_THROWS_AS(encode_npy(t), std::invalid_argument);
}
