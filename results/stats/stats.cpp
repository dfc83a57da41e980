#include "results/stats/stats.h"

#include <algorithm>
#include <boost/math/distributions/fisher_f.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <limits>

#include "results/stats/no_throw.h"
#include "results/stats/welch.h"

namespace stodepth::results::stats {
namespace {

namespace bm = boost::math;

using StudentT = bm::students_t_distribution<double, NoThrow>;
using FisherF = bm::fisher_f_distribution<double, NoThrow>;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::optional<TestResult> finite_or_none(TestResult r) {
  if (!std::isfinite(r.statistic) || !std::isfinite(r.p_value)) return std::nullopt;
  return r;
}

double median(std::span<const double> x) {
  std::vector<double> v(x.begin(), x.end());
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  if (v.size() % 2 == 1) return v[mid];
  // Even n: the lower middle value is the largest of the first half.
  const double lower = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return (lower + v[mid]) / 2;
}

// Brown–Forsythe W: one-way ANOVA F on z_ij = |x_ij − median(group i)|.
std::optional<TestResult> median_levene(const std::vector<std::span<const double>>& groups) {
  const size_t k = groups.size();
  if (k < 2) return std::nullopt;
  if (!std::all_of(groups.begin(), groups.end(), usable)) return std::nullopt;

  std::vector<std::vector<double>> z(k);
  std::vector<double> z_mean(k);
  size_t n_total = 0;
  double z_sum = 0;
  for (size_t i = 0; i < k; ++i) {
    const double c = median(groups[i]);
    for (double v : groups[i]) z[i].push_back(std::abs(v - c));
    double s = 0;
    for (double v : z[i]) s += v;
    z_mean[i] = s / static_cast<double>(z[i].size());
    n_total += z[i].size();
    z_sum += s;
  }
  const double z_grand = z_sum / static_cast<double>(n_total);

  double between = 0, within = 0;  // Σ n_i (z̄_i − z̄)², Σ Σ (z_ij − z̄_i)²
  for (size_t i = 0; i < k; ++i) {
    between += static_cast<double>(z[i].size()) * (z_mean[i] - z_grand) * (z_mean[i] - z_grand);
    for (double v : z[i]) within += (v - z_mean[i]) * (v - z_mean[i]);
  }
  if (within <= 0) return std::nullopt;

  const double df1 = static_cast<double>(k - 1);
  const double df2 = static_cast<double>(n_total - k);
  const double w = (df2 / df1) * between / within;
  const double p = bm::cdf(bm::complement(FisherF(df1, df2), w));
  return finite_or_none({w, df1, df2, p});
}

// Running count / mean / M2 of the finite values in a sliding window (Welford with removal);
// non-finite values are only counted, so they poison exactly the windows that hold them.
class WindowMoments {
 public:
  void add(double v) {
    if (!std::isfinite(v)) {
      ++nonfinite_;
      return;
    }
    ++n_;
    const double d = v - mean_;
    mean_ += d / static_cast<double>(n_);
    m2_ += d * (v - mean_);
  }

  void remove(double v) {
    if (!std::isfinite(v)) {
      --nonfinite_;
      return;
    }
    if (--n_ == 0) {
      mean_ = m2_ = 0;
      return;
    }
    const double d = v - mean_;
    mean_ -= d / static_cast<double>(n_);
    m2_ = std::max(0.0, m2_ - d * (v - mean_));  // rounding must not make M2 negative
  }

  // Exact two-pass moments of a whole window, discarding accumulated rounding.
  static WindowMoments exact(std::span<const double> w) {
    WindowMoments m;
    double sum = 0;
    for (double v : w) {
      if (std::isfinite(v)) {
        ++m.n_;
        sum += v;
      } else {
        ++m.nonfinite_;
      }
    }
    if (m.n_ == 0) return m;
    m.mean_ = sum / static_cast<double>(m.n_);
    for (double v : w) {
      if (std::isfinite(v)) m.m2_ += (v - m.mean_) * (v - m.mean_);
    }
    return m;
  }

