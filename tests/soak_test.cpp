// A short soak (bench/soak_run.hpp): a few thousand requests over three models on two
// simulated boards with random, seeded faults of every kind. Every request completes
// exactly once and nothing is left pending.
#include <doctest/doctest.h>

#include "bench/soak_run.hpp"
#include "support/temp_dir.hpp"

using namespace edgert;

SCENARIO("every soak request completes exactly once under random faults") {
  test::temp_dir dir;
  soak::soak_options o;
  o.requests = 3000;
  o.seed = 7;
  // About 30 crashes: a crash only happens when one of c's jobs reaches its worker, and c
  // gets a varying share of the requests.
  o.crash_one_in = 100;
  o.board_configs = test::board_config_dir().string();
  o.runtime_dir = dir.path().string();
  o.models_dir = std::filesystem::path(EDGERT_TEST_DATA_DIR) / "models";
  auto r = soak::run_soak(o);
  CHECK(r.submitted == o.requests);
  CHECK(r.duplicates == 0);
  CHECK(r.hangs == 0);
  CHECK(r.results + r.errors_total() == r.submitted);
  CHECK(r.results > 0);
  CHECK(r.errors_total() > 0);
  REQUIRE(r.worker_crashes > 0);
  // A crashed worker fails its job with a device fault that names the worker process.
  std::uint64_t crashed_jobs = 0;
  for (const auto& [message, count] : r.messages)
    if (message.rfind("c: ", 0) == 0 && message.find("worker process") != std::string::npos)
      crashed_jobs += count;
  CHECK(crashed_jobs > 0);
  CHECK(crashed_jobs <= r.worker_crashes);
}
