// The report's tables (results/report/report_tables.h) from a hand-built Comparison: which
// statistic lands in which cell, and in what format.
#include "results/report/report_tables.h"

#include <catch2/catch.hpp>

#include "tests/small_comparison.h"

using namespace stodepth;
using namespace stodepth::results;
using Row = std::vector<std::string>;

namespace {

const Table& table_named(const std::vector<Table>& tables, const std::string& name) {
  for (const Table& t : tables)
    if (t.name == name) return t;
  FAIL("no table " << name);
  return tables.front();
}

}  // namespace

TEST_CASE("the tables come in a fixed order, the grouped ones empty unless varied") {
  const Comparison c = testing::small_comparison();
  const auto tables = report_tables(c, {});
  REQUIRE(tables.size() == 7);
  CHECK(tables[0].name == "accuracy");
  CHECK(tables[1].name == "variance");
  CHECK(tables[2].name == "timing");
  CHECK(tables[3].title == "By drop mode");
  CHECK(tables[4].title == "By precision");
  CHECK(tables[5].title == "By schedule");
  CHECK(tables[6].title == "By shortcut");
  for (size_t i = 3; i < tables.size(); ++i) CHECK(tables[i].rows.empty());
  for (const Table& t : tables) {
    CHECK(t.numeric.size() == t.header.size());
    for (const Row& row : t.rows) CHECK(row.size() == t.header.size());
  }
  CHECK(report_title(c) == "stodepth report: small");
}

TEST_CASE("accuracy: percentages with two decimals, error = 100 - accuracy, Welch p on SD") {
  const Comparison c = testing::small_comparison();
  const auto tables = report_tables(c, {});
  const Table& t = table_named(tables, "accuracy");
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[0] == Row{"ResNet-20", "ResNet (p_L = 1)", "2", "90.00", "1.00", "88.00 – 92.00",
                         "91.00", "10.00", ""});
  CHECK(t.rows[1] == Row{"ResNet-20", "SD linear p_L = 0.5", "2", "93.00", "2.00", "90.00 – 96.00",
                         "94.00", "7.00", "<0.0001"});
}

TEST_CASE("accuracy: missing statistics show as a dash") {
  Comparison c = testing::small_comparison();
  c.pairs[0].sd = ArmStats{};
  c.pairs[0].welch_p = 0.04321;
  const auto tables = report_tables(c, {});
  const Table& t = table_named(tables, "accuracy");
  CHECK(t.rows[1] ==
        Row{"ResNet-20", "SD linear p_L = 0.5", "0", "–", "–", "–", "–", "–", "0.0432"});
}

TEST_CASE("variance: spreads in points with three decimals, ratios to the baseline") {
  Comparison c = testing::small_comparison();
  ReportOptions options;
  c.smoothing.used = {stats::SmoothKind::kBox, 7};
  options.tail = 0.5;
  const auto tables = report_tables(c, options);
  const Table& t = table_named(tables, "variance");
  CHECK_THAT(t.caption, Catch::Contains("over the last 50% of training"));
  CHECK_THAT(t.caption, Catch::Contains("std of first differences / √2"));
  CHECK_THAT(t.caption, Catch::Contains("smoothed curve (box:7; every 7-th"));
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[0] == Row{"ResNet-20", "ResNet (p_L = 1)", "0.500", "1", "1.000", "1", "", "", ""});
  CHECK(t.rows[1] == Row{"ResNet-20", "SD linear p_L = 0.5", "1.000", "2.00", "2.000", "2.00",
                         "0.0123", "0.5000", "–"});
}

TEST_CASE("timing: four significant digits, speedups three") {
  const Comparison c = testing::small_comparison();
  const auto tables = report_tables(c, {});
  const Table& t = table_named(tables, "timing");
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[0] ==
        Row{"ResNet-20", "ResNet (p_L = 1)", "100.0", "40.00", "1280", "1", "1", "9.000", "9.000"});
  CHECK(t.rows[1] == Row{"ResNet-20", "SD linear p_L = 0.5", "80.00", "32.00", "1600", "1.25",
                         "1.33", "6.500", "6.750"});
}

