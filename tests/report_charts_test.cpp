// The report's charts as data (results/report/report_charts.h), from a hand-built Comparison
// whose series are short enough to average by hand.
#include "results/report/report_charts.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "tests/small_comparison.h"

using namespace stodepth;
using namespace stodepth::results;

namespace {

const stats::Smoothing kBox2{stats::SmoothKind::kBox, 2};

void check_near(const std::vector<double>& actual, const std::vector<double>& expected) {
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < actual.size(); ++i) CHECK(actual[i] == Approx(expected[i]));
}

}  // namespace

TEST_CASE("a pair: both arms' curves of the first common seed, then the across-seed bands") {
  const Comparison c = testing::small_comparison();
  const auto figures = pair_figures(c, c.pairs[0], kBox2);
  REQUIRE(figures.size() == 3);
  CHECK(figures[0].chart.title == "Test-batch accuracy per iteration, seed 1");
  CHECK(figures[1].chart.title == "Test-batch loss per iteration, seed 1");
  CHECK_THAT(figures[0].caption,
             Catch::Contains("smoothed (box:2: trailing mean over 2 evaluations)"));

  // Raw and smoothed per arm, then the learning rate on the right-hand axis.
  const auto& accuracy = figures[0].chart.series;
  REQUIRE(accuracy.size() == 5);
  CHECK(accuracy[0].style == svg::Series::kFaintPoints);
  check_near(accuracy[0].y, c.series.at("base-1").test_accuracy);
  CHECK(accuracy[1].label == "ResNet (p_L = 1) (box:2 ± rolling std)");
  check_near(accuracy[1].y, {0.5, 0.6, 0.75, 0.845});  // base-1 over windows of 2
  check_near(accuracy[3].y, {0.5, 0.55, 0.75, 0.91});  // sd-1
  CHECK(accuracy[4].secondary_axis);
  check_near(accuracy[4].y, {0.1, 0.1, 0.01, 0.01});
  check_near(figures[1].chart.series[0].y, c.series.at("base-1").test_loss);

  // Per-seed moving averages (window 2) of base-1 and base-2, then their mean ± std.
  const auto& seeds = figures[2].chart.series;
  REQUIRE(seeds.size() == 2);
  CHECK(seeds[0].label == "ResNet (p_L = 1) (mean ± std over 2 seeds)");
  check_near(seeds[0].x, {10, 20, 30, 40});
  check_near(seeds[0].y, {0.5, 0.6, 0.75, 0.85});
  const double spread = std::sqrt(2 * 0.005 * 0.005);  // std of {0.845, 0.855}
  check_near(*seeds[0].band_high, {0.5, 0.6, 0.75, 0.85 + spread});
  check_near(*seeds[0].band_low, {0.5, 0.6, 0.75, 0.85 - spread});
  check_near(seeds[1].y, {0.5, 0.6, 0.8, 0.915});  // sd-1 and sd-2
}

TEST_CASE("a pair without a common seed or a second seed has fewer charts") {
  Comparison c = testing::small_comparison();
  for (RunRow& r : c.arms[1].runs) r.config.train.seed += 10;
  CHECK(pair_figures(c, c.pairs[0], kBox2).size() == 1);  // across seeds only
  c.arms[0].runs[1].state = RunState::kFailed;
  c.arms[1].runs[1].state = RunState::kFailed;
  CHECK(pair_figures(c, c.pairs[0], kBox2).empty());
}

TEST_CASE("final accuracy against p_L: the plain ResNet ends each rule's line") {
  Comparison c = testing::small_comparison();
  const double spread = std::sqrt(2 * 0.01 * 0.01);  // std of {0.92, 0.94} and {0.89, 0.91}
  {
    const auto figures = survival_figures(c);
    REQUIRE(figures.size() == 1);
    // The uniform line would have the plain point only: not drawn.
    const auto& series = figures[0].chart.series;
    REQUIRE(series.size() == 1);
    CHECK(series[0].label == "synthetic ResNet-20 linear");
    check_near(series[0].x, {0.5, 1.0});
    check_near(series[0].y, {0.93, 0.90});
    check_near(*series[0].error, {spread, spread});
  }
  // A uniform arm (its pairs are not needed here, so the arms may move).
  Arm uniform = c.arms[1];
  uniform.config.sd.rule = SurvivalRule::kUniform;
  uniform.config.sd.p_L = 0.8;
  c.arms.push_back(uniform);
  const auto figures = survival_figures(c);
  REQUIRE(figures.size() == 1);
  const auto& series = figures[0].chart.series;
  REQUIRE(series.size() == 2);
  CHECK(series[1].label == "synthetic ResNet-20 uniform");
  check_near(series[1].x, {0.8, 1.0});
  check_near(series[1].y, {0.93, 0.90});
}

