// Statistics for the comparison report (plain ResNet vs stochastic depth): summaries and
// confidence intervals of final accuracies across seeds, two-sample and k-sample tests, and
// smoothing / spread of per-iteration test-accuracy series.
//
// Conventions
// - "Not enough data" and undefined results are values, not NaN and not exceptions: every
//   scalar function returns std::nullopt when its statistic is undefined — too few samples
//   (fewer than 2 per group), a non-finite input, an argument out of range, or a 0/0 or x/0
//   statistic (e.g. both Welch groups constant). Nothing here throws.
// - Variances and standard deviations are sample estimates (divisor n − 1).
// - Distribution functions come from Boost.Math (students_t, fisher_f); p-values of upper
//   tails use cdf(complement(...)) so small p-values keep their relative accuracy.
// - The windowed series functions (moving_average, rolling_stddev) return one value per
//   input point; a point whose window holds a non-finite value is NaN (positional, so the
//   output stays aligned with the input), and later windows are unaffected.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace stodepth::results::stats {

struct Summary {
  size_t n = 0;
  double mean = 0, stddev = 0 /* sample, n − 1 */, min = 0, max = 0;
};

// n, mean, sample std, min, max. nullopt if x has fewer than 2 points or a non-finite one
// (a single seed has no spread to report; callers show the value itself).
std::optional<Summary> summarize(std::span<const double> x);

// Two-sided Student t confidence interval for the mean: mean ± t_{(1+level)/2, n−1} · s/√n.
// nullopt if n < 2, a non-finite input, or level outside (0, 1). Zero spread gives a
// zero-width interval (well defined, not an error).
std::optional<std::pair<double, double>> mean_ci(std::span<const double> x, double level = 0.95);

struct TestResult {
  double statistic = 0;
  double df1 = 0, df2 = 0;  // df2 is NaN for t tests (one degrees-of-freedom parameter)
  double p_value = 1;
};

// Welch's unequal-variance two-sample t test, two-sided. statistic = t = (ā − b̄)/√(s²a/na +
// s²b/nb); df1 = Welch–Satterthwaite df. nullopt if a group has < 2 points, a non-finite
// input, or both groups have zero variance (t undefined).
std::optional<TestResult> welch_t_test(std::span<const double> a, std::span<const double> b);

// F test of equal variances: F = s²a / s²b ~ F(na − 1, nb − 1); two-sided
// p = min(1, 2·min(P(F ≤ f), P(F ≥ f))). nullopt if a group has < 2 points, a non-finite
// input, or s²b = 0. Assumes normal data; prefer brown_forsythe for robustness.
std::optional<TestResult> f_test_equal_variance(std::span<const double> a,
                                                std::span<const double> b);

// Brown–Forsythe test of equal variances across k groups (Levene's, robust: centred on
// medians): z_ij = |x_ij − median_i|, then the one-way ANOVA F of the z_ij:
//   W = (N − k)/(k − 1) · Σ n_i (z̄_i − z̄)² / Σ Σ (z_ij − z̄_i)²  ~ F(k − 1, N − k).
// Matches scipy.stats.levene(center='median'). nullopt if k < 2, a group has < 2 points, a
// non-finite input, or the within-group spread of z is zero (W undefined).
std::optional<TestResult> brown_forsythe(const std::vector<std::span<const double>>& groups);

// Trailing moving average: out[i] = mean(x[i − window + 1 .. i]); for i < window − 1 the
// window holds only the i + 1 available points. Empty if window == 0.
std::vector<double> moving_average(std::span<const double> x, size_t window);

// Sample standard deviation over the same trailing windows as moving_average. out[i] is NaN
// when its window holds a single point (always out[0]; every point if window == 1) — the
// same convention as pandas rolling(window, min_periods=1).std(). Empty if window == 0.
// O(n): Welford updates with removal, re-anchored by an exact two-pass recompute every
// `window` steps so rounding cannot accumulate along a long series. Until that re-anchor, a
// window that has just dropped an extreme outlier of spread D may carry error ~ 1e-16·D² in
// its sum of squares (negligible for accuracies in [0, 100]).
std::vector<double> rolling_stddev(std::span<const double> x, size_t window);

}  // namespace stodepth::results::stats