TEST_CASE("grouped by schedule: mean accuracies, signed difference and speedup per group") {
  Comparison c = testing::small_comparison();
  // Two more pairs sharing the first's arms but for the schedule of the stochastic arm.
  Arm cosine = *c.pairs[0].stochastic;
  cosine.config.train.lr.kind = LrScheduleKind::kCosine;
  Pair cosine_pair = c.pairs[0];
  cosine_pair.stochastic = &cosine;
  cosine_pair.base.accuracy_mean = 0.80;
  cosine_pair.sd.accuracy_mean = 0.86;
  cosine_pair.realized_speedup = 1.5;
  Pair second_step = c.pairs[0];
  second_step.base.accuracy_mean = 0.70;
  second_step.sd.accuracy_mean = 0.71;
  second_step.realized_speedup = std::nullopt;  // left out of the mean speedup
  c.pairs.push_back(cosine_pair);
  c.pairs.push_back(second_step);
  const auto tables = report_tables(c, {});
  const Table& t = table_named(tables, "schedule");
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[0] == Row{"cosine", "1", "80.00", "86.00", "+6.00", "1.50"});
  // step: ResNet (90 + 70) / 2, SD (93 + 71) / 2, difference (3 + 1) / 2.
  CHECK(t.rows[1] == Row{"step", "2", "80.00", "82.00", "+2.00", "1.25"});
  CHECK(table_named(tables, "shortcut").rows.empty());  // all shortcut A
}

TEST_CASE("headline: Δaccuracy with its Welch CI, speedup, budget; then the seeds needed") {
  Comparison c = testing::small_comparison();
  Pair& p = c.pairs[0];
  p.difference = stats::DifferenceInterval{2, 2, 0.03, 2.0, -0.0012, 0.0612, false, true};
  p.seeds_needed = 7;
  auto lines = pair_headline(p);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] ==
        "SD linear p_L = 0.5 − ResNet (p_L = 1): Δaccuracy +3.00 pp [95% CI -0.12, +6.12] "
        "(Welch, n = 2 vs 2; n < 3: interval uninformative); speedup 1.25×; budget 500 epochs, "
        "batch 128, training set: the whole split.");
  // Seeds 1 and 2 ran in each arm: 5 more make 7.
  CHECK(lines[1] ==
        "A difference of 3.00 points would need ≈ 7 seeds per arm (80% power, α 0.05, from the "
        "observed spread): add seeds 3–7 to the sweep file.");

  // An arm still rising at the end says so, naming the test's p; a 1-epoch budget on a subset.
  stats::SlopeTest rising;
  rising.p_value = 0.0123;
  rising.still_improving = true;
  p.sd.end_slope = rising;
  stats::SlopeTest flat;
  flat.p_value = 0.4;
  p.base.end_slope = flat;
  c.arms[1].config.train.epochs = 1;
  c.arms[1].config.data.train_subset = 600;
  c.arms[1].config.data.validation = 100;
  p.seeds_needed.reset();
  lines = pair_headline(p);
  CHECK_THAT(lines[0], Catch::Contains("budget 1 epoch, batch 128, training set: first 600 "
                                       "examples less 100 for validation. Still improving at "
                                       "the end of training: SD linear p_L = 0.5 (slope p = "
                                       "0.0123); the difference may change with a longer "
                                       "budget."));
  CHECK_THAT(lines[0], !Catch::Contains("ResNet (p_L = 1) (slope"));
  // 1 epoch is far below the paper's budgets: the line says the difference says little.
  CHECK_THAT(lines[0], Catch::EndsWith("A short budget (1 epoch): the paper's gain from "
                                       "stochastic depth shows after hundreds of epochs (500 on "
                                       "CIFAR, 50 on SVHN's 600k images), and early on the "
                                       "regularised arm usually trails; this difference says "
                                       "little about it."));
  CHECK_THAT(lines[1], Catch::Contains("more than 10000 seeds per arm"));
  CHECK_THAT(headline_note(c), Catch::Contains("last 25% of its evaluations"));
}

