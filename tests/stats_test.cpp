// Tests for results/stats: every statistic against reference values computed independently
// with Python 3.11 + SciPy 1.10.1 / NumPy 1.24.2 (Debian 12 python3-scipy); the script's
// expressions are quoted next to each constant. Closed forms where noted.
#include "results/stats/stats.h"

#include <algorithm>
#include <boost/math/distributions/fisher_f.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <span>
#include <vector>

using namespace stodepth::results::stats;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Relative agreement to ~10 digits: far tighter than any bug would allow, looser than the
// last-ulp differences between Boost.Math and SciPy's cephes.
Approx rel(double expected) { return Approx(expected).epsilon(1e-10); }

using Vec = std::vector<double>;

// Final accuracies (%) of two arms: unequal sizes (8 vs 13) and unequal variances.
const Vec kA = {93.1, 93.4, 92.8, 93.9, 93.0, 93.6, 92.7, 93.3};
const Vec kB = {94.2, 94.0, 95.1, 93.5, 94.8, 94.4, 93.9, 95.6, 94.1, 94.9, 93.2, 94.6, 95.3};

// Levene's classic test (scipy.stats.levene(center='mean')), written out here: the reports use
// Brown–Forsythe only, and this reference checks brown_forsythe on groups whose medians are
// their means. z_ij = |x_ij − mean_i|; W = (N − k)/(k − 1) · Σ n_i (z̄_i − z̄)² / ΣΣ (z_ij − z̄_i)²
// ~ F(k − 1, N − k). nullopt where brown_forsythe's would be (k < 2, a group of < 2 points, a
// non-finite input, no spread of z).
std::optional<TestResult> levene_mean(const std::vector<std::span<const double>>& groups) {
  if (groups.size() < 2) return std::nullopt;
  std::vector<Vec> z;
  for (std::span<const double> g : groups) {
    if (g.size() < 2 || !std::all_of(g.begin(), g.end(), [](double v) { return std::isfinite(v); }))
      return std::nullopt;
    const double mean = std::accumulate(g.begin(), g.end(), 0.0) / double(g.size());
    Vec& deviations = z.emplace_back();
    for (double v : g) deviations.push_back(std::abs(v - mean));
  }
  const auto mean_of = [](const Vec& v) {
    return std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
  };
  double total = 0;
  size_t n = 0;
  for (const Vec& zi : z) total += mean_of(zi) * double(zi.size()), n += zi.size();
  const double grand = total / double(n);
  double between = 0, within = 0;
  for (const Vec& zi : z) {
    const double m = mean_of(zi);
    between += double(zi.size()) * (m - grand) * (m - grand);
    for (double v : zi) within += (v - m) * (v - m);
  }
  if (within == 0) return std::nullopt;
  const double df1 = double(z.size() - 1), df2 = double(n - z.size());
  const double w = df2 / df1 * between / within;
  const boost::math::fisher_f_distribution<double> f(df1, df2);
  return TestResult{w, df1, df2, boost::math::cdf(boost::math::complement(f, w))};
}

}  // namespace

TEST_CASE("summarize matches numpy mean/std(ddof=1)/min/max") {
  const auto s = summarize(kA);
  REQUIRE(s);
  CHECK(s->n == 8);
  CHECK(s->mean == rel(93.225));                // np.mean(a)
  CHECK(s->stddev == rel(0.4062019202317991));  // np.std(a, ddof=1)
  CHECK(s->min == 92.7);
  CHECK(s->max == 93.9);
}

TEST_CASE("summarize: fewer than 2 points or a non-finite one gives nullopt") {
  CHECK_FALSE(summarize(Vec{}));
  CHECK_FALSE(summarize(Vec{93.0}));
  CHECK_FALSE(summarize(Vec{93.0, kNaN, 92.0}));
  CHECK_FALSE(summarize(Vec{93.0, INFINITY}));
  const auto two = summarize(Vec{1.0, 3.0});
  REQUIRE(two);
  CHECK(two->stddev == rel(std::sqrt(2.0)));  // closed form: ((1−2)² + (3−2)²)/1 = 2
}

TEST_CASE("mean_ci matches scipy.stats.t.interval") {
  // stats.t.interval(level, len(a) - 1, loc=np.mean(a), scale=stats.sem(a))
  const auto ci95 = mean_ci(kA);
  REQUIRE(ci95);
  CHECK(ci95->first == rel(92.8854066963637));
  CHECK(ci95->second == rel(93.56459330363629));
  const auto ci99 = mean_ci(kA, 0.99);
  REQUIRE(ci99);
  CHECK(ci99->first == rel(92.7224249741964));
  CHECK(ci99->second == rel(93.72757502580359));
}

