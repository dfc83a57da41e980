#include "results/report/report_charts.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <set>

#include "results/report/pair_statistics.h"
#include "results/report/pairing.h"
#include "results/stats/stats.h"

namespace stodepth::results {
namespace {

// Mean and std across seeds of the per-seed moving averages, aligned by evaluation index.
struct SeedBand {
  std::vector<double> x, mean, low, high;
};
SeedBand across_seeds(const Comparison& c, const Arm& arm, const stats::Smoothing& smoothing) {
  std::vector<std::vector<double>> smoothed;
  std::vector<double> x;
  for (const RunRow* r : arm.done()) {
    const auto& s = c.series.at(r->key);
    smoothed.push_back(stats::smooth(s.test_accuracy, smoothing));
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

// An accuracy (a fraction) cannot leave [0, 1]: the primary axis is the data's nice range cut
// to [0, 1], so a mean + std error bar near 1 does not stretch it to 1.2.
void bound_accuracy_axis(svg::Chart& chart) {
  double lo = INFINITY, hi = -INFINITY;
  const auto add = [&](double v) {
    if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  };
  for (const svg::Series& s : chart.series) {
    if (s.secondary_axis) continue;
    for (size_t i = 0; i < s.y.size(); ++i) {
      add(s.y[i]);
      if (s.error && i < s.error->size()) add(s.y[i] - (*s.error)[i]), add(s.y[i] + (*s.error)[i]);
      if (s.band_low && i < s.band_low->size()) add((*s.band_low)[i]);
      if (s.band_high && i < s.band_high->size()) add((*s.band_high)[i]);
    }
  }
  if (!(lo <= hi)) return;
  const auto ticks = svg::nice_ticks(lo, hi);
  chart.y_range =
      std::pair{std::clamp(ticks.front(), 0.0, 1.0), std::clamp(ticks.back(), 0.0, 1.0)};
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
                    const std::vector<double>& x, const std::vector<double>& y,
                    const stats::Smoothing& smoothing) {
  svg::Series raw = make_series("", x, y);
  raw.style = svg::Series::kFaintPoints;
  raw.color = color;
  const auto ma = stats::smooth(y, smoothing);
  const auto sd = stats::rolling_stddev(y, smoothing.width);
  std::vector<double> low(ma.size()), high(ma.size());
  for (size_t i = 0; i < ma.size(); ++i) {
    const double s = std::isfinite(sd[i]) ? sd[i] : 0.0;
    low[i] = ma[i] - s, high[i] = ma[i] + s;
  }
  svg::Series smooth =
      make_series(fmt::format("{} ({} ± rolling std)", label, stats::to_string(smoothing)), x, ma);
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

// The baseline and stochastic runs of the first seed both arms finished, so that the two
// runs share data order; nullopt if there is none.
std::optional<std::pair<const RunRow*, const RunRow*>> common_seed_runs(const Pair& p) {
  for (const RunRow* base : p.baseline->done())
    if (const RunRow* sd = first_done_with_seed(*p.stochastic, base->config.train.seed))
      return std::pair{base, sd};
  return std::nullopt;
}

Figure seed_curve_figure(const Comparison& c, const Pair& p, const RunRow& base, const RunRow& sd,
                         bool loss, const stats::Smoothing& smoothing) {
  svg::Chart chart;
  chart.title = fmt::format("Test-batch {} per iteration, seed {}", loss ? "loss" : "accuracy",
                            base.config.train.seed);
  chart.x_label = "iteration";
  chart.y_label = loss ? "test loss (cross-entropy)" : "test accuracy (fraction)";
  chart.y2_label = "learning rate";
  int color = 0;
  for (const auto& [arm, run] : {std::pair{p.baseline, &base}, std::pair{p.stochastic, &sd}}) {
    const auto& s = c.series.at(run->key);
    add_run_series(chart, arm->label, color++, s.eval_iterations,
                   loss ? s.test_loss : s.test_accuracy, smoothing);
  }
  const RunSeries& schedule = c.series.at(base.key);
  svg::Series lr = make_series("learning rate", schedule.iterations, schedule.learning_rate);
  lr.secondary_axis = true;
  lr.dashed = true;
  lr.color = 7;
  chart.series.push_back(std::move(lr));
  if (!loss) bound_accuracy_axis(chart);
  return {std::move(chart),
          fmt::format("Raw test-batch values (faint), smoothed ({}: {} over {} evaluations), ± "
                      "rolling standard deviation band over {} evaluations.",
                      stats::to_string(smoothing),
                      smoothing.kind == stats::SmoothKind::kBox ? "trailing mean"
                                                                : "exponential mean of span",
                      smoothing.width, smoothing.width),
          std::nullopt};
}

std::optional<Figure> across_seeds_figure(const Comparison& c, const Pair& p,
                                          const stats::Smoothing& smoothing) {
  svg::Chart chart;
  chart.title = "Test accuracy across seeds (moving average)";
  chart.x_label = "iteration";
  chart.y_label = "test accuracy (fraction)";
  int color = 0;
  size_t arms_with_seeds = 0;
  for (const Arm* arm : {p.baseline, p.stochastic}) {
    const auto band = across_seeds(c, *arm, smoothing);
    arms_with_seeds += arm->done().size() >= 2;
    svg::Series s =
        make_series(fmt::format("{} (mean ± std over {} seeds)", arm->label, arm->done().size()),
                    band.x, band.mean);
    s.band_low = band.low;
    s.band_high = band.high;
    s.color = color++;
    chart.series.push_back(std::move(s));
  }
  if (arms_with_seeds == 0) return std::nullopt;
  bound_accuracy_axis(chart);
  return Figure{std::move(chart),
                fmt::format("Per-seed smoothed curves ({}), then mean and ± one standard "
                            "deviation across seeds at each iteration.",
                            stats::to_string(smoothing)),
                std::nullopt};
}

// A per-run metric (mean ± std over seeds) against a parameter; `lines_of` names the lines an
// arm's runs belong to.
struct ChartSpec {
  std::string title, x_label, y_label;
  double (*x_of)(const TrainConfig&);
  std::vector<std::string> (*lines_of)(const Comparison&, const Arm&);
  std::function<std::optional<double>(const RunRow&)> metric;
  bool accuracy = false;  // a fraction: the axis stays within [0, 1]
};

// Appends the chart to `figures` if some line has two points.
void add_parameter_figure(const Comparison& c, const ChartSpec& spec,
                          std::vector<Figure>& figures) {
  std::map<std::string, std::map<double, std::vector<double>>> lines;
  for (const Arm& arm : c.arms)
    for (const RunRow* r : arm.done())
      if (const auto y = spec.metric(*r))
        for (const std::string& line : spec.lines_of(c, arm))
          lines[line][spec.x_of(arm.config)].push_back(*y);
  svg::Chart chart;
  chart.title = spec.title;
  chart.x_label = spec.x_label;
  chart.y_label = spec.y_label;
  for (const auto& [label, points] : lines) {
    if (points.size() < 2) continue;
    svg::Series s = make_series(label, {}, {});
    s.style = svg::Series::kLineMarkers;
    s.error = std::vector<double>();
    for (const auto& [x, values] : points) {
      const auto summary = stats::summarize(values);
      s.x.push_back(x);
      s.y.push_back(*mean_of(values));
      s.error->push_back(summary ? summary->stddev : 0.0);
    }
    chart.series.push_back(std::move(s));
  }
  if (chart.series.empty()) return;
  if (spec.accuracy) bound_accuracy_axis(chart);
  figures.push_back(
      {std::move(chart), "Mean ± standard deviation over seeds (done runs).", std::nullopt});
}

double p_L_of(const TrainConfig& c) { return c.sd.p_L; }
double depth_of(const TrainConfig& c) { return c.model.depth; }
bool modes_vary(const Comparison& c) {
  std::set<DropMode> modes;
  for (const Arm& arm : c.arms)
    if (!is_baseline(arm.config)) modes.insert(arm.config.sd.mode);
  return modes.size() > 1;
}
// p_L lines: one per dataset, depth, rule (and drop mode, when the sweep varies it); the plain
// ResNet (p_L = 1) ends every line of its dataset and depth.
std::string p_L_line(const Comparison& c, const TrainConfig& sd) {
  std::string line =
      fmt::format("{} ResNet-{} {}", sd.data.name, sd.model.depth, to_string(sd.sd.rule));
  if (modes_vary(c)) line += fmt::format(", {} mode", to_string(sd.sd.mode));
  return line;
}
std::vector<std::string> p_L_lines(const Comparison& c, const Arm& arm) {
  if (!is_baseline(arm.config)) return {p_L_line(c, arm.config)};
  std::vector<std::string> lines;
  for (const Arm& sd : c.arms) {
    if (is_baseline(sd.config) || sd.config.data.name != arm.config.data.name ||
        sd.config.model.depth != arm.config.model.depth)
      continue;
    const std::string line = p_L_line(c, sd.config);
    if (std::find(lines.begin(), lines.end(), line) == lines.end()) lines.push_back(line);
  }
  return lines;
}
std::vector<std::string> depth_lines(const Comparison&, const Arm& arm) {
  return {fmt::format("{} {}", arm.config.data.name, arm.label)};
}

std::optional<double> final_accuracy(const RunRow& r) { return r.final_test_accuracy; }

}  // namespace

std::vector<Figure> pair_figures(const Comparison& c, const Pair& p,
                                 const stats::Smoothing& smoothing) {
  std::vector<Figure> figures;
  if (const auto runs = common_seed_runs(p))
    for (const bool loss : {false, true})
      figures.push_back(seed_curve_figure(c, p, *runs->first, *runs->second, loss, smoothing));
  if (auto seeds = across_seeds_figure(c, p, smoothing)) figures.push_back(std::move(*seeds));
  return figures;
}

std::vector<Figure> survival_figures(const Comparison& c) {
  std::vector<Figure> figures;
  add_parameter_figure(
      c,
      {"Final accuracy against p_L", "p_L (survival probability of the last block)",
       "final test accuracy (fraction)", p_L_of, p_L_lines, final_accuracy, true},
      figures);
  return figures;
}

std::vector<Figure> depth_figures(const Comparison& c) {
  // Training time of an epoch: step time × the steps the run took in its first epoch.
  const auto epoch_seconds = [&](const RunRow& r) -> std::optional<double> {
    const auto steps = c.series.at(r.key).steps_per_epoch;
    if (!r.mean_step_ms || steps == 0) return std::nullopt;
    return *r.mean_step_ms * double(steps) / 1000;
  };
  std::vector<Figure> figures;
  add_parameter_figure(
      c,
      {"Final accuracy against depth", "depth (layers)", "final test accuracy (fraction)", depth_of,
       depth_lines, final_accuracy, true},
      figures);
  add_parameter_figure(c,
                       {"Training time per epoch against depth", "depth (layers)",
                        "seconds per epoch (training steps)", depth_of, depth_lines, epoch_seconds},
                       figures);
  return figures;
}

std::vector<Figure> depth_survival_figures(const Comparison& c) {
  // Grids by dataset, rule and mode; the plain arms (p_L = 1) join every grid of their dataset.
  struct Grid {
    std::map<int, std::map<double, std::vector<double>>> errors;  // depth → p_L → per seed
  };
  std::map<std::string, Grid> grids;
  const auto grid_names = [&](const TrainConfig& config) {
    std::vector<std::string> names;
    for (const Arm& arm : c.arms) {
      if (is_baseline(arm.config) || arm.config.data.name != config.data.name) continue;
      const std::string name =
          fmt::format("{}, {} rule, {} mode", arm.config.data.name, to_string(arm.config.sd.rule),
                      to_string(arm.config.sd.mode));
      if (!is_baseline(config) &&
          (arm.config.sd.rule != config.sd.rule || arm.config.sd.mode != config.sd.mode))
        continue;
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
    return names;
  };
  for (const Arm& arm : c.arms)
    for (const RunRow* r : arm.done())
      if (r->final_test_accuracy)
        for (const std::string& name : grid_names(arm.config))
          grids[name].errors[arm.config.model.depth][arm.config.sd.p_L].push_back(
              100 * (1 - *r->final_test_accuracy));
  std::vector<Figure> figures;
  for (const auto& [name, grid] : grids) {
    std::vector<double> p_Ls;
    for (const auto& [depth, by_p_L] : grid.errors)
      for (const auto& [p_L, errors] : by_p_L)
        if (std::find(p_Ls.begin(), p_Ls.end(), p_L) == p_Ls.end()) p_Ls.push_back(p_L);
    if (grid.errors.size() < 2 || p_Ls.size() < 2) continue;
    std::sort(p_Ls.begin(), p_Ls.end());
    svg::Heatmap h;
    h.title = fmt::format("Test error (%) over depth and p_L: {}", name);
    h.x_label = "p_L (survival probability of the last block)";
    h.y_label = "depth";
    for (double p_L : p_Ls) h.columns.push_back(fmt::format("{}", p_L));
    for (auto it = grid.errors.rbegin(); it != grid.errors.rend(); ++it) {  // deepest on top
      h.rows.push_back(fmt::format("{}", it->first));
      auto& values = h.values.emplace_back();
      auto& text = h.cell_text.emplace_back();
      for (double p_L : p_Ls) {
        const auto cell = it->second.find(p_L);
        const auto mean = cell == it->second.end() ? std::nullopt : mean_of(cell->second);
        values.push_back(mean);
        text.push_back(mean ? fmt::format("{:.2f}", *mean) : "");
      }
    }
    Figure f;
    f.heatmap = std::move(h);
    f.caption =
        "Mean final test error (100 − accuracy, %) over seeds (done runs) in each cell, as the "
        "paper's Fig. 8; darker is higher; empty: no run.";
    figures.push_back(std::move(f));
  }
  return figures;
}

}  // namespace stodepth::results