TEST_CASE("the seeds to add follow the largest seed of the pair's runs, whatever their state") {
  Comparison c = testing::small_comparison();
  const Pair& p = c.pairs[0];
  CHECK(seeds_to_add(p, 3) == "seed 3");
  CHECK(seeds_to_add(p, 5) == "seeds 3–5");
  CHECK(seeds_to_add(p, 2).empty());  // both arms have seeds 1 and 2
  CHECK(seeds_to_add(p, 1).empty());

  // A queued run of seed 5 in the SD arm only: its seed is in the file already, but the plain
  // arm has 2 seeds; 4 per arm needs 2 more, after seed 5.
  auto queued = testing::done_run("sd-5", 0.5, 5, 2, 0, 80);
  queued.state = RunState::kQueued;
  c.arms[1].runs.push_back(queued);
  CHECK(seeds_to_add(p, 4) == "seeds 6–7");
  // Two plain runs of one seed (two survival rules at p_L = 1) are one seed.
  c.arms[0].runs.push_back(testing::done_run("base-1b", 1.0, 1, 2, 0.89, 100));
  CHECK(seeds_to_add(p, 3) == "seed 6");

  // The headline says the edit only when seeds are missing.
  c.pairs[0].difference = stats::DifferenceInterval{2, 2, 0.03, 2.0, -0.0012, 0.0612, false, true};
  c.pairs[0].seeds_needed = 2;
  const auto lines = pair_headline(c.pairs[0]);
  REQUIRE(lines.size() == 2);
  CHECK_THAT(lines[1], Catch::EndsWith("≈ 2 seeds per arm (80% power, α 0.05, from the observed "
                                       "spread)."));
}

TEST_CASE("headline without an interval says why") {
  Comparison c = testing::small_comparison();
  const auto lines = pair_headline(c.pairs[0]);
  REQUIRE(lines.size() == 1);  // no difference interval: no power line either
  CHECK_THAT(lines[0], Catch::Contains("Δaccuracy +3.00 pp (no interval: fewer than 2 seeds or "
                                       "no spread)"));
}

TEST_CASE("smoothing warning names the requested and the clipped width") {
  Comparison c = testing::small_comparison();
  CHECK(smoothing_warning(c).empty());
  c.smoothing = {{stats::SmoothKind::kEwma, 20}, {stats::SmoothKind::kEwma, 1}, 4, true};
  CHECK(smoothing_warning(c) ==
        "Smoothing clipped: ewma:20 is wider than a quarter of the shortest run (4 "
        "evaluations); the report uses ewma:1.");
}

TEST_CASE("accuracy CI cells flag clipping and fewer than 3 seeds") {
  Comparison c = testing::small_comparison();
  c.pairs[0].sd.few_samples = true;
  c.pairs[0].sd.ci_clipped = true;
  c.pairs[0].sd.ci_high = 1.0;
  const Table t = report_tables(c, {})[0];
  CHECK(t.rows[1][5] == "90.00 – 100.00 (clipped) (n=2: interval uninformative)");
  CHECK(t.rows[0][5] == "88.00 – 92.00");
}

TEST_CASE("by drop mode: the modes side by side at equal other settings") {
  Comparison c = testing::small_comparison();
  Arm sample = c.arms[1];
  sample.label = "SD linear p_L = 0.5, sample mode";
  sample.config.sd.mode = DropMode::kSample;
  c.arms.push_back(sample);  // may move the arms: the pairs are pointed at them again below
  c.pairs[0].baseline = &c.arms[0];
  c.pairs[0].stochastic = &c.arms[1];
  Pair other = c.pairs[0];
  other.stochastic = &c.arms[2];
  other.sd.accuracy_mean = 0.95;
  other.sd.step_ms = 90;
  c.pairs.push_back(other);
  const auto tables = report_tables(c, {});
  const Table& t = table_named(tables, "modes");
  REQUIRE(t.rows.size() == 2);
  CHECK(t.rows[0] == Row{"ResNet-20", "linear, p_L = 0.5", "batch", "2", "93.00 [90.00 – 96.00]",
                         "2.000", "1.000", "80.00"});
  CHECK(t.rows[1] == Row{"ResNet-20", "linear, p_L = 0.5", "sample", "2", "95.00 [90.00 – 96.00]",
                         "2.000", "1.000", "90.00"});
}

