// Trend-aware statistics of one evaluation curve: its within-run noise with the trend
// removed, and whether it is still rising at the end of training. Same conventions as
// stats.h: nullopt when undefined, nothing throws.
#pragma once

#include <cstddef>
#include <optional>
#include <span>

namespace stodepth::results::stats {

// Within-run noise by the difference-based estimator (Rice 1984):
//   sigma² = Σ_{i≥1} (x_i − x_{i−1})² / (2 (n − 1)).
// For x_i = f(i) + e_i with a smooth f and iid e of sd sigma, the first differences are
// e_i − e_{i−1} (variance 2 sigma²) plus f's step: a rising curve is not counted as noise,
// except for its squared step — a straight line of slope b per evaluation gives |b|/√2.
// nullopt if n < 2 or a non-finite input.
std::optional<double> noise_stddev(std::span<const double> x);

struct SlopeTest {
  size_t n = 0;  // points in the tail
  double slope = 0, standard_error = 0, t = 0;
  double df = 0;                 // n − 2
  double p_value = 1;            // one-sided, H1: slope > 0
  bool still_improving = false;  // p_value < 0.05
};

// OLS slope of values against iterations over the last round(tail_fraction · n) points
// (rounded half away from zero), its standard error √(SSR/(n − 2) / Sxx), t = slope/se with
// n − 2 df, and the one-sided p for slope > 0. nullopt if the sizes differ, tail_fraction is
// outside (0, 1], a non-finite input, fewer than 3 tail points, the tail's iterations are all
// equal, or the tail lies exactly on a line (se = 0: t undefined).
std::optional<SlopeTest> slope_test(std::span<const double> iterations,
                                    std::span<const double> values, double tail_fraction = 0.25);

}  // namespace stodepth::results::stats
