#include "results/stats/trend.h"

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>

namespace stodepth::results::stats {
namespace {

bool all_finite(std::span<const double> x) {
  return std::all_of(x.begin(), x.end(), [](double v) { return std::isfinite(v); });
}

double mean(std::span<const double> x) {
  double s = 0;
  for (double v : x) s += v;
  return s / double(x.size());
}

}  // namespace

std::optional<double> noise_stddev(std::span<const double> x) {
  if (x.size() < 2 || !all_finite(x)) return std::nullopt;
  double ss = 0;
  for (size_t i = 1; i < x.size(); ++i) ss += (x[i] - x[i - 1]) * (x[i] - x[i - 1]);
  return std::sqrt(ss / (2 * double(x.size() - 1)));
}

std::optional<SlopeTest> slope_test(std::span<const double> iterations,
                                    std::span<const double> values, double tail_fraction) {
  if (iterations.size() != values.size() || !(tail_fraction > 0 && tail_fraction <= 1) ||
      !all_finite(iterations) || !all_finite(values))
    return std::nullopt;
  const auto n = static_cast<size_t>(std::llround(tail_fraction * double(values.size())));
  if (n < 3) return std::nullopt;
  const auto x = iterations.last(n), y = values.last(n);
  const double mx = mean(x), my = mean(y);
  double sxx = 0, sxy = 0;
  for (size_t i = 0; i < n; ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  if (sxx <= 0) return std::nullopt;
  SlopeTest r;
  r.n = n;
  r.slope = sxy / sxx;
  const double intercept = my - r.slope * mx;
  double ssr = 0;
  for (size_t i = 0; i < n; ++i) {
    const double e = y[i] - (intercept + r.slope * x[i]);
    ssr += e * e;
  }
  r.df = double(n - 2);
  r.standard_error = std::sqrt(ssr / r.df / sxx);
  if (!(r.standard_error > 0)) return std::nullopt;
  r.t = r.slope / r.standard_error;
  r.p_value = boost::math::cdf(boost::math::complement(boost::math::students_t(r.df), r.t));
  r.still_improving = r.p_value < 0.05;
  return r;
}

}  // namespace stodepth::results::stats