TEST_CASE("mean_ci: degenerate inputs") {
  CHECK_FALSE(mean_ci(Vec{93.0}));
  CHECK_FALSE(mean_ci(Vec{}));
  CHECK_FALSE(mean_ci(kA, 0.0));
  CHECK_FALSE(mean_ci(kA, 1.0));
  CHECK_FALSE(mean_ci(kA, kNaN));
  CHECK_FALSE(mean_ci(Vec{1.0, kNaN, 2.0}));
  // Zero spread is a well-defined zero-width interval, not an error.
  const auto flat = mean_ci(Vec{0.5, 0.5, 0.5});
  REQUIRE(flat);
  CHECK(flat->first == 0.5);
  CHECK(flat->second == 0.5);
}

TEST_CASE("welch_t_test matches scipy.stats.ttest_ind(equal_var=False)") {
  SECTION("unequal sizes and variances") {
    const auto r = welch_t_test(kA, kB);
    REQUIRE(r);
    CHECK(r->statistic == rel(-4.969153009119227));
    // (va + vb)**2 / (va**2/(na-1) + vb**2/(nb-1)), va = np.var(a, ddof=1)/na, ...
    CHECK(r->df1 == rel(18.973201188533302));
    CHECK(std::isnan(r->df2));
    CHECK(r->p_value == rel(8.551121528114823e-05));
    // Swapping the groups flips the sign only.
    const auto s = welch_t_test(kB, kA);
    REQUIRE(s);
    CHECK(s->statistic == rel(4.969153009119227));
    CHECK(s->p_value == rel(r->p_value));
  }
  SECTION("small p keeps its relative accuracy (complement, not 1 − cdf)") {
    const Vec c = {0.912, 0.915, 0.910, 0.913, 0.914};
    const Vec d = {0.931, 0.933, 0.930, 0.934, 0.932, 0.935, 0.931};
    const auto r = welch_t_test(c, d);
    REQUIRE(r);
    CHECK(r->statistic == rel(-17.768813656835817));
    CHECK(r->df1 == rel(8.380713751418266));
    CHECK(r->p_value == Approx(6.027399987965065e-08).epsilon(1e-9));
  }
  SECTION("one constant group: df = n_other − 1 (closed form)") {
    const Vec e = {0.5, 0.5, 0.5};
    const Vec c = {0.912, 0.915, 0.910, 0.913, 0.914};
    const auto r = welch_t_test(e, c);
    REQUIRE(r);
    CHECK(r->statistic == rel(-479.8702527344857));
    CHECK(r->df1 == rel(4.0));
    CHECK(r->p_value == Approx(1.1314708305848925e-10).epsilon(1e-8));  // 2*stats.t.sf(|t|, 4)
  }
}

TEST_CASE("welch_t_test: degenerate inputs give nullopt, never NaN") {
  CHECK_FALSE(welch_t_test(Vec{93.0}, kB));
  CHECK_FALSE(welch_t_test(kA, Vec{}));
  CHECK_FALSE(welch_t_test(Vec{1.0, 1.0, 1.0}, Vec{2.0, 2.0}));  // both variances zero
  CHECK_FALSE(welch_t_test(Vec{1.0, 1.0}, Vec{1.0, 1.0}));       // 0/0
  CHECK_FALSE(welch_t_test(Vec{1.0, kNaN}, kB));
}

TEST_CASE("f_test_equal_variance matches scipy.stats.f, two-sided") {
  // f = np.var(a, ddof=1)/np.var(b, ddof=1);
  // p = min(1, 2*min(stats.f.cdf(f, na-1, nb-1), stats.f.sf(f, na-1, nb-1)))
  const auto r = f_test_equal_variance(kA, kB);
  REQUIRE(r);
  CHECK(r->statistic == rel(0.3317865429234375));
  CHECK(r->df1 == 7);
  CHECK(r->df2 == 12);
  CHECK(r->p_value == rel(0.1512454440589374));
  // Reversed: F → 1/F in the other tail, the same two-sided p.
  const auto s = f_test_equal_variance(kB, kA);
  REQUIRE(s);
  CHECK(s->statistic == rel(3.013986013985981));
  CHECK(s->df1 == 12);
  CHECK(s->df2 == 7);
  CHECK(s->p_value == rel(0.15124544405893744));
}

TEST_CASE("f_test_equal_variance: degenerate inputs") {
  CHECK_FALSE(f_test_equal_variance(Vec{1.0}, kB));
  CHECK_FALSE(f_test_equal_variance(kA, Vec{2.0, 2.0, 2.0}));  // s²b = 0: F undefined
  CHECK_FALSE(f_test_equal_variance(kA, Vec{2.0, kNaN}));
  // s²a = 0 < s²b: F = 0 sits at the bottom of the support, p = 2·P(F ≤ 0) = 0.
  const auto r = f_test_equal_variance(Vec{2.0, 2.0, 2.0}, kB);
  REQUIRE(r);
  CHECK(r->statistic == 0);
  CHECK(r->p_value == 0);
}

