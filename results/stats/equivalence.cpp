#include "results/stats/equivalence.h"

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>

namespace stodepth::results::stats {
namespace {

namespace bm = boost::math;

bool usable(std::span<const double> x) {
  return x.size() >= 2 &&
         std::all_of(x.begin(), x.end(), [](double v) { return std::isfinite(v); });
}

// Mean and sample variance (n − 1), two passes.
std::pair<double, double> moments(std::span<const double> x) {
  double sum = 0;
  for (double v : x) sum += v;
  const double mean = sum / double(x.size());
  double ss = 0;
  for (double v : x) ss += (v - mean) * (v - mean);
  return {mean, ss / double(x.size() - 1)};
}

}  // namespace

std::optional<EquivalenceTest> tost_welch(std::span<const double> a, std::span<const double> b,
                                          double margin, double alpha) {
  if (!usable(a) || !usable(b) || !std::isfinite(margin) || margin <= 0 ||
      !(alpha > 0 && alpha < 0.5))
    return std::nullopt;
  const auto [mean_a, var_a] = moments(a);
  const auto [mean_b, var_b] = moments(b);
  const double va = var_a / double(a.size()), vb = var_b / double(b.size());
  if (va + vb <= 0) return std::nullopt;
  EquivalenceTest r;
  r.n_a = a.size();
  r.n_b = b.size();
  r.difference = mean_a - mean_b;
  r.standard_error = std::sqrt(va + vb);
  r.df = (va + vb) * (va + vb) / (va * va / double(a.size() - 1) + vb * vb / double(b.size() - 1));
  const bm::students_t t(r.df);
  r.p_lower = bm::cdf(bm::complement(t, (r.difference + margin) / r.standard_error));
  r.p_upper = bm::cdf(t, (r.difference - margin) / r.standard_error);
  r.p_value = std::max(r.p_lower, r.p_upper);
  const double half = bm::quantile(bm::complement(t, alpha)) * r.standard_error;
  r.ci_low = r.difference - half;
  r.ci_high = r.difference + half;
  r.equivalent = r.p_value < alpha;
  return r;
}

}  // namespace stodepth::results::stats