  double mean() const { return nonfinite_ > 0 ? kNaN : mean_; }
  double stddev() const {
    if (nonfinite_ > 0 || n_ < 2) return kNaN;
    return std::sqrt(m2_ / static_cast<double>(n_ - 1));
  }

 private:
  size_t n_ = 0, nonfinite_ = 0;
  double mean_ = 0, m2_ = 0;
};

// Calls visit(i, moments of x[max(0, i − window + 1) .. i]) for every i, in O(n) overall:
// one update per step plus an O(window) exact recompute every `window` steps.
template <typename Visit>
void for_each_trailing_window(std::span<const double> x, size_t window, Visit visit) {
  WindowMoments m;
  size_t since_anchor = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const size_t first = i + 1 >= window ? i + 1 - window : 0;
    if (++since_anchor >= window) {
      m = WindowMoments::exact(x.subspan(first, i + 1 - first));
      since_anchor = 0;
    } else {
      m.add(x[i]);
      if (i >= window) m.remove(x[i - window]);
    }
    visit(i, m);
  }
}

}  // namespace

std::optional<Summary> summarize(std::span<const double> x) {
  if (!usable(x)) return std::nullopt;
  const Moments m = moments(x);
  const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
  return Summary{x.size(), m.mean, std::sqrt(m.variance), *lo, *hi};
}

std::optional<std::pair<double, double>> mean_ci(std::span<const double> x, double level) {
  if (!usable(x) || !(level > 0 && level < 1)) return std::nullopt;
  const Moments m = moments(x);
  const double n = static_cast<double>(x.size());
  // Upper (1 − level)/2 quantile via the complement: exact for levels close to 1.
  const double t = bm::quantile(bm::complement(StudentT(n - 1), (1 - level) / 2));
  const double half = t * std::sqrt(m.variance / n);
  if (!std::isfinite(half)) return std::nullopt;
  return std::pair{m.mean - half, m.mean + half};
}

std::optional<TestResult> welch_t_test(std::span<const double> a, std::span<const double> b) {
  const auto d = welch_difference(a, b);
  if (!d) return std::nullopt;
  const double t = d->difference / d->standard_error;
  const double p = 2 * bm::cdf(bm::complement(StudentT(d->df), std::abs(t)));
  return finite_or_none({t, d->df, kNaN, p});
}

std::optional<TestResult> f_test_equal_variance(std::span<const double> a,
                                                std::span<const double> b) {
  if (!usable(a) || !usable(b)) return std::nullopt;
  const double var_b = moments(b).variance;
  if (var_b <= 0) return std::nullopt;
  const double f = moments(a).variance / var_b;
  const double df1 = static_cast<double>(a.size() - 1);
  const double df2 = static_cast<double>(b.size() - 1);
  const FisherF dist(df1, df2);
  const double tail = std::min(bm::cdf(dist, f), bm::cdf(bm::complement(dist, f)));
  return finite_or_none({f, df1, df2, std::min(1.0, 2 * tail)});
}

std::optional<TestResult> brown_forsythe(const std::vector<std::span<const double>>& groups) {
  return median_levene(groups);
}

std::vector<double> moving_average(std::span<const double> x, size_t window) {
  if (window == 0) return {};
  std::vector<double> out(x.size());
  for_each_trailing_window(x, window, [&](size_t i, const WindowMoments& m) { out[i] = m.mean(); });
  return out;
}

std::vector<double> rolling_stddev(std::span<const double> x, size_t window) {
  if (window == 0) return {};
  std::vector<double> out(x.size());
  for_each_trailing_window(x, window,
                           [&](size_t i, const WindowMoments& m) { out[i] = m.stddev(); });
  return out;
}

}  // namespace stodepth::results::stats
