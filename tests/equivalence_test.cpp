// Tests for results/stats/equivalence against hand computation with equal n and variances,
// where Welch's df = 2(n − 1) = 4 and the Student t(4) CDF has a closed form (Abramowitz &
// Stegun 26.7.3): F(t) = 1/2 + (3/8)·(t/√(1 + t²/4))·(1 − (t²/4)/(3(1 + t²/4))); the 90 %
// quantile t_{0.95, 4} = 2.1318467863266477 by bisection of F (plain Python 3).
#include "results/stats/equivalence.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

using namespace stodepth::results::stats;

namespace {

using Vec = std::vector<double>;
Approx rel(double expected) { return Approx(expected).epsilon(1e-9); }

double student4_cdf(double t) {
  const double u = 1 + t * t / 4;
  return 0.5 + 0.375 * (t / std::sqrt(u)) * (1 - (t * t / 4) / (3 * u));
}

}  // namespace

TEST_CASE("tost_welch: a difference of 2 is not shown within ±3 with n = 3") {
  // diff = 2, se = √(4/3 + 4/3) = 1.632993161855452, df = 4
  // t_lower = (2 + 3)/se = 3.0619, p_lower = 1 − F(3.0619) = 0.018795055755573276
  // t_upper = (2 − 3)/se = −0.6124, p_upper = F(−0.6124) = 0.28669612691267776
  const auto r = tost_welch(Vec{92, 94, 96}, Vec{90, 92, 94}, 3.0);
  REQUIRE(r);
  const double se = std::sqrt(8.0 / 3);
  CHECK(r->n_a == 3);
  CHECK(r->n_b == 3);
  CHECK(r->difference == rel(2));
  CHECK(r->standard_error == rel(se));
  CHECK(r->df == rel(4));
  CHECK(r->p_lower == rel(1 - student4_cdf(5 / se)));
  CHECK(r->p_lower == rel(0.018795055755573276));
  CHECK(r->p_upper == rel(0.28669612691267776));
  CHECK(r->p_value == r->p_upper);
  CHECK(r->ci_low == rel(-1.481291224194937));  // 2 ∓ 2.13185 · se
  CHECK(r->ci_high == rel(5.481291224194937));
  CHECK_FALSE(r->equivalent);
}

TEST_CASE("tost_welch: a difference of 0.1 with little spread is equivalent within ±1") {
  // diff = 0.1, s² = 0.01 each, se = √(0.02/3) = 0.0816497, df = 4
  const auto r = tost_welch(Vec{93.0, 93.1, 93.2}, Vec{92.9, 93.0, 93.1}, 1.0);
  REQUIRE(r);
  CHECK(r->difference == Approx(0.1).epsilon(1e-12));
  CHECK(r->df == rel(4));
  CHECK(r->p_lower == Approx(8.781769130838946e-05).epsilon(1e-6));   // 1 − F(1.1/se)
  CHECK(r->p_upper == Approx(0.00019253385568329673).epsilon(1e-6));  // F(−0.9/se)
  CHECK(r->p_value == r->p_upper);
  CHECK(r->ci_low == rel(-0.07406456120973459));
  CHECK(r->ci_high == rel(0.27406456120975164));
  CHECK(r->equivalent);
  // Swapping the arms mirrors the difference and swaps the one-sided p-values.
  const auto s = tost_welch(Vec{92.9, 93.0, 93.1}, Vec{93.0, 93.1, 93.2}, 1.0);
  REQUIRE(s);
  CHECK(s->p_lower == rel(r->p_upper));
  CHECK(s->p_upper == rel(r->p_lower));
}

TEST_CASE("tost_welch: undefined cases") {
  CHECK_FALSE(tost_welch(Vec{1}, Vec{1, 2}, 1.0));
  CHECK_FALSE(tost_welch(Vec{1, 2}, Vec{1, 2}, 0.0));
  CHECK_FALSE(tost_welch(Vec{1, 2}, Vec{1, 2}, -1.0));
  CHECK_FALSE(tost_welch(Vec{1, 1}, Vec{2, 2}, 1.0));  // se = 0
  CHECK_FALSE(tost_welch(Vec{1, 2}, Vec{1, NAN}, 1.0));
  CHECK_FALSE(tost_welch(Vec{1, 2}, Vec{1, 3}, 1.0, 0.5));
}
