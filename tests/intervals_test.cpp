// Tests for results/stats/intervals against hand computation. Student t quantiles in closed
// form (Abramowitz & Stegun 26.7): ν = 1: t_p = tan(π(p − 1/2)); ν = 2: t_p = (2p − 1)/√(2p(1 −
// p)); ν = 4: the root of F(t) = 1/2 + (3/8)·(t/√(1 + t²/4))·(1 − (t²/4)/(3(1 + t²/4))), by
// bisection.
#include "results/stats/intervals.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

using namespace stodepth::results::stats;

namespace {

using Vec = std::vector<double>;
Approx rel(double expected) { return Approx(expected).epsilon(1e-10); }

constexpr ValueRange kPercent{0, 100};
const double kT975_1 = 12.706204736174696;  // tan(0.475 π)
const double kT975_2 = 4.302652729749464;   // 0.95 / √(2 · 0.975 · 0.025)
const double kT975_4 = 2.7764451051977934;  // bisection of the ν = 4 closed form

}  // namespace

TEST_CASE("bounded_mean_ci: n = 2 reaches past 100 %, is clipped and flagged") {
  // mean 93, s = √2, se = s/√2 = 1: 93 ± 12.706 = [80.294, 105.706] → [80.294, 100]
  const auto ci = bounded_mean_ci(Vec{92, 94}, kPercent);
  REQUIRE(ci);
  CHECK(ci->n == 2);
  CHECK(ci->estimate == 93);
  CHECK(ci->low == rel(93 - kT975_1));
  CHECK(ci->high == 100);
  CHECK(ci->clipped);
  CHECK(ci->few_samples);
}

TEST_CASE("bounded_mean_ci: inside the range, nothing to clip") {
  // mean 93.333, s² = (1.778 + 0.111 + 2.778)/2 = 7/3, se = √(7/9)
  const auto ci = bounded_mean_ci(Vec{92, 93, 95}, kPercent);
  REQUIRE(ci);
  const double mean = 280.0 / 3, se = std::sqrt(7.0 / 9);
  CHECK(ci->estimate == rel(mean));
  CHECK(ci->low == rel(mean - kT975_2 * se));   // 89.53875029973656
  CHECK(ci->high == rel(mean + kT975_2 * se));  // 97.1279163669301
  CHECK(ci->low == rel(89.53875029973656));
  CHECK_FALSE(ci->clipped);
  CHECK_FALSE(ci->few_samples);
}

TEST_CASE("bounded_mean_ci: clipped at the low end") {
  // {1, 3, 2}: mean 2, s = 1, se = 1/√3: 2 ± 2.484 → low −0.484 clipped to 0
  const auto ci = bounded_mean_ci(Vec{1, 3, 2}, kPercent);
  REQUIRE(ci);
  CHECK(ci->low == 0);
  CHECK(ci->high == rel(2 + kT975_2 / std::sqrt(3.0)));
  CHECK(ci->clipped);
}

TEST_CASE("bounded_mean_ci: undefined cases") {
  CHECK_FALSE(bounded_mean_ci(Vec{93}, kPercent));
  CHECK_FALSE(bounded_mean_ci(Vec{93, NAN}, kPercent));
  CHECK_FALSE(bounded_mean_ci(Vec{92, 94}, kPercent, 1.0));
  CHECK_FALSE(bounded_mean_ci(Vec{92, 94}, ValueRange{1, 1}));
  const auto flat = bounded_mean_ci(Vec{93, 93, 93}, kPercent);  // zero width, well defined
  REQUIRE(flat);
  CHECK(flat->low == 93);
  CHECK(flat->high == 93);
}

TEST_CASE("welch_difference_ci: equal n and variances give df = 2(n − 1)") {
  // a − b = 2; s²a = s²b = 4, se = √(4/3 + 4/3) = √(8/3); df = (8/3)²/((16/9 + 16/9)/2) = 4
  const auto d = welch_difference_ci(Vec{92, 94, 96}, Vec{90, 92, 94}, kPercent);
  REQUIRE(d);
  CHECK(d->n_a == 3);
  CHECK(d->n_b == 3);
  CHECK(d->estimate == rel(2));
  CHECK(d->df == rel(4));
  CHECK(d->low == rel(2 - kT975_4 * std::sqrt(8.0 / 3)));   // −2.5339158710550382
  CHECK(d->high == rel(2 + kT975_4 * std::sqrt(8.0 / 3)));  // 6.533915871055038
  CHECK_FALSE(d->clipped);
  CHECK_FALSE(d->few_samples);
}

TEST_CASE("welch_difference_ci: clipped to the differences the range allows") {
  // range [0, 1]: a = {0.9, 0.1}: va = 0.32/2 = 0.16; b constant: df = 0.16²/(0.16²/1) = 1
  // 0 ± 12.706 · 0.4 = ±5.08 → [−1, 1]
  const auto d = welch_difference_ci(Vec{0.9, 0.1}, Vec{0.5, 0.5, 0.5}, ValueRange{0, 1});
  REQUIRE(d);
  CHECK(d->df == rel(1));
  CHECK(d->estimate == Approx(0).margin(1e-15));
  CHECK(d->low == -1);
  CHECK(d->high == 1);
  CHECK(d->clipped);
  CHECK(d->few_samples);
  CHECK(kT975_1 * 0.4 > 1);  // (the raw half-width, for the record)
}

TEST_CASE("welch_difference_ci: undefined cases") {
  CHECK_FALSE(welch_difference_ci(Vec{1}, Vec{1, 2}, kPercent));
  CHECK_FALSE(welch_difference_ci(Vec{1, 1}, Vec{2, 2}, kPercent));  // both constant
  CHECK_FALSE(welch_difference_ci(Vec{1, 2}, Vec{2, INFINITY}, kPercent));
  CHECK_FALSE(welch_difference_ci(Vec{1, 2}, Vec{2, 3}, kPercent, 0));
}