TEST_CASE("brown_forsythe and levene_mean match scipy.stats.levene") {
  SECTION("three equal-size groups (the scipy.stats.levene documentation data)") {
    const Vec g1 = {8.88, 9.12, 9.04, 8.98, 9.00, 9.08, 9.01, 8.85, 9.06, 8.99};
    const Vec g2 = {8.88, 8.95, 9.29, 9.44, 9.15, 9.58, 8.36, 9.18, 8.67, 9.05};
    const Vec g3 = {8.95, 9.12, 8.95, 8.85, 9.03, 8.84, 9.07, 8.98, 8.86, 8.98};
    const std::vector<std::span<const double>> groups = {g1, g2, g3};
    const auto bf = brown_forsythe(groups);  // stats.levene(g1, g2, g3, center='median')
    REQUIRE(bf);
    CHECK(bf->statistic == rel(7.584952754501659));
    CHECK(bf->df1 == 2);
    CHECK(bf->df2 == 27);
    CHECK(bf->p_value == rel(0.002431505967249681));
    const auto lv = levene_mean(groups);  // stats.levene(g1, g2, g3, center='mean')
    REQUIRE(lv);
    CHECK(lv->statistic == rel(7.905194483442054));
    CHECK(lv->p_value == rel(0.001983795817472731));
  }
  SECTION("unequal sizes, odd and even (exercises both median branches)") {
    const Vec h1 = {93.1, 93.4, 92.8, 93.9, 93.0, 93.6, 92.7};
    const Vec h2 = {94.2, 94.0, 95.1, 93.5, 94.8, 94.4, 93.9, 95.6, 94.1};
    const Vec h3 = {92.0, 94.5, 93.3, 95.8, 91.2};
    const Vec h4_even = {93.0, 93.5, 94.5, 92.0};
    const std::vector<std::span<const double>> groups = {h1, h2, h3};
    const auto bf = brown_forsythe(groups);
    REQUIRE(bf);
    CHECK(bf->statistic == rel(6.009566642108634));
    CHECK(bf->df1 == 2);
    CHECK(bf->df2 == 18);
    CHECK(bf->p_value == rel(0.010020034206346966));
    const auto lv = levene_mean(groups);
    REQUIRE(lv);
    CHECK(lv->statistic == rel(7.055524176234291));
    CHECK(lv->p_value == rel(0.0054646479081851725));
    // Even-size group: median of {92.0, 93.0, 93.5, 94.5} is 93.25.
    // stats.levene(h1, h4_even, center='median')
    const auto even = brown_forsythe({h1, h4_even});
    REQUIRE(even);
    CHECK(even->statistic == rel(2.679710410557152));
    CHECK(even->p_value == rel(0.13606074265036805));
  }
}

TEST_CASE("brown_forsythe is Levene's mean-centred test on groups whose medians are their means") {
  const Vec s1 = {1.0, 2.0, 4.0, 6.0, 7.0};  // mean = median = 4
  const Vec s2 = {10.0, 13.0, 16.0};         // 13
  const Vec s3 = {5.0, 5.5, 6.5, 7.0};       // 6 (even: the middle pair averages to it)
  const std::vector<std::span<const double>> groups = {s1, s2, s3};
  const auto bf = brown_forsythe(groups);
  const auto lv = levene_mean(groups);
  REQUIRE(bf);
  REQUIRE(lv);
  CHECK(bf->statistic == rel(lv->statistic));
  CHECK(bf->df1 == lv->df1);
  CHECK(bf->df2 == lv->df2);
  CHECK(bf->p_value == rel(lv->p_value));
}

TEST_CASE("Levene-family tests: degenerate inputs") {
  const Vec g = {1.0, 2.0, 4.0};
  const Vec flat = {3.0, 3.0, 3.0};
  CHECK_FALSE(brown_forsythe({}));
  CHECK_FALSE(brown_forsythe({g}));               // one group: no comparison
  CHECK_FALSE(brown_forsythe({g, Vec{5.0}}));     // a group of one point
  CHECK_FALSE(levene_mean({flat, flat}));         // no spread of z at all: 0/0
  CHECK_FALSE(levene_mean({g, Vec{1.0, kNaN}}));  // non-finite input
}

