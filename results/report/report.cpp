#include "results/report/report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <oneapi/dnnl/dnnl.hpp>

#include "model/dnn/tensor.h"
#include "model/flops.h"
#include "results/store/config_json.h"
#include "model/base/csv.h"
#include "results/report/html.h"
#include "results/stats/stats.h"
#include "results/report/svg.h"

namespace stodepth::results {

std::vector<const RunRow*> Arm::done() const {
  std::vector<const RunRow*> out;
  for (const auto& r : runs)
    if (r.state == RunState::kDone) out.push_back(&r);
  return out;
}

namespace {

// The settings two arms of a pair share: everything but the survival rule, p_L and seed,
// including settings without a column of their own (read from the stored config JSON).
std::string pair_key(const RunRow& r) { return settings_key(r.config_json, true); }
bool is_baseline(const TrainConfig& c) { return c.sd.p_L >= 1.0; }
// p_L = 1 makes the rule irrelevant: every such run is the same plain ResNet.
std::string arm_key(const RunRow& r) {
  const TrainConfig& c = r.config;
  return is_baseline(c) ? pair_key(r) + "|plain"
                        : fmt::format("{}|{}|{}", pair_key(r), to_string(c.sd.rule), c.sd.p_L);
}

// The main parameters, for headings.
std::string describe(const TrainConfig& c) {
  std::string t = fmt::format("{}, ResNet-{}", c.data.name, c.model.depth);
  if (c.model.width != 1) t += fmt::format(" ×{}", c.model.width);
  t += fmt::format(", shortcut {}, {} lr {}, batch {}", to_string(c.model.shortcut),
                   to_string(c.train.lr.kind), c.train.lr.base, c.train.batch);
  return t + (c.train.iterations > 0 ? fmt::format(", {} iterations", c.train.iterations)
                                     : fmt::format(", {} epochs", c.train.epochs));
}

// Short titles name the depth and whatever other setting differs between pairs.
void set_short_titles(std::vector<Pair>& pairs) {
  std::vector<std::string> configs;
  for (const Pair& p : pairs) configs.push_back(p.stochastic->runs.front().config_json);
  const auto differences =
      distinguishing_settings(configs, {"stochastic_depth.", "train.seed", "model.depth"});
  for (size_t i = 0; i < pairs.size(); ++i) {
    pairs[i].short_title = fmt::format("ResNet-{}", pairs[i].stochastic->config.model.depth);
    if (!differences[i].empty()) pairs[i].short_title += ", " + differences[i];
  }
}

std::string arm_label(const TrainConfig& c) {
  return is_baseline(c) ? "ResNet (p_L = 1)"
                        : fmt::format("SD {} p_L = {}", to_string(c.sd.rule), c.sd.p_L);
}

std::vector<double> values(const std::vector<const RunRow*>& runs,
                           std::optional<double> RunRow::*field) {
  std::vector<double> out;
  for (const RunRow* r : runs)
    if (r->*field) out.push_back(*(r->*field));
  return out;
}

std::optional<double> mean_of(const std::vector<double>& v) {
  if (v.empty()) return std::nullopt;
  double s = 0;
  for (double x : v) s += x;
  return s / double(v.size());
}

std::optional<double> ratio(std::optional<double> a, std::optional<double> b) {
  if (!a || !b || *b == 0) return std::nullopt;
  return *a / *b;
}

class Builder {
 public:
  Builder(Store& store, const ReportOptions& options) : store_(store), options_(options) {}

