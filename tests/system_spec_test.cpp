// The system spec grammar: which boards a process sees ("m2*2,sbc,duo(1)").
#include <doctest/doctest.h>

#include "sim/system_spec.hpp"

using namespace edgert;
using namespace edgert::sim;

namespace {

std::string error_of(std::string_view spec) {
  auto parsed = parse_system_spec(spec);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.code() == errc::invalid_argument);
  return parsed.error().message;
}

}  // namespace

SCENARIO("the documented example parses into its entries") {
  GIVEN("the spec m2*2,sbc,duo(1)") {
    WHEN("it is parsed") {
      auto parsed = parse_system_spec("m2*2,sbc,duo(1)");
      THEN("there are three entries with their counts and core limits") {
        REQUIRE(parsed.ok());
        REQUIRE(parsed->size() == 3);
        CHECK((*parsed)[0].kind == "m2");
        CHECK((*parsed)[0].count == 2);
        CHECK_FALSE((*parsed)[0].cores.has_value());
        CHECK((*parsed)[1].kind == "sbc");
        CHECK((*parsed)[1].count == 1);
        CHECK((*parsed)[2].kind == "duo");
        CHECK((*parsed)[2].cores == 1u);
        CHECK((*parsed)[2].count == 1);
      }
    }
  }
}

SCENARIO("the default system parses") {
  GIVEN("the built-in default spec") {
    WHEN("it is parsed") {
      auto parsed = parse_system_spec(default_system);
      THEN("it lists the five board kinds and the host once each") {
        REQUIRE(parsed.ok());
        std::vector<std::string> kinds;
        for (const auto& e : *parsed) kinds.push_back(e.kind);
        CHECK(kinds == std::vector<std::string>{"m2", "pcie", "devboard", "sbc", "duo", "host"});
      }
    }
  }
}

SCENARIO("whitespace between tokens is ignored") {
  GIVEN("a spec with spaces tabs and newlines around every token") {
    WHEN("it is parsed") {
      auto parsed = parse_system_spec(" m2 ( 2 ) * 3 ,\n\tsbc ");
      THEN("it reads as m2(2)*3,sbc") {
        REQUIRE(parsed.ok());
        REQUIRE(parsed->size() == 2);
        CHECK((*parsed)[0].kind == "m2");
        CHECK((*parsed)[0].cores == 2u);
        CHECK((*parsed)[0].count == 3);
        CHECK((*parsed)[1].kind == "sbc");
      }
    }
  }
}

SCENARIO("kinds are not checked against the board files") {
  GIVEN("a kind no board file defines") {
    WHEN("it is parsed") {
      auto parsed = parse_system_spec("no-such_board7");
      THEN("it is accepted as it is") {
        REQUIRE(parsed.ok());
        CHECK((*parsed)[0].kind == "no-such_board7");
      }
    }
  }
}

SCENARIO("a zero count is rejected") {
  GIVEN("the spec m2*0") {
    THEN("the error names the spec the problem and the position") {
      CHECK(error_of("m2*0") == "bad system spec 'm2*0': count must be at least 1 (at position 4)");
    }
  }
}

SCENARIO("a zero core count is rejected") {
  GIVEN("the spec sbc,m2(0)") {
    THEN("the error points at the zero") {
      CHECK(error_of("sbc,m2(0)") ==
            "bad system spec 'sbc,m2(0)': core count must be at least 1 (at position 8)");
    }
  }
}

SCENARIO("an empty spec is rejected") {
  GIVEN("an empty string") {
    THEN("the error says a board kind was expected") {
      CHECK(error_of("") ==
            "bad system spec '': expected a board kind, found the end of the spec (at position 1)");
    }
  }
}

SCENARIO("a trailing comma is rejected") {
  GIVEN("the spec m2,") {
    THEN("the error says a board kind was expected after the comma") {
      CHECK(error_of("m2,") ==
            "bad system spec 'm2,': expected a board kind, found the end of the spec (at "
            "position 4)");
    }
  }
}

SCENARIO("an unclosed core count is rejected") {
  GIVEN("the spec m2(2") {
    THEN("the error asks for the closing parenthesis") {
      CHECK(error_of("m2(2") ==
            "bad system spec 'm2(2': expected ')', found the end of the spec (at position 5)");
    }
  }
}

SCENARIO("a count that is not a number is rejected") {
  GIVEN("the spec m2*-1") {
    THEN("the error points at the minus sign") {
      CHECK(error_of("m2*-1") ==
            "bad system spec 'm2*-1': expected a board count, found '-' (at position 4)");
    }
  }
}

SCENARIO("a core count after the repeat count is rejected") {
  GIVEN("the spec m2*2(1)") {
    THEN("the error points at the parenthesis") {
      CHECK(error_of("m2*2(1)") ==
            "bad system spec 'm2*2(1)': expected ',' or the end of the spec, found '(' (at "
            "position 5)");
    }
  }
}

SCENARIO("two kinds without a comma are rejected") {
  GIVEN("the spec m2 sbc") {
    THEN("the error points at the second kind") {
      CHECK(error_of("m2 sbc") ==
            "bad system spec 'm2 sbc': expected ',' or the end of the spec, found 's' (at "
            "position 4)");
    }
  }
}

SCENARIO("a character outside the grammar is rejected") {
  GIVEN("the spec m2;sbc") {
    THEN("the error shows the character") {
      CHECK(error_of("m2;sbc").find("found ';' (at position 3)") != std::string::npos);
    }
  }
}

SCENARIO("an absurd board count is rejected") {
  GIVEN("the spec m2*1000") {
    THEN("the error gives the limit") {
      CHECK(error_of("m2*1000") ==
            "bad system spec 'm2*1000': count must be at most 256 (at position 4)");
    }
  }
}

SCENARIO("a number too large for the machine is rejected") {
  GIVEN("a core count with twenty digits") {
    THEN("the error says the number is too large") {
      CHECK(error_of("m2(99999999999999999999)").find("number is too large (at position 4)") !=
            std::string::npos);
    }
  }
}
