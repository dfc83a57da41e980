#include "results/report/report_tables.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <tuple>

#include "model/config/config_codec.h"
#include "model/config/distinguishing.h"
#include "results/report/html.h"
#include "results/report/pair_statistics.h"
#include "results/report/pairing.h"
#include "results/stats/power.h"
#include "results/stats/smoothing.h"

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

// "92.10 – 94.30", flagged when clipped to the range or from fewer than 3 seeds.
std::string ci_cell(const ArmStats& s) {
  std::string cell = "–";
  if (s.ci_low) cell = fmt::format("{:.2f} – {:.2f}", 100 * *s.ci_low, 100 * *s.ci_high);
  if (s.ci_low && s.ci_clipped) cell += " (clipped)";
  if (s.n > 0 && s.few_samples) cell += fmt::format(" (n={}: interval uninformative)", s.n);
  return cell;
}

// "93.00 [90.00 – 96.00]": the mean accuracy, then its interval when there is one.
std::string accuracy_with_ci(const ArmStats& s) {
  std::string cell = percent(s.accuracy_mean);
  if (s.ci_low) cell += " [" + ci_cell(s) + "]";
  return cell;
}

Table accuracy_table(const Comparison& c) {
  Table t{
      "accuracy",
      "Accuracy",
      "Final test accuracy over seeds (done runs): mean, sample std, Student-t 95% CI "
      "intersected with [0, 100] % (marked \"clipped\" where it reached past; with n = 2, "
      "t = 12.7 makes it uninformative), best; error = 100 − accuracy, the paper's framing. "
      "Welch's t-test compares each stochastic-depth arm with its baseline.",
      {"pair", "arm", "n", "accuracy %", "std (pp)", "95% CI %", "best %", "error %", "Welch p"},
      {},
      {false, false, true, true, true, false, true, true, true}};
  const bool validation = std::any_of(c.pairs.begin(), c.pairs.end(), [](const Pair& p) {
    return p.base.at_best_validation_n > 0 || p.sd.at_best_validation_n > 0;
  });
  if (validation) {
    t.caption +=
        " The runs hold out a validation set: \"at best validation\" is the test accuracy at the "
        "epoch of best validation accuracy, mean [95% CI] over seeds — what the paper reports "
        "(Huang et al. 2016, Sec. 4); the other columns are the last epoch's.";
    t.header.push_back("at best validation %");
    t.numeric.push_back(false);
  }
  for (const Pair& p : c.pairs)
    for (const auto& [arm, s, welch] : {std::tuple{p.baseline, &p.base, std::optional<double>()},
                                        std::tuple{p.stochastic, &p.sd, p.welch_p}}) {
      std::optional<double> err;
      if (s->accuracy_mean) err = 1 - *s->accuracy_mean;
      t.rows.push_back({p.short_title, arm->label, std::to_string(s->n), percent(s->accuracy_mean),
                        percent(s->accuracy_std), ci_cell(*s), percent(s->best), percent(err),
                        arm == p.baseline ? "" : p_value(welch)});
      if (validation) {
        std::string cell = percent(s->at_best_validation_mean);
        if (s->at_best_validation_ci_low)
          cell += fmt::format(" [{:.2f} – {:.2f}]", 100 * *s->at_best_validation_ci_low,
                              100 * *s->at_best_validation_ci_high);
        t.rows.back().push_back(cell);
      }
    }
  return t;
}

