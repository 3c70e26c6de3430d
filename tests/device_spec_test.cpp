// The device-spec grammar (common/device_spec.hpp): every form parses to what it means,
// and malformed items are refused with the item named.
#include <doctest/doctest.h>

#include "common/device_spec.hpp"

using namespace edgert;

SCENARIO("explicit board and sub-device forms parse") {
  auto spec = parse_device_spec("dev:0, dev:1:2 ,dev:3:0-1");
  REQUIRE(spec.ok());
  REQUIRE(spec->size() == 3);
  CHECK((*spec)[0].board == "dev:0");
  CHECK((*spec)[0].sub_devices().empty());
  CHECK((*spec)[1].board == "dev:1");
  CHECK((*spec)[1].sub_devices() == std::vector<unsigned>{2});
  CHECK((*spec)[2].sub_devices() == std::vector<unsigned>{0, 1});
}

SCENARIO("kind requests parse with their defaults") {
  auto spec = parse_device_spec("duo(2)*1,m2*3,sbc(1)");
  REQUIRE(spec.ok());
  REQUIRE(spec->size() == 3);
  CHECK((*spec)[0].is_kind_request());
  CHECK((*spec)[0].kind == "duo");
  CHECK((*spec)[0].cores == 2);
  CHECK((*spec)[1].kind == "m2");
  CHECK((*spec)[1].cores == 1);
  CHECK((*spec)[1].count == 3);
  CHECK((*spec)[2].count == 1);
}

SCENARIO("a bare name is kept for name resolution") {
  auto spec = parse_device_spec("m2-0");
  REQUIRE(spec.ok());
  CHECK_FALSE(spec->front().is_kind_request());
  CHECK(spec->front().board == "m2-0");
}

SCENARIO("malformed specs are refused naming the item") {
  for (const char* bad : {"", "dev:", "dev:x", "dev:0:", "dev:0:3-1", "dev:0:1-", "m2*0",
                          "m2(0)", "m2(2", "a b", "dev:0,,dev:1", "m2*-1"}) {
    CAPTURE(bad);
    auto spec = parse_device_spec(bad);
    CHECK(spec.code() == errc::invalid_argument);
  }
  CHECK(parse_device_spec("dev:0:3-1").error().message.find("dev:0:3-1") != std::string::npos);
}

SCENARIO("board names resolve by index, id or unique kind") {
  std::vector<device_name_entry> devices{
      {"dev:0", "m2-0", "m2"}, {"dev:1", "m2-1", "m2"}, {"dev:2", "sbc-0", "sbc"}};
  CHECK(*resolve_device_name("dev:2", devices) == 2);
  CHECK(*resolve_device_name(" 1 ", devices) == 1);
  CHECK(*resolve_device_name("m2-1", devices) == 1);
  CHECK(*resolve_device_name("sbc", devices) == 2);
  auto ambiguous = resolve_device_name("m2", devices);
  CHECK(ambiguous.code() == errc::invalid_argument);
  CHECK(ambiguous.error().message.find("matches 2 boards") != std::string::npos);
  auto unknown = resolve_device_name("dev:7", devices);
  CHECK(unknown.code() == errc::invalid_argument);
  CHECK(unknown.error().message.find("known devices") != std::string::npos);
}
