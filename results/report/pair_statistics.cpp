#include "results/report/pair_statistics.h"

#include <algorithm>
#include <cmath>
#include <span>

#include "model/flops.h"
#include "results/stats/stats.h"

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
  if (auto ci = stats::mean_ci(accuracy)) a.ci_low = ci->first, a.ci_high = ci->second;
  std::vector<double> within;
  for (const RunRow* r : done) {
    const auto& acc = series.at(r->key).test_accuracy;
    if (auto sd = stats::tail_residual_stddev(acc, options.window, options.tail))
      within.push_back(*sd);
    // The residuals feed the equal-variance tests. Neighbouring residuals share most of
    // their moving-average window, so only every window-th one is taken: roughly
    // independent samples, not thousands of correlated ones that would make any
    // difference look significant.
    const auto ma = stats::moving_average(acc, options.window);
    const size_t tail = size_t(std::lround(options.tail * double(acc.size())));
    for (size_t i = acc.size() - std::min(tail, acc.size()); i < acc.size(); i += options.window)
      tail_residuals->push_back(acc[i] - ma[i]);
  }
  a.within_run_std = mean_of(within);
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
      theoretical_speedup(c.model, input_shape_of(c.data.name), c.sd.rule, c.sd.p_L);
}

}  // namespace stodepth::results