TEST_CASE("against depth: accuracy and epoch time, one line per arm with two depths") {
  Comparison c = testing::small_comparison();
  CHECK(depth_figures(c).empty());  // one depth
  // A plain ResNet-56 arm (its pairs are not needed here, so the arms may move).
  Arm deep = c.arms[0];
  deep.config.model.depth = 56;
  for (RunRow& r : deep.runs) {
    r.key += "-deep";
    r.mean_step_ms = 300;
    c.series[r.key] = testing::four_evaluations({0.5, 0.6, 0.7, 0.8});
  }
  deep.runs[0].final_test_accuracy = 0.80;
  deep.runs[1].final_test_accuracy = 0.82;
  c.arms.push_back(deep);
  const auto figures = depth_figures(c);
  REQUIRE(figures.size() == 2);
  CHECK(figures[0].chart.title == "Final accuracy against depth");
  REQUIRE(figures[0].chart.series.size() == 1);  // the SD arm has one depth only
  CHECK(figures[0].chart.series[0].label == "synthetic ResNet (p_L = 1)");
  check_near(figures[0].chart.series[0].x, {20, 56});
  check_near(figures[0].chart.series[0].y, {0.90, 0.81});
  // Step time × 20 steps in epoch 1: 100 ms → 2 s, 300 ms → 6 s.
  CHECK(figures[1].chart.title == "Training time per epoch against depth");
  REQUIRE(figures[1].chart.series.size() == 1);
  check_near(figures[1].chart.series[0].y, {2.0, 6.0});
  check_near(*figures[1].chart.series[0].error, {0.0, 0.0});
}

TEST_CASE("accuracy axes stay within [0, 1]: error bars near 1 do not stretch them") {
  Comparison c = testing::small_comparison();
  // SD seeds 0.92 and 1.0: mean 0.96, std 0.057 — the error bar reaches 1.017.
  c.arms[1].runs[1].final_test_accuracy = 1.0;
  const auto figures = survival_figures(c);
  REQUIRE(figures.size() == 1);
  REQUIRE(figures[0].chart.y_range);
  CHECK(figures[0].chart.y_range->second == 1.0);
  CHECK(figures[0].chart.y_range->first >= 0.0);
  CHECK(figures[0].chart.y_range->first < 0.89);  // the lowest point stays inside
  // The curves' charts too (bands around 0.5 .. 0.94), but not the loss.
  const auto pair = pair_figures(c, c.pairs[0], kBox2);
  REQUIRE(pair.size() == 3);
  CHECK(pair[0].chart.y_range);
  CHECK(pair[0].chart.y_range->second <= 1.0);
  CHECK_FALSE(pair[1].chart.y_range);
  CHECK(pair[2].chart.y_range);
}

TEST_CASE("Fig. 8: mean test error over the depth × p_L grid, values in the cells") {
  Comparison c = testing::small_comparison();
  CHECK(depth_survival_figures(c).empty());  // one depth
  // ResNet-56, plain and SD p_L = 0.5 (the pairs are not needed here, so the arms may move).
  for (size_t i : {0, 1}) {
    Arm deep = c.arms[i];
    deep.config.model.depth = 56;
    for (RunRow& r : deep.runs) {
      r.key += "-deep";
      *r.final_test_accuracy -= 0.05;  // plain {0.84, 0.86}, SD {0.87, 0.89}
    }
    c.arms.push_back(deep);
  }
  const auto figures = depth_survival_figures(c);
  REQUIRE(figures.size() == 1);
  REQUIRE(figures[0].heatmap);
  const svg::Heatmap& h = *figures[0].heatmap;
  CHECK(h.title == "Test error (%) over depth and p_L: synthetic, linear rule, batch mode");
  CHECK(h.columns == std::vector<std::string>{"0.5", "1"});
  CHECK(h.rows == std::vector<std::string>{"56", "20"});  // deepest on top
  // Error = 100 (1 − accuracy), mean over seeds: ResNet-20 plain {11, 9} → 10, SD {8, 6} → 7.
  CHECK(h.cell_text ==
        std::vector<std::vector<std::string>>{{"12.00", "15.00"}, {"7.00", "10.00"}});
  CHECK(*h.values[1][1] == Approx(10.0));
  CHECK_THAT(figures[0].caption, Catch::Contains("Fig. 8"));
}

TEST_CASE("against p_L, drop modes are separate lines, each ended by the plain ResNet") {
  Comparison c = testing::small_comparison();
  Arm sample = c.arms[1];  // (the pairs are not needed here, so the arms may move)
  sample.config.sd.mode = DropMode::kSample;
  for (RunRow& r : sample.runs) *r.final_test_accuracy += 0.02;  // {0.94, 0.96}
  c.arms.push_back(sample);
  const auto figures = survival_figures(c);
  REQUIRE(figures.size() == 1);
  const auto& series = figures[0].chart.series;
  REQUIRE(series.size() == 2);
  CHECK(series[0].label == "synthetic ResNet-20 linear, batch mode");
  check_near(series[0].y, {0.93, 0.90});
  CHECK(series[1].label == "synthetic ResNet-20 linear, sample mode");
  check_near(series[1].y, {0.95, 0.90});
}
