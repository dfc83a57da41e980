#include "results/stats/welch.h"

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>

namespace stodepth::results::stats {

bool usable(std::span<const double> x) {
  return x.size() >= 2 &&
         std::all_of(x.begin(), x.end(), [](double v) { return std::isfinite(v); });
}

Moments moments(std::span<const double> x) {
  double sum = 0;
  for (double v : x) sum += v;
  const double mean = sum / double(x.size());
  double ss = 0;
  for (double v : x) ss += (v - mean) * (v - mean);
  return {mean, ss / double(x.size() - 1)};
}

std::optional<WelchDifference> welch_difference(std::span<const double> a,
                                                std::span<const double> b) {
  if (!usable(a) || !usable(b)) return std::nullopt;
  const Moments ma = moments(a), mb = moments(b);
  const double va = ma.variance / double(a.size()), vb = mb.variance / double(b.size());
  if (va + vb <= 0) return std::nullopt;
  WelchDifference d;
  d.difference = ma.mean - mb.mean;
  d.standard_error = std::sqrt(va + vb);
  d.df = (va + vb) * (va + vb) / (va * va / double(a.size() - 1) + vb * vb / double(b.size() - 1));
  return d;
}

double welch_half_width(const WelchDifference& d, double upper_tail) {
  namespace bm = boost::math;
  return bm::quantile(bm::complement(bm::students_t(d.df), upper_tail)) * d.standard_error;
}

}  // namespace stodepth::results::stats
