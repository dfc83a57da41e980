// Tests for results/stats/trend: noise_stddev on hand-computed, closed-form and seeded
// synthetic series; slope_test on a hand-computed 5-point regression (the Student t(3) tail in
// closed form, Abramowitz & Stegun 26.7.3: F(t) = 1/2 + (u/(1 + u²) + atan u)/π, u = t/√3) and
// on curves that rise, are flat, or fall.
#include "results/stats/trend.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

using namespace stodepth::results::stats;

namespace {

using Vec = std::vector<double>;

Approx rel(double expected) { return Approx(expected).epsilon(1e-10); }

Vec iterations_of(size_t n) {
  Vec it(n);
  for (size_t i = 0; i < n; ++i) it[i] = 100.0 * double(i + 1);
  return it;
}

// trend(i) + iid normal noise of sd `sd`, seeded.
template <typename Trend>
Vec noisy(size_t n, double sd, unsigned seed, Trend trend) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, sd);
  Vec x(n);
  for (size_t i = 0; i < n; ++i) x[i] = trend(double(i)) + noise(rng);
  return x;
}

}  // namespace

TEST_CASE("noise_stddev: hand-computed small case") {
  // differences 2, −1, 2: Σ d² = 9; σ² = 9 / (2·3) = 1.5
  CHECK(*noise_stddev(Vec{1, 3, 2, 4}) == rel(std::sqrt(1.5)));
}

TEST_CASE("noise_stddev: a straight line leaves only its step, |b|/√2") {
  Vec line(500);
  for (size_t i = 0; i < line.size(); ++i) line[i] = 80 + 0.02 * double(i);
  // every difference is b = 0.02: σ² = (n − 1) b² / (2 (n − 1)) = b²/2
  CHECK(*noise_stddev(line) == Approx(0.02 / std::sqrt(2.0)).epsilon(1e-9));
  // the same rise in residuals around a moving mean would be far larger: the whole 10 points
  CHECK(*noise_stddev(line) < 0.015);
}

TEST_CASE("noise_stddev recovers the sd of iid noise around a rising curve") {
  // 20 000 evaluations, a saturating rise of 10 points, noise sd 0.5: the standard error of
  // the estimate is ~ σ·√(3/(4n)) ≈ 0.003, so 2 % is many standard errors.
  const Vec x = noisy(20000, 0.5, 42, [](double i) { return 90 - 10 * std::exp(-i / 2000); });
  CHECK(*noise_stddev(x) == Approx(0.5).epsilon(0.02));
}

TEST_CASE("noise_stddev: undefined cases") {
  CHECK_FALSE(noise_stddev(Vec{}));
  CHECK_FALSE(noise_stddev(Vec{1.0}));
  CHECK_FALSE(noise_stddev(Vec{1.0, NAN, 2.0}));
  CHECK(*noise_stddev(Vec{5, 5, 5}) == 0.0);
}

TEST_CASE("slope_test: hand-computed 5-point regression") {
  // x̄ = 300, ȳ = 91.6; Sxx = 2·(200² + 100²) = 1e5; Sxy = 320 + 60 + 0 + 90 + 280 = 750
  // slope = 0.0075; fitted 90.1, 90.85, 91.6, 92.35, 93.1; residuals −.1, .15, −.1, .15, −.1
  // SSR = 0.075; se = √(0.075/3 / 1e5) = 5e-4; t = 15 on 3 df.
  const Vec it = {100, 200, 300, 400, 500}, y = {90, 91, 91.5, 92.5, 93};
  const auto r = slope_test(it, y, 1.0);
  REQUIRE(r);
  CHECK(r->n == 5);
  CHECK(r->slope == rel(0.0075));
  CHECK(r->standard_error == rel(5e-4));
  CHECK(r->t == rel(15.0));
  CHECK(r->df == 3);
  CHECK(r->p_value == Approx(0.0003215596634666973).epsilon(1e-9));  // 1 − F3(15)
  CHECK(r->still_improving);
}

TEST_CASE("slope_test uses only the last quarter") {
  // Rising over the first 3/4, flat + noise over the last 1/4: not still improving.
  Vec y = noisy(400, 0.3, 7, [](double i) { return i < 300 ? 80 + i / 30 : 90; });
  const auto r = slope_test(iterations_of(400), y);
  REQUIRE(r);
  CHECK(r->n == 100);
  CHECK_FALSE(r->still_improving);
}

TEST_CASE("slope_test on synthetic curves: rising, flat, falling (seeded noise)") {
  const size_t n = 200;
  const Vec it = iterations_of(n);
  for (unsigned seed : {1u, 2u, 3u}) {
    const Vec rising = noisy(n, 0.3, seed, [](double i) { return 80 + 0.02 * i; });
    const Vec flat = noisy(n, 0.3, seed, [](double) { return 90.0; });
    const Vec falling = noisy(n, 0.3, seed, [](double i) { return 90 - 0.02 * i; });
    const auto up = slope_test(it, rising), level = slope_test(it, flat),
               down = slope_test(it, falling);
    REQUIRE(up);
    REQUIRE(level);
    REQUIRE(down);
    // rise over the tail: 0.02 · 50 = 1 point against noise 0.3 — t ≈ 7 expected
    CHECK(up->still_improving);
    CHECK(up->p_value < 1e-4);
    CHECK(down->p_value > 0.999);
    CHECK_FALSE(down->still_improving);
    CHECK(level->p_value > 0.001);  // flat: p roughly uniform; 0.001 fails one seed in 1000
  }
}

TEST_CASE("slope_test: undefined cases") {
  const Vec it = {1, 2, 3, 4}, y = {1, 2, 2, 3};
  CHECK_FALSE(slope_test(it, Vec{1, 2, 3}, 1.0));  // sizes differ
  CHECK_FALSE(slope_test(it, y, 0.5));             // 2 tail points
  CHECK_FALSE(slope_test(it, y, 0.0));
  CHECK_FALSE(slope_test(it, y, 1.5));
  CHECK_FALSE(slope_test(Vec{2, 2, 2, 2}, y, 1.0));   // no spread of iterations
  CHECK_FALSE(slope_test(it, Vec{1, 2, 3, 4}, 1.0));  // exactly a line: se = 0
  CHECK_FALSE(slope_test(it, Vec{1, NAN, 3, 4}, 1.0));
  CHECK(slope_test(it, y, 1.0));
}
