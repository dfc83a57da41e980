#include "results/stats/power.h"

#include <boost/math/distributions/non_central_t.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>

#include "results/stats/no_throw.h"

namespace stodepth::results::stats {

namespace bm = boost::math;

std::optional<double> welch_power(double delta, double sd_a, double sd_b, size_t n, double alpha) {
  if (n < 2 || !std::isfinite(delta) || !std::isfinite(sd_a) || !std::isfinite(sd_b) || sd_a < 0 ||
      sd_b < 0 || !(alpha > 0 && alpha < 1))
    return std::nullopt;
  const double va = sd_a * sd_a / double(n), vb = sd_b * sd_b / double(n);
  if (va + vb <= 0) return std::nullopt;
  const double df = (va + vb) * (va + vb) / ((va * va + vb * vb) / double(n - 1));
  const double ncp = std::abs(delta) / std::sqrt(va + vb);
  const double critical =
      bm::quantile(bm::complement(bm::students_t_distribution<double, NoThrow>(df), alpha / 2));
  const bm::non_central_t_distribution<double, NoThrow> shifted(df, ncp);
  const double power = bm::cdf(bm::complement(shifted, critical)) + bm::cdf(shifted, -critical);
  if (!std::isfinite(power)) return std::nullopt;
  return power;
}

std::optional<size_t> seeds_needed(double delta, double sd_a, double sd_b, double alpha,
                                   double power) {
  if (!std::isfinite(delta) || delta == 0 || !(power > 0 && power < 1)) return std::nullopt;
  const auto reaches = [&](size_t n) -> std::optional<bool> {
    const auto p = welch_power(delta, sd_a, sd_b, n, alpha);
    if (!p) return std::nullopt;
    return *p >= power;
  };
  // Power rises with n: bisect for the first n that reaches it.
  const auto at_max = reaches(kMaxSeedsPerArm);
  if (!at_max || !*at_max) return std::nullopt;
  size_t low = 1, high = kMaxSeedsPerArm;  // reaches(low) false (or n < 2), reaches(high) true
  while (high - low > 1) {
    const size_t mid = low + (high - low) / 2;
    const auto r = reaches(mid);
    if (!r) return std::nullopt;
    (*r ? high : low) = mid;
  }
  return high;
}

}  // namespace stodepth::results::stats
