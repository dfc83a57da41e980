// Tests for results/stats/power against the classic sample-size tables: two-sample two-sided
// t test at α = 0.05, power 0.8 (Cohen 1988, Table 2.4.1; R pwr::pwr.t.test(d, power = 0.8)
// gives n = 16.71 for d = 1, 25.52 for d = 0.8, 63.77 for d = 0.5: rounded up to 17, 26, 64),
// and the one-sample case that a constant arm reduces Welch's test to (pwr.t.test(d = 0.5,
// power = 0.8, type = "one.sample"): n = 33.37 → 34).
#include "results/stats/power.h"

#include <catch2/catch.hpp>
#include <cmath>

using namespace stodepth::results::stats;

TEST_CASE("seeds_needed matches the two-sample tables (equal sds: Welch df = 2(n − 1))") {
  CHECK(seeds_needed(1.0, 1.0, 1.0) == 17u);
  CHECK(seeds_needed(0.8, 1.0, 1.0) == 26u);
  CHECK(seeds_needed(0.5, 1.0, 1.0) == 64u);
  // Only the effect size d = delta/sd matters, and its sign does not.
  CHECK(seeds_needed(-0.25, 0.5, 0.5) == 64u);
  CHECK(seeds_needed(0.5, 0.5, 0.5) == 17u);
}

TEST_CASE("welch_power brackets the threshold the tables round to") {
  CHECK(*welch_power(0.5, 1, 1, 63) < 0.8);
  CHECK(*welch_power(0.5, 1, 1, 64) >= 0.8);
  CHECK(*welch_power(0.5, 1, 1, 64) == Approx(0.8015).margin(5e-4));  // pwr.t.test(n = 64)
  CHECK(*welch_power(1.0, 1, 1, 16) < 0.8);
}

TEST_CASE("seeds_needed with one constant arm is the one-sample size") {
  // sd_b = 0: se = sd_a/√n, df = n − 1: the one-sample t test of d = 0.5.
  CHECK(seeds_needed(0.5, 1.0, 0.0) == 34u);
}

TEST_CASE("seeds_needed: undefined or out of reach") {
  CHECK_FALSE(seeds_needed(0.0, 1.0, 1.0));
  CHECK_FALSE(seeds_needed(NAN, 1.0, 1.0));
  CHECK_FALSE(seeds_needed(1.0, 0.0, 0.0));
  CHECK_FALSE(seeds_needed(1.0, -1.0, 1.0));
  CHECK_FALSE(seeds_needed(1.0, 1.0, 1.0, 0.05, 1.0));
  // d = 0.01 needs ~157 000 per arm: beyond kMaxSeedsPerArm
  CHECK_FALSE(seeds_needed(0.01, 1.0, 1.0));
  CHECK_FALSE(welch_power(1.0, 1.0, 1.0, 1));
}