TEST_CASE("moving_average and rolling_stddev match numpy over trailing windows") {
  // numpy: [x[max(0,i-w+1):i+1].mean() ...] and [...std(ddof=1) if i > 0 else nan ...], w = 4
  const Vec x = {0.10, 0.30, 0.25, 0.40, 0.38, 0.52, 0.47, 0.61, 0.58, 0.70};
  const Vec ma_ref = {0.1,   0.2,   0.21666666666666667, 0.2625, 0.3325, 0.3875, 0.4425,
                      0.495, 0.545, 0.5900000000000001};
  const Vec sd_ref = {kNaN,
                      0.1414213562373095,
                      0.10408329997330663,
                      0.125,
                      0.06994045086119097,
                      0.1105667219374799,
                      0.06448514040717701,
                      0.09609023536933048,
                      0.06244997998398398,
                      0.09486832980505137};
  const Vec ma = moving_average(x, 4);
  const Vec sd = rolling_stddev(x, 4);
  REQUIRE(ma.size() == x.size());
  REQUIRE(sd.size() == x.size());
  CHECK(std::isnan(sd[0]));
  for (size_t i = 0; i < x.size(); ++i) {
    INFO("i = " << i);
    CHECK(ma[i] == rel(ma_ref[i]));
    if (i > 0) CHECK(sd[i] == rel(sd_ref[i]));
  }
}

TEST_CASE("moving window edge cases") {
  const Vec x = {1.0, 2.0, 4.0, 8.0};
  CHECK(moving_average(x, 0).empty());
  CHECK(rolling_stddev(x, 0).empty());
  CHECK(moving_average(Vec{}, 3).empty());
  CHECK(moving_average(x, 1) == x);  // a one-point window is the series itself
  for (double s : rolling_stddev(x, 1)) CHECK(std::isnan(s));
  // A window longer than the series is the running (cumulative) mean: 1, 1.5, 7/3, 15/4.
  const Vec cum = moving_average(x, 10);
  CHECK(cum[2] == rel(7.0 / 3));
  CHECK(cum[3] == rel(3.75));
}

TEST_CASE("a non-finite value poisons exactly the windows that hold it") {
  const Vec clean = {0.1, 0.3, 0.2, 0.5, 0.4, 0.6, 0.55, 0.7, 0.65, 0.8};
  Vec x = clean;
  x[3] = kNaN;
  const Vec ma = moving_average(x, 3), ma_clean = moving_average(clean, 3);
  const Vec sd = rolling_stddev(x, 3), sd_clean = rolling_stddev(clean, 3);
  for (size_t i = 0; i < x.size(); ++i) {
    INFO("i = " << i);
    if (i >= 3 && i <= 5) {  // windows [i−2, i] containing index 3
      CHECK(std::isnan(ma[i]));
      CHECK(std::isnan(sd[i]));
    } else {
      CHECK(ma[i] == rel(ma_clean[i]));
      if (i > 0) CHECK(sd[i] == rel(sd_clean[i]));
    }
  }
}

TEST_CASE("rolling statistics stay exact over a long series with a large offset") {
  // Closed form: 1e6 points 1e6 ± 0.5 alternating; any even window of w holds w/2 of each, so
  // mean = 1e6 and sample std = sqrt(w · 0.25 / (w − 1)). A sum-of-squares method loses every
  // digit here (1e12 magnitudes), and unanchored running updates would drift.
  const size_t n = 1'000'000, w = 100;
  Vec x(n);
  for (size_t i = 0; i < n; ++i) x[i] = 1e6 + (i % 2 == 0 ? 0.5 : -0.5);
  const Vec ma = moving_average(x, w);
  const Vec sd = rolling_stddev(x, w);
  const double sd_ref = std::sqrt(w * 0.25 / (w - 1));
  double worst_sd = 0, worst_ma = 0;
  for (size_t i = w - 1; i < n; i += 1) {
    worst_sd = std::max(worst_sd, std::abs(sd[i] - sd_ref) / sd_ref);
    worst_ma = std::max(worst_ma, std::abs(ma[i] - 1e6));
  }
  CHECK(worst_sd < 1e-9);
  CHECK(worst_ma < 1e-8);
}

TEST_CASE("a huge outlier does not corrupt later windows (running state is re-anchored)") {
  // One point of 1e8 amid ~1e-3 noise: while it is in the window M2 ~ 1e16, so running
  // updates leave an absolute error ~ eps · 1e16 ~ 1 in M2, far above the noise's ~1e-4.
  // Reference: a direct two-pass std of each window, computed here.
  const size_t n = 2000, w = 50, spike = 500;
  Vec x(n);
  for (size_t i = 0; i < n; ++i) x[i] = 0.9 + 1e-3 * static_cast<double>((i * 7919) % 17) / 17;
  x[spike] = 1e8;
  const Vec sd = rolling_stddev(x, w);
  for (size_t i = spike + 2 * w; i < n; ++i) {  // past the spike and one full re-anchor period
    const std::span<const double> win(x.data() + i + 1 - w, w);
    double mean = 0, ss = 0;
    for (double v : win) mean += v / w;
    for (double v : win) ss += (v - mean) * (v - mean);
    INFO("i = " << i);
    REQUIRE(sd[i] == rel(std::sqrt(ss / (w - 1))));
  }
}
