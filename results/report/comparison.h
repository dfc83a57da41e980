// The comparison a report shows, as plain values: the sweep's runs grouped into arms, the
// arms paired (plain ResNet vs stochastic depth) with their statistics, and the per-run
// series the charts need. compare() (report.h) builds it once from the store; every
// rendering (HTML, Markdown, CSV) only formats it, so tests can hand-build one.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/config/records.h"
#include "results/stats/intervals.h"
#include "results/stats/smoothing.h"
#include "results/stats/trend.h"
#include "results/store/store.h"

namespace stodepth::results {

struct ReportOptions {
  std::optional<std::string> sweep;  // default: the sweep created last
  // Of the test-accuracy curves, widths in evaluations: box:20 by default (see report_command).
  stats::Smoothing smoothing{stats::SmoothKind::kBox, 20};
  double tail = 0.25;  // fraction of training for the within-run variance and the end slope
};

// The smoothing the report used: the requested one, capped at a quarter of the shortest
// done run (stats::clip_to_run); `clipped` puts a warning in the report.
struct SmoothingUsed {
  stats::Smoothing requested, used;
  size_t shortest_run = 0;  // evaluations of the shortest done run (0: none done)
  bool clipped = false;
};

// Accuracies are fractions: confidence intervals are clipped to this range.
inline constexpr stats::ValueRange kAccuracyRange{0, 1};

// One arm: the runs of one configuration across seeds.
struct Arm {
  std::string label;         // e.g. "SD linear p_L = 0.5" (arm_label in pairing.h)
  TrainConfig config;        // the first run's (seed aside, all runs share it)
  std::vector<RunRow> runs;  // every run, whatever its state
  // The done runs, the first of each seed: plain runs of several survival rules or drop
  // modes with one seed train the same network on the same data (nothing is dropped), so
  // they are one sample, not several — counting them twice would narrow every interval.
  std::vector<const RunRow*> done() const;
};

// Statistics of one arm in a pair, from its done runs.
struct ArmStats {
  size_t n = 0;  // done runs (seeds)
  std::optional<double> accuracy_mean, accuracy_std, ci_low, ci_high, best;
  bool ci_clipped = false;   // the t interval reached past [0, 1] (stats::bounded_mean_ci)
  bool few_samples = false;  // n < 3: the interval is uninformative
  // Runs with a validation split: the test accuracy at the epoch of best validation accuracy
  // (the paper's measure), mean and bounded 95 % CI over the seeds that have it.
  size_t at_best_validation_n = 0;
  std::optional<double> at_best_validation_mean, at_best_validation_ci_low,
      at_best_validation_ci_high;
  // Mean over seeds of the tail's noise, std of first differences / √2 (stats::noise_stddev).
  std::optional<double> within_run_std;
  // The end of training: OLS slope of the seed-averaged test accuracy over the last `tail`.
  std::optional<stats::SlopeTest> end_slope;
  std::optional<double> step_ms, wall_seconds, images_per_second;
  std::optional<double> mean_active, expected_active;
};

// A stochastic-depth arm and the plain arm with the same other parameters.
struct Pair {
  std::string title;  // the shared parameters, e.g. "fashion-mnist ResNet-20, shortcut A, ..."
  std::string short_title;  // only what differs between the sweep's pairs, e.g. "ResNet-56"
  const Arm* baseline = nullptr;
  const Arm* stochastic = nullptr;
  ArmStats base, sd;
  std::optional<double> welch_p;                     // final accuracy, SD vs baseline
  std::optional<stats::DifferenceInterval> difference;  // SD − ResNet final accuracy, 95 %
  // Seeds per arm for 80 % power at α 0.05 to detect the observed difference, from the
  // observed spreads (stats::seeds_needed); nullopt: no difference, no spread, or > 10000.
  std::optional<size_t> seeds_needed;
  std::optional<double> within_ratio, across_ratio;  // SD std / ResNet std
  std::optional<double> brown_forsythe_p, f_within_p, f_across_p;
  std::optional<double> realized_speedup, theoretical_speedup;
};

// Per-run series the charts and the within-run statistics need, loaded once.
struct RunSeries {
  std::vector<double> eval_iterations, test_accuracy, test_loss;
  std::vector<double> iterations, learning_rate;
  int64_t steps_per_epoch = 0;  // iterations recorded in epoch 1
};

// Runs that trained on one machine (equal RunRow::machine).
struct MachineGroup {
  MachineFacts facts;
  std::vector<std::string> arms;  // labels of the arms with runs on it, in arm order
  int runs = 0;
};

// Everything a report shows, read and computed once; the renderings only format it.
// Pairs point into `arms`: move a Comparison, do not copy it.
struct Comparison {
  SweepRecord sweep;
  std::vector<Arm> arms;
  std::vector<Pair> pairs;
  std::vector<std::pair<std::string, int>> status_counts;
  bool complete = true;                     // every run done, failed or diverged
  std::map<std::string, RunSeries> series;  // by run key, every run of the arms
  std::vector<MachineGroup> machines;  // what the runs trained on (machines.h)
  SmoothingUsed smoothing;
  double tail = 0.25;  // ReportOptions::tail the statistics used
  std::string stodepth_version;  // of the build that compared (compare() fills it)
};

}  // namespace stodepth::results
