#include "results/report/pair_statistics.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>

#include "model/config/flops.h"
#include "results/stats/intervals.h"
#include "results/stats/power.h"
#include "results/stats/smoothing.h"
#include "results/stats/stats.h"
#include "results/stats/trend.h"

namespace stodepth::results {
namespace {

std::vector<double> values(const std::vector<const RunRow*>& runs,
                           std::optional<double> RunRow::*field) {
  std::vector<double> out;
  for (const RunRow* r : runs)
    if (r->*field) out.push_back(*(r->*field));
  return out;
}

std::optional<double> ratio(std::optional<double> a, std::optional<double> b) {
  if (!a || !b || *b == 0) return std::nullopt;
  return *a / *b;
}

// The tail of each seed's curve, averaged across seeds by evaluation index (the arm's runs
// share their evaluation schedule; a longer run's extra evaluations are left out), then the
// slope test of its last `tail` fraction. Averaging, not pooling: seed-to-seed offsets would
// otherwise count as noise around the line.
std::optional<stats::SlopeTest> end_slope(const std::vector<const RunRow*>& done,
                                          const std::map<std::string, RunSeries>& series,
                                          double tail) {
  if (done.empty()) return std::nullopt;
  size_t shortest = SIZE_MAX;
  for (const RunRow* r : done)
    shortest = std::min(shortest, series.at(r->key).test_accuracy.size());
  std::vector<double> mean(shortest, 0.0);
  for (const RunRow* r : done) {
    const auto& acc = series.at(r->key).test_accuracy;
    for (size_t i = 0; i < shortest; ++i) mean[i] += acc[i] / double(done.size());
  }
  const auto& iterations = series.at(done.front()->key).eval_iterations;
  if (iterations.size() < shortest) return std::nullopt;
  return stats::slope_test(std::span(iterations).first(shortest), mean, tail);
}

// The arm's statistics; appends the thinned tail residuals of its runs to `tail_residuals`.
ArmStats arm_stats(const Arm& arm, const std::map<std::string, RunSeries>& series,
                   const ReportOptions& options, std::vector<double>* tail_residuals) {
  ArmStats a;
  const auto done = arm.done();
  a.n = done.size();
  const auto accuracy = values(done, &RunRow::final_test_accuracy);
  if (auto s = stats::summarize(accuracy)) a.accuracy_std = s->stddev;
  a.accuracy_mean = mean_of(accuracy);
  if (!accuracy.empty()) a.best = *std::max_element(accuracy.begin(), accuracy.end());
  if (auto ci = stats::bounded_mean_ci(accuracy, kAccuracyRange)) {
    a.ci_low = ci->low, a.ci_high = ci->high;
    a.ci_clipped = ci->clipped;
  }
  a.few_samples = accuracy.size() < 3;
  std::vector<double> at_best_validation;
  for (const RunRow* r : done)
    if (r->best_validation) at_best_validation.push_back(r->best_validation->test_accuracy);
  a.at_best_validation_n = at_best_validation.size();
  a.at_best_validation_mean = mean_of(at_best_validation);
  if (auto ci = stats::bounded_mean_ci(at_best_validation, kAccuracyRange))
    a.at_best_validation_ci_low = ci->low, a.at_best_validation_ci_high = ci->high;
  const size_t width = options.smoothing.width;
  std::vector<double> within;
  for (const RunRow* r : done) {
    const auto& acc = series.at(r->key).test_accuracy;
    const size_t tail = size_t(std::lround(options.tail * double(acc.size())));
    const size_t first = acc.size() - std::min(tail, acc.size());
    if (auto sd = stats::noise_stddev(std::span(acc).subspan(first))) within.push_back(*sd);
    // The residuals around the smoothed curve feed the equal-variance tests. Neighbouring
    // residuals share most of their smoothing window, so only every width-th one is taken:
    // roughly independent samples, not thousands of correlated ones that would make any
    // difference look significant.
    const auto smoothed = stats::smooth(acc, options.smoothing);
    for (size_t i = first; i < acc.size(); i += width)
      tail_residuals->push_back(acc[i] - smoothed[i]);
  }
  a.within_run_std = mean_of(within);
  a.end_slope = end_slope(done, series, options.tail);
  a.step_ms = mean_of(values(done, &RunRow::mean_step_ms));
  a.wall_seconds = mean_of(values(done, &RunRow::wall_seconds));
  a.images_per_second = mean_of(values(done, &RunRow::images_per_second));
  a.mean_active = mean_of(values(done, &RunRow::mean_active_blocks));
  a.expected_active = mean_of(values(done, &RunRow::expected_active_blocks));
  return a;
}

}  // namespace

std::optional<double> mean_of(const std::vector<double>& values) {
  if (values.empty()) return std::nullopt;
  double s = 0;
  for (double x : values) s += x;
  return s / double(values.size());
}

void add_statistics(Pair& p, const std::map<std::string, RunSeries>& series,
                    const ReportOptions& options) {
  const Arm& sd_arm = *p.stochastic;
  std::vector<double> base_residuals, sd_residuals;
  p.base = arm_stats(*p.baseline, series, options, &base_residuals);
  p.sd = arm_stats(sd_arm, series, options, &sd_residuals);
  const auto base_acc = values(p.baseline->done(), &RunRow::final_test_accuracy);
  const auto sd_acc = values(sd_arm.done(), &RunRow::final_test_accuracy);
  if (auto t = stats::welch_t_test(sd_acc, base_acc)) p.welch_p = t->p_value;
  p.difference = stats::welch_difference_ci(sd_acc, base_acc, kAccuracyRange);
  if (p.difference && p.sd.accuracy_std && p.base.accuracy_std)
    p.seeds_needed =
        stats::seeds_needed(p.difference->estimate, *p.sd.accuracy_std, *p.base.accuracy_std);
  if (auto f = stats::f_test_equal_variance(sd_acc, base_acc)) p.f_across_p = f->p_value;
  if (auto f = stats::f_test_equal_variance(sd_residuals, base_residuals))
    p.f_within_p = f->p_value;
  const std::vector<std::span<const double>> groups = {sd_residuals, base_residuals};
  if (auto bf = stats::brown_forsythe(groups)) p.brown_forsythe_p = bf->p_value;
  p.within_ratio = ratio(p.sd.within_run_std, p.base.within_run_std);
  p.across_ratio = ratio(p.sd.accuracy_std, p.base.accuracy_std);
  p.realized_speedup = ratio(p.base.step_ms, p.sd.step_ms);
  const TrainConfig& c = sd_arm.config;
  p.theoretical_speedup =
      theoretical_speedup(c.model, input_shape_of(c.data.name), c.sd.rule, c.sd.p_L, c.sd.mode);
}

}  // namespace stodepth::results
