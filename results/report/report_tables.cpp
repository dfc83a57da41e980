#include "results/report/report_tables.h"

#include <fmt/format.h>

#include <map>
#include <tuple>

#include "results/report/html.h"
#include "results/report/pair_statistics.h"

namespace stodepth::results {
namespace {

std::string num(std::optional<double> v, int significant = 4) {
  return v ? html::format_number(*v, significant) : "–";
}
// A fraction in percent (a spread of fractions in percentage points), `decimals` after the point.
std::string percent(std::optional<double> v, int decimals = 2) {
  return v ? fmt::format("{:.{}f}", 100 * *v, decimals) : "–";
}
// A difference of fractions in signed percentage points.
std::string point_difference(std::optional<double> v) {
  return v ? fmt::format("{:+.2f}", 100 * *v) : "–";
}
std::string p_value(std::optional<double> p) {
  if (!p) return "–";
  return *p < 1e-4 ? "<0.0001" : fmt::format("{:.4f}", *p);
}

Table accuracy_table(const Comparison& c) {
  Table t{
      "accuracy",
      "Accuracy",
      "Final test accuracy over seeds (done runs): mean, sample std, Student-t 95% CI, best; "
      "error = 100 − accuracy, the paper's framing. Welch's t-test compares each "
      "stochastic-depth arm with its baseline.",
      {"pair", "arm", "n", "accuracy %", "std (pp)", "95% CI %", "best %", "error %", "Welch p"},
      {},
      {false, false, true, true, true, false, true, true, true}};
  for (const Pair& p : c.pairs)
    for (const auto& [arm, s, welch] : {std::tuple{p.baseline, &p.base, std::optional<double>()},
                                        std::tuple{p.stochastic, &p.sd, p.welch_p}}) {
      std::optional<double> err;
      if (s->accuracy_mean) err = 1 - *s->accuracy_mean;
      t.rows.push_back(
          {p.short_title, arm->label, std::to_string(s->n), percent(s->accuracy_mean),
           percent(s->accuracy_std),
           s->ci_low ? fmt::format("{:.2f} – {:.2f}", 100 * *s->ci_low, 100 * *s->ci_high) : "–",
           percent(s->best), percent(err), arm == p.baseline ? "" : p_value(welch)});
    }
  return t;
}

Table variance_table(const Comparison& c, const ReportOptions& o) {
  Table t{"variance",
          "Variance",
          fmt::format("Within-run: std of the test-batch accuracy around its moving average "
                      "(window {}) over the last {:.0f}% of training, mean over seeds. "
                      "Across seeds: std of the final accuracy. Ratios are SD / ResNet. "
                      "Brown–Forsythe (BF) and F test equal variance of the within-run residuals "
                      "(every window-th, pooled over seeds, so that samples are roughly "
                      "independent); F also of the final accuracies across seeds "
                      "(p small: the variances differ).",
                      o.window, 100 * o.tail),
          {"pair", "arm", "within-run std (pp)", "ratio", "across-seed std (pp)", "ratio", "BF p",
           "F p within", "F p seeds"},
          {},
          {false, false, true, true, true, true, true, true, true}};
  for (const Pair& p : c.pairs) {
    t.rows.push_back({p.short_title, p.baseline->label, percent(p.base.within_run_std, 3), "1",
                      percent(p.base.accuracy_std, 3), "1", "", "", ""});
    t.rows.push_back({p.short_title, p.stochastic->label, percent(p.sd.within_run_std, 3),
                      num(p.within_ratio, 3), percent(p.sd.accuracy_std, 3), num(p.across_ratio, 3),
                      p_value(p.brown_forsythe_p), p_value(p.f_within_p), p_value(p.f_across_p)});
  }
  return t;
}

Table timing_table(const Comparison& c) {
  Table t{"timing",
          "Training time",
          "Mean over done runs. Speedup = ResNet step time / SD step time; theoretical = "
          "expected convolution FLOPs of a step, plain over stochastic.",
          {"pair", "arm", "step ms", "wall s", "images/s", "speedup", "theoretical",
           "active blocks", "expected"},
          {},
          {false, false, true, true, true, true, true, true, true}};
  for (const Pair& p : c.pairs) {
    t.rows.push_back({p.short_title, p.baseline->label, num(p.base.step_ms),
                      num(p.base.wall_seconds), num(p.base.images_per_second), "1", "1",
                      num(p.base.mean_active), num(p.base.expected_active)});
    t.rows.push_back({p.short_title, p.stochastic->label, num(p.sd.step_ms), num(p.sd.wall_seconds),
                      num(p.sd.images_per_second), num(p.realized_speedup, 3),
                      num(p.theoretical_speedup, 3), num(p.sd.mean_active),
                      num(p.sd.expected_active)});
  }
  return t;
}

// Accuracy difference and speedup grouped by one varied parameter (schedule or shortcut).
Table grouped_table(const Comparison& c, const std::string& what,
                    std::string (*value_of)(const TrainConfig&)) {
  Table t{what,
          fmt::format("By {}", what),
          fmt::format("Pairs grouped by {}: mean final accuracy of each arm and the mean "
                      "difference SD − ResNet (percentage points).",
                      what),
          {what, "pairs", "ResNet %", "SD %", "SD − ResNet (pp)", "speedup"},
          {},
          {false, true, true, true, true, true}};
  std::map<std::string, std::vector<const Pair*>> groups;
  for (const Pair& p : c.pairs) groups[value_of(p.stochastic->config)].push_back(&p);
  if (groups.size() < 2) return t;  // not varied: nothing to compare
  for (const auto& [value, pairs] : groups) {
    std::vector<double> base, sd, diff, speed;
    for (const Pair* p : pairs) {
      if (p->base.accuracy_mean) base.push_back(*p->base.accuracy_mean);
      if (p->sd.accuracy_mean) sd.push_back(*p->sd.accuracy_mean);
      if (p->base.accuracy_mean && p->sd.accuracy_mean)
        diff.push_back(*p->sd.accuracy_mean - *p->base.accuracy_mean);
      if (p->realized_speedup) speed.push_back(*p->realized_speedup);
    }
    t.rows.push_back({value, std::to_string(pairs.size()), percent(mean_of(base)),
                      percent(mean_of(sd)), point_difference(mean_of(diff)),
                      num(mean_of(speed), 3)});
  }
  return t;
}

std::string schedule_of(const TrainConfig& c) { return to_string(c.train.lr.kind); }
std::string shortcut_of(const TrainConfig& c) { return to_string(c.model.shortcut); }

}  // namespace

std::vector<Table> report_tables(const Comparison& c, const ReportOptions& options) {
  return {accuracy_table(c), variance_table(c, options), timing_table(c),
          grouped_table(c, "schedule", schedule_of), grouped_table(c, "shortcut", shortcut_of)};
}

std::string report_title(const Comparison& c) {
  return fmt::format("stodepth report: {}", c.sweep.name);
}

}  // namespace stodepth::results
