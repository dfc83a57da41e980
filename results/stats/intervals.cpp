#include "results/stats/intervals.h"

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>

#include "results/stats/welch.h"

namespace stodepth::results::stats {
namespace {

namespace bm = boost::math;

// Upper (1 − level)/2 quantile of t(df), via the complement (exact for levels near 1).
double t_quantile(double level, double df) {
  return bm::quantile(bm::complement(bm::students_t(df), (1 - level) / 2));
}

bool valid(double level, ValueRange range) {
  return level > 0 && level < 1 && std::isfinite(range.low) && std::isfinite(range.high) &&
         range.low < range.high;
}

}  // namespace

std::optional<BoundedInterval> bounded_mean_ci(std::span<const double> x, ValueRange range,
                                               double level) {
  if (!usable(x) || !valid(level, range)) return std::nullopt;
  const Moments m = moments(x);
  const double n = double(x.size());
  const double half = t_quantile(level, n - 1) * std::sqrt(m.variance / n);
  BoundedInterval r;
  r.n = x.size();
  r.estimate = m.mean;
  r.low = std::max(range.low, m.mean - half);
  r.high = std::min(range.high, m.mean + half);
  r.clipped = m.mean - half < range.low || m.mean + half > range.high;
  r.few_samples = x.size() < 3;
  return r;
}

std::optional<DifferenceInterval> welch_difference_ci(std::span<const double> a,
                                                      std::span<const double> b, ValueRange range,
                                                      double level) {
  if (!valid(level, range)) return std::nullopt;
  const auto d = welch_difference(a, b);
  if (!d) return std::nullopt;
  const double half = welch_half_width(*d, (1 - level) / 2);
  const double span = range.high - range.low;  // the widest difference the range allows
  const double low = d->difference - half, high = d->difference + half;
  return DifferenceInterval{.n_a = a.size(),
                            .n_b = b.size(),
                            .estimate = d->difference,
                            .df = d->df,
                            .low = std::max(-span, low),
                            .high = std::min(span, high),
                            .clipped = low < -span || high > span,
                            .few_samples = a.size() < 3 || b.size() < 3};
}

}  // namespace stodepth::results::stats