  Result<Comparison> build() {
    if (options_.window < 1) return bad_input("--window: must be >= 1 evaluation");
    if (!(options_.tail > 0 && options_.tail <= 1)) return bad_input("--tail: must be in (0, 1]");
    auto sweeps = store_.sweeps();
    if (!sweeps) return sweeps.error();
    if (sweeps->empty()) return bad_input("the database holds no sweep (run 'stodepth launch' first)");
    Comparison c;
    if (options_.sweep) {
      auto it = std::find_if(sweeps->begin(), sweeps->end(),
                             [&](const SweepRecord& s) { return s.name == *options_.sweep; });
      if (it == sweeps->end()) {
        std::vector<std::string> names;
        for (const auto& s : *sweeps) names.push_back(s.name);
        const auto hint = closest_match(*options_.sweep, names);
        return bad_input(fmt::format("--sweep: no sweep '{}' in the database{} (have: {})",
                                 *options_.sweep,
                                 hint.empty() ? "" : fmt::format(", did you mean '{}'?", hint),
                                 fmt::join(names, ", ")));
      }
      c.sweep = *it;
    } else {
      c.sweep = sweeps->back();
    }
    auto runs = store_.runs(c.sweep.name);
    if (!runs) return runs.error();
    std::map<std::string, int> counts;
    std::map<std::string, size_t> arm_index;
    for (const RunRow& r : *runs) {
      ++counts[to_string(r.state)];
      c.complete &= r.state == RunState::kDone || r.state == RunState::kFailed ||
                    r.state == RunState::kDiverged;
      const std::string key = arm_key(r);
      auto [it, inserted] = arm_index.try_emplace(key, c.arms.size());
      if (inserted) c.arms.push_back({arm_label(r.config), r.config, {}});
      c.arms[it->second].runs.push_back(r);
    }
    for (const auto& [state, n] : counts) c.status_counts.emplace_back(state, n);
    for (const Arm& arm : c.arms)
      for (const RunRow& r : arm.runs)
        if (auto s = load(r.key); !s) return s.error();
    pair_arms(c);
    c.series = std::move(series_);
    return c;
  }

 private:
  const RunSeries& series(const std::string& key) const { return series_.at(key); }

  Status load(const std::string& key) {
    auto curve = store_.curve(key);
    if (!curve) return curve.error();
    RunSeries s;
    for (const auto& r : *curve) {
      s.iterations.push_back(double(r.iteration));
      s.learning_rate.push_back(r.learning_rate);
      s.steps_per_epoch += r.epoch == 1;
      if (!r.test_accuracy) continue;
      s.eval_iterations.push_back(double(r.iteration));
      s.test_accuracy.push_back(*r.test_accuracy);
      s.test_loss.push_back(r.test_loss.value_or(NAN));
    }
    series_[key] = std::move(s);
    return ok_status();
  }