Table variance_table(const Comparison& c, const ReportOptions& o) {
  Table t{"variance",
          "Variance",
          fmt::format("Within-run: noise of the test-batch accuracy over the last {:.0f}% of "
                      "training, as the std of first differences / √2 (Rice 1984: "
                      "√(Σ (x_i − x_(i−1))² / (2 (n − 1)))), which cancels a smooth trend, mean "
                      "over seeds. Across seeds: std of the final accuracy. Ratios are SD / "
                      "ResNet. Brown–Forsythe (BF) and F test equal variance of the residuals "
                      "around the smoothed curve ({}; every {}-th, pooled over seeds, so that "
                      "samples are roughly independent); F also of the final accuracies across "
                      "seeds (p small: the variances differ).",
                      100 * o.tail, stats::to_string(c.smoothing.used), c.smoothing.used.width),
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

// Stochastic-depth arms that differ only in stochastic_depth.mode, side by side: pairs with
// the same baseline, rule and p_L. No rows unless some such group has two modes or more.
Table drop_mode_table(const Comparison& c) {
  Table t{"modes",
          "By drop mode",
          "Stochastic-depth arms at equal other settings, one row per stochastic_depth.mode "
          "(batch: one drop decision per block per mini-batch; sample: per example). Accuracy: "
          "mean [Student-t 95% CI clipped to [0, 100] %]; across-seed std of the final "
          "accuracy; within-run noise as in Variance; step time as in Training time.",
          {"pair", "rule, p_L", "mode", "n", "accuracy % [95% CI]", "across-seed std (pp)",
           "within-run std (pp)", "step ms"},
          {},
          {false, false, false, true, false, true, true, true}};
  std::map<std::tuple<const Arm*, std::string, double>, std::vector<const Pair*>> groups;
  for (const Pair& p : c.pairs) {
    const auto& sd = p.stochastic->config.sd;
    groups[{p.baseline, to_string(sd.rule), sd.p_L}].push_back(&p);
  }
  for (const auto& [key, pairs] : groups) {
    if (pairs.size() < 2) continue;
    for (const Pair* p : pairs) {
      const ArmStats& s = p->sd;
      t.rows.push_back(
          {p->short_title, fmt::format("{}, p_L = {}", std::get<1>(key), std::get<2>(key)),
           to_string(p->stochastic->config.sd.mode), std::to_string(s.n), accuracy_with_ci(s),
           percent(s.accuracy_std, 3), percent(s.within_run_std, 3), num(s.step_ms)});
    }
  }
  return t;
}

TrainConfig at_f32(const TrainConfig& config) {
  TrainConfig c = config;
  c.train.precision = Precision::kF32;
  return c;
}

// The settings of an arm but its precision and seed, so that the f32 and bf16 arms of one
// configuration share it.
std::string settings_but_precision(const TrainConfig& config) {
  return settings_key(canonical_config_json(at_f32(config)), false);
}

// Arms that differ only in train.precision, side by side: each pair's plain and stochastic
// arm at every precision, and its speed relative to the same arm at f32. No rows unless some
// configuration ran at two precisions.
Table precision_table(const Comparison& c) {
  Table t{"precision",
          "By precision",
          "Arms at equal other settings, one row per train.precision (bf16: mixed precision, "
          "f32 master weights). Accuracy: mean [Student-t 95% CI clipped to [0, 100] %]; "
          "across-seed std of the final accuracy; within-run noise as in Variance; step time "
          "as in Training time; speed: the f32 arm's step time over this arm's.",
          {"pair", "arm", "precision", "n", "accuracy % [95% CI]", "across-seed std (pp)",
           "within-run std (pp)", "step ms", "speed vs f32"},
          {},
          {false, false, false, true, false, true, true, true, true}};
  std::map<std::string, std::map<Precision, const Pair*>> groups;
  for (const Pair& p : c.pairs)
    groups[settings_but_precision(p.stochastic->config)][p.stochastic->config.train.precision] = &p;
  for (const auto& [key, by_precision] : groups) {
    if (by_precision.size() < 2) continue;
    const Pair* f32 =
        by_precision.count(Precision::kF32) ? by_precision.at(Precision::kF32) : nullptr;
    for (const bool stochastic : {false, true})
      for (const auto& [precision, p] : by_precision) {
        const ArmStats& s = stochastic ? p->sd : p->base;
        const ArmStats* reference = f32 ? (stochastic ? &f32->sd : &f32->base) : nullptr;
        std::optional<double> speed;
        if (reference && reference->step_ms && s.step_ms) speed = *reference->step_ms / *s.step_ms;
        const Arm& arm = stochastic ? *p->stochastic : *p->baseline;
        t.rows.push_back({f32 ? f32->short_title : p->short_title, arm_label(at_f32(arm.config)),
                          to_string(precision), std::to_string(s.n), accuracy_with_ci(s),
                          percent(s.accuracy_std, 3), percent(s.within_run_std, 3), num(s.step_ms),
                          num(speed, 3)});
      }
  }
  return t;
}

std::string schedule_of(const TrainConfig& c) { return to_string(c.train.lr.kind); }
std::string shortcut_of(const TrainConfig& c) { return to_string(c.model.shortcut); }

}  // namespace

std::vector<Table> report_tables(const Comparison& c, const ReportOptions& options) {
  return {accuracy_table(c),
          variance_table(c, options),
          timing_table(c),
          drop_mode_table(c),
          precision_table(c),
          grouped_table(c, "schedule", schedule_of),
          grouped_table(c, "shortcut", shortcut_of)};
}

namespace {

// "500 epochs, batch 128, training set: whole split" with what is held out for validation.
// Below this many epochs a headline says the budget cannot show the paper's effect (its
// shortest schedule, SVHN's, is 50 epochs of a 600k-image set).
constexpr int64_t kShortBudgetEpochs = 50;

std::string budget(const TrainConfig& c) {
  const auto count = [](int64_t n, const char* unit) {
    return fmt::format("{} {}{}", n, unit, n == 1 ? "" : "s");
  };
  std::string b = c.train.iterations > 0 ? count(c.train.iterations, "iteration")
                                         : count(c.train.epochs, "epoch");
  b += fmt::format(", batch {}, training set: {}", c.train.batch,
                   c.data.train_subset > 0 ? fmt::format("first {} examples", c.data.train_subset)
                                           : std::string("the whole split"));
  if (c.data.validation > 0) b += fmt::format(" less {} for validation", c.data.validation);
  return b;
}

}  // namespace

std::string seeds_to_add(const Pair& p, size_t seeds_per_arm) {
  std::set<uint64_t> all;
  size_t fewest = std::numeric_limits<size_t>::max();
  for (const Arm* arm : {p.baseline, p.stochastic}) {
    // Every run counts, whatever its state: its seed is in the sweep file already.
    std::set<uint64_t> seeds;
    for (const RunRow& run : arm->runs) seeds.insert(run.config.train.seed);
    fewest = std::min(fewest, seeds.size());
    all.insert(seeds.begin(), seeds.end());
  }
  if (all.empty() || seeds_per_arm <= fewest) return "";
  // The sweep's seeds apply to every arm: the next ones after the largest.
  const uint64_t first = *all.rbegin() + 1, last = first + (seeds_per_arm - fewest) - 1;
  return first == last ? fmt::format("seed {}", first) : fmt::format("seeds {}–{}", first, last);
}

std::vector<std::string> pair_headline(const Pair& p) {
  std::vector<std::string> lines;
  std::string first = fmt::format("{} − {}: ", p.stochastic->label, p.baseline->label);
  if (p.difference) {
    first += fmt::format("Δaccuracy {:+.2f} pp [95% CI {:+.2f}, {:+.2f}] (Welch, n = {} vs {}{})",
                         100 * p.difference->estimate, 100 * p.difference->low,
                         100 * p.difference->high, p.sd.n, p.base.n,
                         p.difference->few_samples ? "; n < 3: interval uninformative" : "");
  } else if (p.sd.accuracy_mean && p.base.accuracy_mean) {
    first += fmt::format("Δaccuracy {:+.2f} pp (no interval: fewer than 2 seeds or no spread)",
                         100 * (*p.sd.accuracy_mean - *p.base.accuracy_mean));
  } else {
    first += "Δaccuracy – (no done runs in an arm)";
  }
  first +=
      fmt::format("; speedup {}", p.realized_speedup ? fmt::format("{:.2f}×", *p.realized_speedup)
                                                     : std::string("–"));
  first += "; budget " + budget(p.stochastic->config) + ".";
  std::vector<std::string> improving;
  for (const auto& [arm, s] : {std::pair{p.baseline, &p.base}, std::pair{p.stochastic, &p.sd}})
    if (s->end_slope && s->end_slope->still_improving)
      improving.push_back(fmt::format("{} (slope p = {:.3g})", arm->label, s->end_slope->p_value));
  if (!improving.empty())
    first += fmt::format(
        " Still improving at the end of training: {}; the difference may change with a longer "
        "budget.",
        fmt::join(improving, ", "));
  const TrainConfig& c = p.stochastic->config;
  if (c.train.iterations == 0 && c.train.epochs < kShortBudgetEpochs)
    first += fmt::format(
        " A short budget ({} epoch{}): the paper's gain from stochastic depth shows after hundreds "
        "of epochs (500 on CIFAR, 50 on SVHN's 600k images), and early on the regularised arm "
        "usually trails; this difference says little about it.",
        c.train.epochs, c.train.epochs == 1 ? "" : "s");
  lines.push_back(std::move(first));
  if (p.difference && p.difference->estimate != 0) {
    const double delta = 100 * std::abs(p.difference->estimate);
    const std::string edit = p.seeds_needed ? seeds_to_add(p, *p.seeds_needed) : "";
    lines.push_back(
        p.seeds_needed
            ? fmt::format("A difference of {:.2f} points would need ≈ {} seeds per arm (80% "
                          "power, α 0.05, from the observed spread){}.",
                          delta, *p.seeds_needed,
                          edit.empty() ? "" : ": add " + edit + " to the sweep file")
            : fmt::format("A difference of {:.2f} points would need more than {} seeds per arm "
                          "(80% power, α 0.05, from the observed spread).",
                          delta, stats::kMaxSeedsPerArm));
  }
  return lines;
}

std::string headline_note(const Comparison& c) {
  return fmt::format(
      "Δaccuracy: SD − ResNet mean final test accuracy, Welch 95% CI (clipped to ±100 pp). "
      "Speedup: ResNet step time / SD step time. Still improving: the test accuracy averaged "
      "across seeds (by evaluation) has an OLS slope against iteration over the last {:.0f}% "
      "of its evaluations that a one-sided t test (n − 2 df) finds > 0 at p < 0.05.",
      100 * c.tail);
}

std::string smoothing_warning(const Comparison& c) {
  if (!c.smoothing.clipped) return "";
  return fmt::format(
      "Smoothing clipped: {} is wider than a quarter of the shortest run ({} evaluations); "
      "the report uses {}.",
      stats::to_string(c.smoothing.requested), c.smoothing.shortest_run,
      stats::to_string(c.smoothing.used));
}

std::string report_title(const Comparison& c) {
  return fmt::format("stodepth report: {}", c.sweep.name);
}

}  // namespace stodepth::results
