// doctest has SCENARIO but no fixture form of it; this adds one that names its test
// cases the same way ("  Scenario: ...").
#pragma once

#include <doctest/doctest.h>

#define SCENARIO_FIXTURE(fixture, name) TEST_CASE_FIXTURE(fixture, "  Scenario: " name)