TEST_CASE("by precision: each arm at f32 and bf16, bf16's speed relative to f32") {
  Comparison c = testing::small_comparison();
  for (int i : {0, 1}) {
    Arm bf16 = c.arms[size_t(i)];
    bf16.config.train.precision = Precision::kBf16;
    bf16.label += ", bf16";
    c.arms.push_back(bf16);
  }
  c.pairs[0].baseline = &c.arms[0];  // the arms moved
  c.pairs[0].stochastic = &c.arms[1];
  Pair bf16 = c.pairs[0];
  bf16.baseline = &c.arms[2];
  bf16.stochastic = &c.arms[3];
  bf16.short_title = "ResNet-20, train.precision=bf16";
  bf16.base.step_ms = 50;
  bf16.sd.step_ms = 32;
  bf16.sd.accuracy_mean = 0.925;
  c.pairs.push_back(bf16);
  // Another p_L at f32 alone: nothing to compare it with.
  Arm other = c.arms[1];
  other.config.sd.p_L = 0.8;
  c.arms.push_back(other);
  Pair lone = c.pairs[0];
  lone.baseline = &c.arms[0];
  lone.stochastic = &c.arms[4];
  c.pairs[0].baseline = &c.arms[0];
  c.pairs[0].stochastic = &c.arms[1];
  c.pairs[1].baseline = &c.arms[2];
  c.pairs[1].stochastic = &c.arms[3];
  c.pairs.push_back(lone);
  const auto tables = report_tables(c, {});
  const Table& t = table_named(tables, "precision");
  REQUIRE(t.rows.size() == 4);
  CHECK(t.rows[0] == Row{"ResNet-20", "ResNet (p_L = 1)", "f32", "2", "90.00 [88.00 – 92.00]",
                         "1.000", "0.500", "100.0", "1.00"});
  CHECK(t.rows[1] == Row{"ResNet-20", "ResNet (p_L = 1)", "bf16", "2", "90.00 [88.00 – 92.00]",
                         "1.000", "0.500", "50.00", "2.00"});
  CHECK(t.rows[2][1] == "SD linear p_L = 0.5");
  CHECK(t.rows[2][2] == "f32");
  CHECK(t.rows[3] == Row{"ResNet-20", "SD linear p_L = 0.5", "bf16", "2", "92.50 [90.00 – 96.00]",
                         "2.000", "1.000", "32.00", "2.50"});
}

TEST_CASE("accuracy: runs with a validation split add the paper's measure, said to be it") {
  Comparison c = testing::small_comparison();
  CHECK(table_named(report_tables(c, {}), "accuracy").header.size() == 9);  // none: no column
  c.pairs[0].sd.at_best_validation_n = 2;
  c.pairs[0].sd.at_best_validation_mean = 0.925;
  c.pairs[0].sd.at_best_validation_ci_low = 0.9;
  c.pairs[0].sd.at_best_validation_ci_high = 0.95;
  const auto tables = report_tables(c, {});
  const Table& t = table_named(tables, "accuracy");
  REQUIRE(t.header.size() == 10);
  CHECK(t.header.back() == "at best validation %");
  CHECK(t.rows[1].back() == "92.50 [90.00 – 95.00]");
  CHECK(t.rows[0].back() == "–");
  CHECK_THAT(t.caption, Catch::Contains("what the paper reports"));
}