  ArmStats arm_stats(const Arm& arm, std::vector<double>* tail_residuals) const {
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
      const auto& acc = series(r->key).test_accuracy;
      if (auto sd = stats::tail_residual_stddev(acc, options_.window, options_.tail))
        within.push_back(*sd);
      // The residuals feed the equal-variance tests. Neighbouring residuals share most of
      // their moving-average window, so only every window-th one is taken: roughly
      // independent samples, not thousands of correlated ones that would make any
      // difference look significant.
      const auto ma = stats::moving_average(acc, options_.window);
      const size_t tail = size_t(std::lround(options_.tail * double(acc.size())));
      for (size_t i = acc.size() - std::min(tail, acc.size()); i < acc.size();
           i += options_.window)
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

  void pair_arms(Comparison& c) const {
    std::map<std::string, const Arm*> baselines;
    for (const Arm& arm : c.arms)
      if (is_baseline(arm.config)) baselines[pair_key(arm.runs.front())] = &arm;
    for (const Arm& arm : c.arms) {
      if (is_baseline(arm.config)) continue;
      auto it = baselines.find(pair_key(arm.runs.front()));
      if (it == baselines.end()) continue;
      Pair p;
      p.title = describe(arm.config);
      p.baseline = it->second;
      p.stochastic = &arm;
      std::vector<double> base_residuals, sd_residuals;
      p.base = arm_stats(*p.baseline, &base_residuals);
      p.sd = arm_stats(arm, &sd_residuals);
      const auto base_acc = values(p.baseline->done(), &RunRow::final_test_accuracy);
      const auto sd_acc = values(arm.done(), &RunRow::final_test_accuracy);
      if (auto t = stats::welch_t_test(sd_acc, base_acc)) p.welch_p = t->p_value;
      if (auto f = stats::f_test_equal_variance(sd_acc, base_acc)) p.f_across_p = f->p_value;
      if (auto f = stats::f_test_equal_variance(sd_residuals, base_residuals))
        p.f_within_p = f->p_value;
      const std::vector<std::span<const double>> groups = {sd_residuals, base_residuals};
      if (auto bf = stats::brown_forsythe(groups)) p.brown_forsythe_p = bf->p_value;
      p.within_ratio = ratio(p.sd.within_run_std, p.base.within_run_std);
      p.across_ratio = ratio(p.sd.accuracy_std, p.base.accuracy_std);
      p.realized_speedup = ratio(p.base.step_ms, p.sd.step_ms);
      p.theoretical_speedup = theoretical_speedup(arm.config.model,
                                                  input_shape_of(arm.config.data.name),
                                                  arm.config.sd.rule, arm.config.sd.p_L);
      c.pairs.push_back(std::move(p));
    }
    set_short_titles(c.pairs);
  }

  Store& store_;
  const ReportOptions& options_;
  std::map<std::string, RunSeries> series_;
};

// ----------------------------------------------------------------------------- tables

std::string num(std::optional<double> v, int significant = 4) {
  return v ? html::format_number(*v, significant) : "–";
}
std::string percent(std::optional<double> v) {
  return v ? fmt::format("{:.2f}", 100 * *v) : "–";
}
std::string p_value(std::optional<double> p) {
  if (!p) return "–";
  return *p < 1e-4 ? "<0.0001" : fmt::format("{:.4f}", *p);
}

struct Table {
  std::string name, title, caption;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<bool> numeric;
};

Table accuracy_table(const Comparison& c) {
  Table t{"accuracy", "Accuracy",
          "Final test accuracy over seeds (done runs): mean, sample std, Student-t 95% CI, best; "
          "error = 100 − accuracy, the paper's framing. Welch's t-test compares each "
          "stochastic-depth arm with its baseline.",
          {"pair", "arm", "n", "accuracy %", "std (pp)", "95% CI %", "best %", "error %",
           "Welch p"},
          {},
          {false, false, true, true, true, false, true, true, true}};
  for (const Pair& p : c.pairs)
    for (const auto& [arm, s, welch] :
         {std::tuple{p.baseline, &p.base, std::optional<double>()},
          std::tuple{p.stochastic, &p.sd, p.welch_p}}) {
      std::optional<double> err;
      if (s->accuracy_mean) err = 1 - *s->accuracy_mean;
      t.rows.push_back(
          {p.short_title, arm->label, std::to_string(s->n), percent(s->accuracy_mean),
           s->accuracy_std ? fmt::format("{:.2f}", 100 * *s->accuracy_std) : "–",
           s->ci_low ? fmt::format("{:.2f} – {:.2f}", 100 * *s->ci_low, 100 * *s->ci_high) : "–",
           percent(s->best), percent(err), arm == p.baseline ? "" : p_value(welch)});
    }
  return t;
}

Table variance_table(const Comparison& c, const ReportOptions& o) {
  Table t{"variance", "Variance",
          fmt::format("Within-run: std of the test-batch accuracy around its moving average "
                      "(window {}) over the last {:.0f}% of training, mean over seeds. "
                      "Across seeds: std of the final accuracy. Ratios are SD / ResNet. "
                      "Brown–Forsythe (BF) and F test equal variance of the within-run residuals "
                      "(every window-th, pooled over seeds, so that samples are roughly "
                      "independent); F also of the final accuracies across seeds "
                      "(p small: the variances differ).",
                      o.window, 100 * o.tail),
          {"pair", "arm", "within-run std (pp)", "ratio", "across-seed std (pp)", "ratio",
           "BF p", "F p within", "F p seeds"},
          {},
          {false, false, true, true, true, true, true, true, true}};
  auto pp = [](std::optional<double> v) { return v ? fmt::format("{:.3f}", 100 * *v) : "–"; };
  for (const Pair& p : c.pairs) {
    t.rows.push_back({p.short_title, p.baseline->label, pp(p.base.within_run_std), "1",
                      pp(p.base.accuracy_std), "1", "", "", ""});
    t.rows.push_back({p.short_title, p.stochastic->label, pp(p.sd.within_run_std), num(p.within_ratio, 3),
                      pp(p.sd.accuracy_std), num(p.across_ratio, 3), p_value(p.brown_forsythe_p),
                      p_value(p.f_within_p), p_value(p.f_across_p)});
  }
  return t;
}

Table timing_table(const Comparison& c) {
  Table t{"timing", "Training time",
          "Mean over done runs. Speedup = ResNet step time / SD step time; theoretical = "
          "expected convolution FLOPs of a step, plain over stochastic.",
          {"pair", "arm", "step ms", "wall s", "images/s", "speedup", "theoretical",
           "active blocks", "expected"},
          {},
          {false, false, true, true, true, true, true, true, true}};
  for (const Pair& p : c.pairs) {
    t.rows.push_back({p.short_title, p.baseline->label, num(p.base.step_ms), num(p.base.wall_seconds),
                      num(p.base.images_per_second), "1", "1", num(p.base.mean_active),
                      num(p.base.expected_active)});
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
  Table t{what, fmt::format("By {}", what),
          fmt::format("Pairs grouped by {}: mean final accuracy of each arm and the mean "
                      "difference SD − ResNet (percentage points).", what),
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
    auto pp = [](std::optional<double> v) { return v ? fmt::format("{:+.2f}", 100 * *v) : "–"; };
    t.rows.push_back({value, std::to_string(pairs.size()), percent(mean_of(base)),
                      percent(mean_of(sd)), pp(mean_of(diff)), num(mean_of(speed), 3)});
  }
  return t;
}

std::string schedule_of(const TrainConfig& c) { return to_string(c.train.lr.kind); }
std::string shortcut_of(const TrainConfig& c) { return to_string(c.model.shortcut); }

// ----------------------------------------------------------------------------- charts

// Mean and std across seeds of the per-seed moving averages, aligned by evaluation index.
struct SeedBand {
  std::vector<double> x, mean, low, high;
};
SeedBand across_seeds(const Comparison& c, const Arm& arm, size_t window) {
  std::vector<std::vector<double>> smoothed;
  std::vector<double> x;
  for (const RunRow* r : arm.done()) {
    const auto& s = c.series.at(r->key);
    smoothed.push_back(stats::moving_average(s.test_accuracy, window));
    if (s.eval_iterations.size() > x.size()) x = s.eval_iterations;
  }
  SeedBand band;
  for (size_t i = 0; i < x.size(); ++i) {
    std::vector<double> at;
    for (const auto& s : smoothed)
      if (i < s.size()) at.push_back(s[i]);
    const auto m = mean_of(at);
    if (!m) continue;
    const auto s = stats::summarize(at);
    const double sd = s ? s->stddev : 0.0;
    band.x.push_back(x[i]);
    band.mean.push_back(*m);
    band.low.push_back(*m - sd);
    band.high.push_back(*m + sd);
  }
  return band;
}

svg::Series make_series(std::string label, std::vector<double> x, std::vector<double> y) {
  svg::Series s;
  s.label = std::move(label);
  s.x = std::move(x);
  s.y = std::move(y);
  return s;
}

// A run's evaluated metric: raw points faint, moving average, ± rolling std band.
void add_run_series(svg::Chart& chart, const std::string& label, int color,
                    const std::vector<double>& x, const std::vector<double>& y, size_t window) {
  svg::Series raw = make_series("", x, y);
  raw.style = svg::Series::kFaintPoints;
  raw.color = color;
  const auto ma = stats::moving_average(y, window);
  const auto sd = stats::rolling_stddev(y, window);
  std::vector<double> low(ma.size()), high(ma.size());
  for (size_t i = 0; i < ma.size(); ++i) {
    const double s = std::isfinite(sd[i]) ? sd[i] : 0.0;
    low[i] = ma[i] - s, high[i] = ma[i] + s;
  }
  svg::Series smooth =
      make_series(fmt::format("{} (moving average ± rolling std)", label), x, ma);
  smooth.band_low = low;
  smooth.band_high = high;
  smooth.color = color;
  chart.series.push_back(std::move(raw));
  chart.series.push_back(std::move(smooth));
}

const RunRow* first_done_with_seed(const Arm& arm, uint64_t seed) {
  for (const RunRow* r : arm.done())
    if (r->config.train.seed == seed) return r;
  return nullptr;
}

std::string pair_charts(const Comparison& c, const Pair& p, const ReportOptions& o) {
  std::string out;
  // The first seed both arms finished, so that the two runs share data order.
  const RunRow *base = nullptr, *sd = nullptr;
  for (const RunRow* r : p.baseline->done())
    if ((sd = first_done_with_seed(*p.stochastic, r->config.train.seed))) {
      base = r;
      break;
    }
  if (base && sd) {
    const uint64_t seed = base->config.train.seed;
    for (const bool loss : {false, true}) {
      svg::Chart chart;
      chart.title = fmt::format("Test-batch {} per iteration, seed {}", loss ? "loss" : "accuracy",
                                seed);
      chart.x_label = "iteration";
      chart.y_label = loss ? "test loss (cross-entropy)" : "test accuracy (fraction)";
      chart.y2_label = "learning rate";
      int color = 0;
      for (const auto& [arm, run] : {std::pair{p.baseline, base}, std::pair{p.stochastic, sd}}) {
        const auto& s = c.series.at(run->key);
        add_run_series(chart, arm->label, color++, s.eval_iterations,
                       loss ? s.test_loss : s.test_accuracy, o.window);
      }
      svg::Series lr = make_series("learning rate", c.series.at(base->key).iterations,
                                   c.series.at(base->key).learning_rate);
      lr.secondary_axis = true;
      lr.dashed = true;
      lr.color = 7;
      chart.series.push_back(std::move(lr));
      out += html::figure(svg::render(chart),
                          fmt::format("Raw test-batch values (faint), moving average over {} "
                                      "evaluations, ± rolling standard deviation band.",
                                      o.window));
    }
  }
  svg::Chart seeds;
  seeds.title = "Test accuracy across seeds (moving average)";
  seeds.x_label = "iteration";
  seeds.y_label = "test accuracy (fraction)";
  int color = 0;
  size_t arms_with_seeds = 0;
  for (const Arm* arm : {p.baseline, p.stochastic}) {
    const auto band = across_seeds(c, *arm, o.window);
    arms_with_seeds += arm->done().size() >= 2;
    svg::Series s = make_series(
        fmt::format("{} (mean ± std over {} seeds)", arm->label, arm->done().size()), band.x,
        band.mean);
    s.band_low = band.low;
    s.band_high = band.high;
    s.color = color++;
    seeds.series.push_back(std::move(s));
  }
  if (arms_with_seeds > 0)
    out += html::figure(svg::render(seeds), "Per-seed moving averages, then mean and ± one "
                                            "standard deviation across seeds at each iteration.");
  return out;
}

// A per-run metric (mean ± std over seeds) against a parameter; `lines_of` names the lines a
// configuration's runs belong to.
struct ChartSpec {
  std::string title, x_label, y_label;
  double (*x_of)(const TrainConfig&);
  std::vector<std::string> (*lines_of)(const TrainConfig&);
  std::function<std::optional<double>(const RunRow&)> metric;
};

std::string parameter_chart(const Comparison& c, const ChartSpec& spec) {
  std::map<std::string, std::map<double, std::vector<double>>> lines;
  for (const Arm& arm : c.arms)
    for (const RunRow* r : arm.done())
      if (const auto y = spec.metric(*r))
        for (const std::string& line : spec.lines_of(arm.config))
          lines[line][spec.x_of(arm.config)].push_back(*y);
  svg::Chart chart;
  chart.title = spec.title;
  chart.x_label = spec.x_label;
  chart.y_label = spec.y_label;
  bool any_line = false;
  for (const auto& [label, points] : lines) {
    if (points.size() < 2) continue;
    svg::Series s = make_series(label, {}, {});
    s.style = svg::Series::kLineMarkers;
    s.error = std::vector<double>();
    for (const auto& [x, acc] : points) {
      const auto sum = stats::summarize(acc);
      s.x.push_back(x);
      s.y.push_back(*mean_of(acc));
      s.error->push_back(sum ? sum->stddev : 0.0);
    }
    chart.series.push_back(std::move(s));
    any_line = true;
  }
  if (!any_line) return "";
  return html::figure(svg::render(chart), "Mean ± standard deviation over seeds (done runs).");
}

double p_L_of(const TrainConfig& c) { return c.sd.p_L; }
double depth_of(const TrainConfig& c) { return c.model.depth; }
// p_L lines: one per rule and depth; the plain ResNet (p_L = 1) ends every rule's line.
std::vector<std::string> p_L_lines(const TrainConfig& c) {
  const auto line = [&](SurvivalRule rule) {
    return fmt::format("{} ResNet-{} {}", c.data.name, c.model.depth, to_string(rule));
  };
  if (is_baseline(c)) return {line(SurvivalRule::kLinear), line(SurvivalRule::kUniform)};
  return {line(c.sd.rule)};
}
std::vector<std::string> depth_lines(const TrainConfig& c) {
  return {fmt::format("{} {}", c.data.name, arm_label(c))};
}

// --------------------------------------------------------------------------- assembly

std::string header_html(const Comparison& c) {
  std::vector<std::string> counts;
  int total = 0;
  for (const auto& [state, n] : c.status_counts) {
    counts.push_back(fmt::format("{} {}", n, state));
    total += n;
  }
  std::set<int> threads;
  for (const Arm& arm : c.arms)
    for (const RunRow& r : arm.runs)
      if (r.threads > 0) threads.insert(r.threads);
  std::string out;
  if (!c.complete)
    out += fmt::format("<p class=\"warning\"><strong>Incomplete sweep:</strong> {}. Statistics "
                       "use the done runs only.</p>",
                       html::escape(fmt::format("{}", fmt::join(counts, ", "))));
  out += html::table(
      {"", ""},
      {{"sweep", c.sweep.name},
       {"description", c.sweep.description},
       {"runs", fmt::format("{} ({})", total, fmt::join(counts, ", "))},
       {"machine", fmt::format("{} cores; {} threads per job; oneDNN {}.{}.{} ({})",
                               std::thread::hardware_concurrency(),
                               threads.empty() ? std::string("–")
                                               : fmt::format("{}", fmt::join(threads, ", ")),
                               dnnl::version()->major, dnnl::version()->minor,
                               dnnl::version()->patch, dnn::cpu_isa_name())},
       {"stodepth", STODEPTH_VERSION}},
      {false, false});
  out += "<details><summary>Sweep file</summary><pre>" + html::escape(c.sweep.source_text) +
         "</pre></details>";
  return out;
}

std::string table_html(const Table& t) {
  if (t.rows.empty()) return "";
  return html::section(t.title, "<p>" + html::escape(t.caption) + "</p>" +
                                    html::table(t.header, t.rows, t.numeric));
}

std::string markdown_cell(const std::string& s) {
  std::string out;
  for (char ch : s) out += ch == '|' ? std::string("\\|") : ch == '\n' ? std::string(" ") : std::string(1, ch);
  return out;
}

std::string table_markdown(const Table& t) {
  if (t.rows.empty()) return "";
  std::string out = fmt::format("## {}\n\n{}\n\n", t.title, t.caption);
  std::vector<std::string> header, rule;
  for (size_t i = 0; i < t.header.size(); ++i) {
    header.push_back(markdown_cell(t.header[i]));
    rule.push_back(t.numeric[i] ? "---:" : "---");
  }
  out += fmt::format("| {} |\n| {} |\n", fmt::join(header, " | "), fmt::join(rule, " | "));
  for (const auto& row : t.rows) {
    std::vector<std::string> cells;
    for (const auto& cell : row) cells.push_back(markdown_cell(cell));
    out += fmt::format("| {} |\n", fmt::join(cells, " | "));
  }
  return out + "\n";
}

Status write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return bad_input(fmt::format("{}: cannot write the report (check the directory exists "
                                     "and is writable)", path));
  return ok_status();
}

}  // namespace

Result<Comparison> compare(Store& store, const ReportOptions& options) {
  return Builder(store, options).build();
}

Result<ReportFiles> write_report(const Comparison& c, const ReportOptions& options,
                                 const std::string& html_path) {
  const std::vector<Table> tables = {accuracy_table(c), variance_table(c, options),
                                     timing_table(c), grouped_table(c, "schedule", schedule_of),
                                     grouped_table(c, "shortcut", shortcut_of)};
  std::string body = html::section("Sweep", header_html(c));
  if (c.pairs.empty())
    body += "<p>No stochastic-depth configuration has a plain baseline (p_L = 1) with the "
            "same other parameters in this sweep, so there is nothing to compare yet.</p>";
  for (const Table& t : tables) body += table_html(t);
  for (const Pair& p : c.pairs)
    body += html::section(
        fmt::format("{}: {} vs {}", p.short_title, p.stochastic->label, p.baseline->label),
        "<p>" + html::escape(p.title) + "</p>" + pair_charts(c, p, options));
  const auto final_accuracy = [](const RunRow& r) { return r.final_test_accuracy; };
  // Training time of an epoch: step time × the steps the run took in its first epoch.
  const auto epoch_seconds = [&](const RunRow& r) -> std::optional<double> {
    const auto steps = c.series.at(r.key).steps_per_epoch;
    if (!r.mean_step_ms || steps == 0) return std::nullopt;
    return *r.mean_step_ms * double(steps) / 1000;
  };
  const std::string p_L_chart = parameter_chart(
      c, {"Final accuracy against p_L", "p_L (survival probability of the last block)",
          "final test accuracy (fraction)", p_L_of, p_L_lines, final_accuracy});
  const std::string depth_charts =
      parameter_chart(c, {"Final accuracy against depth", "depth (layers)",
                          "final test accuracy (fraction)", depth_of, depth_lines,
                          final_accuracy}) +
      parameter_chart(c, {"Training time per epoch against depth", "depth (layers)",
                          "seconds per epoch (training steps)", depth_of, depth_lines,
                          epoch_seconds});
  if (!p_L_chart.empty()) body += html::section("Survival probability", p_L_chart);
  if (!depth_charts.empty()) body += html::section("Depth", depth_charts);

  ReportFiles files;
  files.html = html_path;
  std::filesystem::path base(html_path);
  base.replace_extension();
  files.markdown = base.string() + ".md";
  const auto parent = std::filesystem::path(html_path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  const std::string title = fmt::format("stodepth report: {}", c.sweep.name);
  if (auto s = write_file(files.html, html::page(title, body)); !s) return s.error();

  std::string markdown = fmt::format("# {}\n\n", title);
  if (!c.complete) markdown += "**Incomplete sweep**: statistics use the done runs only.\n\n";
  for (const auto& [state, n] : c.status_counts) markdown += fmt::format("- {} runs {}\n", n, state);
  markdown += "\n";
  for (const Table& t : tables) {
    markdown += table_markdown(t);
    if (t.rows.empty()) continue;
    const std::string path = fmt::format("{}-{}.csv", base.string(), t.name);
    std::string csv;
    std::vector<std::string> header;
    for (const auto& h : t.header) header.push_back(csv_field(h));
    csv += fmt::format("{}\n", fmt::join(header, ","));
    for (const auto& row : t.rows) {
      std::vector<std::string> cells;
      for (const auto& cell : row) cells.push_back(csv_field(cell));
      csv += fmt::format("{}\n", fmt::join(cells, ","));
    }
    if (auto s = write_file(path, csv); !s) return s.error();
    files.csv.push_back(path);
  }
  if (auto s = write_file(files.markdown, markdown); !s) return s.error();
  return files;
}

}  // namespace stodepth::results
