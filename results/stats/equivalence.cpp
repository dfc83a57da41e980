#include "results/stats/equivalence.h"

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>

#include "results/stats/welch.h"

namespace stodepth::results::stats {
namespace bm = boost::math;

std::optional<EquivalenceTest> tost_welch(std::span<const double> a, std::span<const double> b,
                                          double margin, double alpha) {
  if (!std::isfinite(margin) || margin <= 0 || !(alpha > 0 && alpha < 0.5)) return std::nullopt;
  const auto d = welch_difference(a, b);
  if (!d) return std::nullopt;
  const bm::students_t t(d->df);
  const double p_lower = bm::cdf(bm::complement(t, (d->difference + margin) / d->standard_error));
  const double p_upper = bm::cdf(t, (d->difference - margin) / d->standard_error);
  const double p_value = std::max(p_lower, p_upper);
  const double half = welch_half_width(*d, alpha);
  return EquivalenceTest{.n_a = a.size(),
                         .n_b = b.size(),
                         .difference = d->difference,
                         .standard_error = d->standard_error,
                         .df = d->df,
                         .p_lower = p_lower,
                         .p_upper = p_upper,
                         .p_value = p_value,
                         .ci_low = d->difference - half,
                         .ci_high = d->difference + half,
                         .equivalent = p_value < alpha};
}

}  // namespace stodepth::results::stats
