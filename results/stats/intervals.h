// Confidence intervals of quantities with a known range — accuracies live in [0, 100] % —
// for the report: the mean of one arm over seeds, and the difference between two arms.
//
// The Student t interval is intersected with the range. Clipping is honest, not cosmetic: no
// mean can lie outside the range, so the clipped interval covers at least as often; it is
// flagged (`clipped`) so a reader knows the raw interval was wider. With few seeds the raw
// interval is uninformative: at n = 2, t_{0.975, 1} = 12.71, so the half-width is 12.7 × the
// spread of the two values / √2 — such intervals are flagged `few_samples` (n < 3).
// Same conventions as stats.h: nullopt when undefined, nothing throws.
#pragma once

#include <cstddef>
#include <optional>
#include <span>

namespace stodepth::results::stats {

struct ValueRange {
  double low = 0, high = 100;  // accuracies, %
};

struct BoundedInterval {
  size_t n = 0;
  double estimate = 0;  // the sample mean
  double low = 0, high = 0;
  bool clipped = false;      // the raw t interval reached outside the range
  bool few_samples = false;  // n < 3: the interval says little
};

// mean ± t_{(1+level)/2, n−1} · s/√n, intersected with [range.low, range.high]. nullopt if
// n < 2, a non-finite input, level outside (0, 1), or an empty range (low >= high).
std::optional<BoundedInterval> bounded_mean_ci(std::span<const double> x, ValueRange range,
                                               double level = 0.95);

struct DifferenceInterval {
  size_t n_a = 0, n_b = 0;
  double estimate = 0;  // mean(a) − mean(b)
  double df = 0;        // Welch–Satterthwaite
  double low = 0, high = 0;
  bool clipped = false;      // clipped to [low − high, high − low] of the range
  bool few_samples = false;  // either arm has n < 3
};

// Welch interval for mean(a) − mean(b): estimate ± t_{(1+level)/2, df} · √(s²a/na + s²b/nb),
// df = Welch–Satterthwaite; intersected with [range.low − range.high, range.high − range.low]
// (the differences two values of the range can have). nullopt if an arm has < 2 points, a
// non-finite input, level outside (0, 1), an empty range, or both arms constant (df 0/0).
std::optional<DifferenceInterval> welch_difference_ci(std::span<const double> a,
                                                      std::span<const double> b, ValueRange range,
                                                      double level = 0.95);

}  // namespace stodepth::results::stats
