#include "results/stats/equivalence.h"

#include "results/stats/welch.h"

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>

namespace stodepth::results::stats {
namespace bm = boost::math;

std::optional<EquivalenceTest> tost_welch(std::span<const double> a, std::span<const double> b,
                                          double margin, double alpha) {
  if (!std::isfinite(margin) || margin <= 0 || !(alpha > 0 && alpha < 0.5)) return std::nullopt;
  const auto d = welch_difference(a, b);
  if (!d) return std::nullopt;
  EquivalenceTest r;
  r.n_a = a.size();
  r.n_b = b.size();
  r.difference = d->difference;
  r.standard_error = d->standard_error;
  r.df = d->df;
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
