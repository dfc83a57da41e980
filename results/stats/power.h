// How many seeds a comparison needs: the sample size per arm at which a two-sided two-sample
// (Welch) t test detects a given difference of means with a given power, from the arms'
// standard deviations. Same conventions as stats.h: nullopt when undefined.
#pragma once

#include <cstddef>
#include <optional>

namespace stodepth::results::stats {

// Largest n per arm seeds_needed searches; beyond it the answer is nullopt ("more than").
inline constexpr size_t kMaxSeedsPerArm = 10000;

// Power of the two-sided Welch test at level alpha with n per arm, for a true difference
// delta: with se = √((sd_a² + sd_b²)/n), df = Welch–Satterthwaite for equal n, ncp = |delta|/se,
//   power = P(T' > t_{1−α/2, df}) + P(T' < −t_{1−α/2, df}),  T' ~ noncentral t(df, ncp).
// nullopt if n < 2, a non-finite or negative sd, both sds 0, or alpha outside (0, 1).
std::optional<double> welch_power(double delta, double sd_a, double sd_b, size_t n,
                                  double alpha = 0.05);

// The smallest n >= 2 per arm with welch_power >= power. nullopt if delta is 0 or non-finite,
// the power is undefined (see welch_power), power is outside (0, 1), or n would exceed
// kMaxSeedsPerArm.
std::optional<size_t> seeds_needed(double delta, double sd_a, double sd_b, double alpha = 0.05,
                                   double power = 0.8);

}  // namespace stodepth::results::stats
