// The statistics of a pair (results/report/pair_statistics.h) from hand-built arms whose
// numbers can be checked by hand.
#include "results/report/pair_statistics.h"

#include <catch2/catch.hpp>
#include <cmath>

using namespace stodepth;
using namespace stodepth::results;

namespace {

RunRow run(const std::string& key, double p_L, RunState state, double accuracy, double step_ms) {
  RunRow r;
  r.key = key;
  r.state = state;
  r.config.data.name = "synthetic";
  r.config.model.depth = 20;
  r.config.sd.p_L = p_L;
  r.final_test_accuracy = accuracy;
  r.mean_step_ms = step_ms;
  return r;
}

// A flat curve at 0.8 with a repeating wiggle of `amplitude`: its within-run noise scales
// with the amplitude.
RunSeries wiggle(double amplitude) {
  RunSeries s;
  for (int i = 0; i < 40; ++i) {
    s.eval_iterations.push_back(i + 1);
    s.test_accuracy.push_back(0.8 + amplitude * double(i % 3 - 1));
  }
  return s;
}

struct Fixture {
  Arm base{"ResNet (p_L = 1)", {}, {}}, sd{"SD linear p_L = 0.5", {}, {}};
  std::map<std::string, RunSeries> series;
  Pair pair;
  Fixture() {
    base.runs = {run("b1", 1.0, RunState::kDone, 0.90, 100),
                 run("b2", 1.0, RunState::kDone, 0.92, 100)};
    sd.runs = {run("s1", 0.5, RunState::kDone, 0.93, 80), run("s2", 0.5, RunState::kDone, 0.95, 80),
               run("s3", 0.5, RunState::kFailed, 0.10, 1)};  // not a done run: left out
    // Seeds 1, 2 (3): distinct, as a sweep's are (an arm counts each seed once).
    for (auto* runs : {&base.runs, &sd.runs})
      for (size_t i = 0; i < runs->size(); ++i) (*runs)[i].config.train.seed = i + 1;
    base.config = base.runs[0].config;
    sd.config = sd.runs[0].config;
    for (const char* key : {"b1", "b2"}) series[key] = wiggle(0.01);
    for (const char* key : {"s1", "s2", "s3"}) series[key] = wiggle(0.02);
    pair.baseline = &base;
    pair.stochastic = &sd;
  }
};

}  // namespace

TEST_CASE("mean_of") {
  CHECK_FALSE(mean_of({}).has_value());
  CHECK(*mean_of({1, 2, 6}) == Approx(3));
}

TEST_CASE("each arm: final accuracy over its done runs, and its mean timing") {
  Fixture f;
  add_statistics(f.pair, f.series, ReportOptions{});
  const double spread = std::sqrt(2 * 0.01 * 0.01);  // sample std of {x − 0.01, x + 0.01}
  CHECK(f.pair.base.n == 2);
  CHECK(*f.pair.base.accuracy_mean == Approx(0.91));
  CHECK(*f.pair.base.accuracy_std == Approx(spread));
  CHECK(*f.pair.base.best == Approx(0.92));
  CHECK(*f.pair.sd.accuracy_mean == Approx(0.94));
  CHECK(f.pair.sd.n == 2);
  CHECK(*f.pair.sd.best == Approx(0.95));
  // The Student-t interval of two seeds, 0.94 ± t_{0.975,1} · 0.01 (se = s/√2 = 0.01,
  // t = tan(0.475 π) = 12.706), reaches past 1: clipped there, and flagged as uninformative.
  CHECK(*f.pair.sd.ci_low == Approx(0.94 - 12.706204736174696 * 0.01));
  CHECK(*f.pair.sd.ci_high == 1.0);
  CHECK(f.pair.sd.ci_clipped);
  CHECK(f.pair.sd.few_samples);
  // SD − ResNet: 0.03 with a Welch interval (equal spreads, n = 2 each: df = 2; se = √(2 ·
  // s²/2) = √2 · 0.01; t_{0.975,2} = 0.95/√(2 · 0.975 · 0.025)).
  REQUIRE(f.pair.difference);
  CHECK(f.pair.difference->estimate == Approx(0.03));
  CHECK(f.pair.difference->df == Approx(2));
  CHECK(f.pair.difference->low == Approx(0.03 - 4.302652729749464 * std::sqrt(2.0) * 0.01));
  CHECK(*f.pair.sd.step_ms == Approx(80));
  CHECK(*f.pair.realized_speedup == Approx(100.0 / 80.0));
  CHECK(*f.pair.across_ratio == Approx(1.0));  // the same spread in both arms
  CHECK(*f.pair.theoretical_speedup > 1.0);    // fewer blocks active on average
}

TEST_CASE("within-run noise: twice the wiggle, twice the std") {
  Fixture f;
  ReportOptions options;
  options.smoothing = {stats::SmoothKind::kBox, 4};
  options.tail = 0.5;
  add_statistics(f.pair, f.series, options);
  REQUIRE(f.pair.base.within_run_std.has_value());
  CHECK(*f.pair.base.within_run_std > 0);
  CHECK(*f.pair.within_ratio == Approx(2.0));
}

TEST_CASE("within-run noise is the first-difference estimate over the tail, trend cancelled") {
  // Last quarter (10 of 40 points, i = 30..39): wiggle −1, 0, 1, −1, 0, 1, −1, 0, 1, −1 × a;
  // differences 1, 1, −2 three times: Σ d² = 18 a², σ² = 18 a² / (2 · 9) = a².
  Fixture f;
  for (const char* key : {"s1", "s2"}) {
    RunSeries& s = f.series[key];
    for (size_t i = 0; i < s.test_accuracy.size(); ++i) s.test_accuracy[i] += 0.01 * double(i);
  }
  add_statistics(f.pair, f.series, ReportOptions{});
  CHECK(*f.pair.base.within_run_std == Approx(0.01));
  // The SD arm (a = 0.02) also rises by 0.01 per evaluation: differences a + 0.01, a + 0.01,
  // −2a + 0.01 = 0.03, 0.03, −0.03, so σ² = 9 · 0.03² / 18 and σ = 0.0212 (the rise of 0.09
  // over the tail adds only 0.0012 to the wiggle's 0.02).
  CHECK(*f.pair.sd.within_run_std == Approx(std::sqrt(9 * 0.03 * 0.03 / 18)));
  // ... and is still rising at the end: the seed-averaged tail's OLS slope is 0.0104 per
  // iteration, se 0.0020, t = 5.08 on 8 df (hand-computed); the flat wiggle is not.
  REQUIRE(f.pair.sd.end_slope);
  CHECK(f.pair.sd.end_slope->n == 10);
  CHECK(f.pair.sd.end_slope->slope == Approx(0.010363636363636354));
  CHECK(f.pair.sd.end_slope->t == Approx(5.077963596336046));
  CHECK(f.pair.sd.end_slope->still_improving);
  REQUIRE(f.pair.base.end_slope);
  CHECK_FALSE(f.pair.base.end_slope->still_improving);
}

TEST_CASE("without two done runs per arm, the spreads and tests are unknown") {
  Fixture f;
  f.base.runs.pop_back();
  add_statistics(f.pair, f.series, ReportOptions{});
  CHECK(f.pair.base.n == 1);
  CHECK(*f.pair.base.accuracy_mean == Approx(0.90));
  CHECK_FALSE(f.pair.base.accuracy_std.has_value());
  CHECK_FALSE(f.pair.base.ci_low.has_value());
  CHECK_FALSE(f.pair.welch_p.has_value());
  CHECK_FALSE(f.pair.across_ratio.has_value());
}
