#include "tools/serve/series.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <map>
#include <sstream>

#include "harness/slurm/shards.h"
#include "model/base/json.h"
#include "model/config/distinguishing.h"
#include "tools/serve/api.h"
#include "tools/serve/thinning.h"

namespace stodepth::serve {
namespace {

using results::RunRow;
using results::Store;
namespace stats = results::stats;

constexpr int64_t kMaxWindow = 100000;
// The points of a sweep's series response, shared by its series (each keeps at least
// kMinSeriesPoints, and at most the request's max_points).
constexpr size_t kMaxSweepPoints = 40000, kMinSeriesPoints = 100;

std::optional<int64_t> parse_whole(std::string_view text) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// One metric of one run, in iteration order; points without a value are left out.
struct Series {
  std::vector<double> iteration, epoch, train_s, y;
  void add(double i, double e, double t, double v) {
    if (!std::isfinite(v)) return;
    iteration.push_back(i);
    epoch.push_back(e);
    train_s.push_back(t);
    y.push_back(v);
  }
};

bool from_evaluations(const std::string& metric) {
  return metric == "test_acc" || metric == "test_loss" || metric == "val_acc";
}

std::optional<double> iteration_value(const IterationRecord& r, const std::string& metric) {
  if (metric == "train_loss") return r.loss;
  if (metric == "train_acc") return r.train_accuracy;
  if (metric == "test_batch_acc") return r.test_accuracy;
  if (metric == "lr") return r.learning_rate;
  if (metric == "step_ms") return r.step_ms;
  if (metric == "active_blocks") return double(r.active_blocks);
  return std::nullopt;
}

std::optional<double> evaluation_value(const TestEvalRecord& r, const std::string& metric) {
  if (metric == "test_acc") return r.accuracy;
  if (metric == "test_loss") return r.loss;
  return r.validation_accuracy;
}

Series series_of(const RunCurves& curves, const std::string& metric) {
  Series series;
  const auto& its = curves.iterations;
  if (!from_evaluations(metric)) {
    for (size_t i = 0; i < its.size(); ++i)
      if (auto v = iteration_value(its[i], metric))
        series.add(double(its[i].iteration), double(its[i].epoch), curves.train_s[i], *v);
    return series;
  }
  for (const auto& e : curves.evaluations) {
    const auto at =
        std::lower_bound(its.begin(), its.end(), e.iteration,
                         [](const IterationRecord& r, int64_t i) { return r.iteration < i; });
    const double t = at == its.end() ? (curves.train_s.empty() ? 0 : curves.train_s.back())
                                     : curves.train_s[size_t(at - its.begin())];
    if (auto v = evaluation_value(e, metric))
      series.add(double(e.iteration), double(e.epoch), t, *v);
  }
  return series;
}

// Calls `use` with the curves of run `run`, from its store shard while it has one, else the
// database.
Status with_run_curves(Store& store, const std::string& db_path, const RunRow& run,
                       CurveCache& cache, const std::function<void(const RunCurves&)>& use) {
  auto shard = open_shard(db_path, run.key);
  const bool in_shard = shard && *shard;
  const std::string path =
      in_shard ? harness::shard_path(harness::shard_dir(db_path), run.key) : db_path;
  return cache.with_curves(in_shard ? **shard : store, path, run, use);
}

Result<Series> read_series(Store& store, const std::string& db_path, const RunRow& run,
                           const std::string& metric, CurveCache& cache) {
  Series series;
  auto read = with_run_curves(store, db_path, run, cache,
                              [&](const RunCurves& curves) { series = series_of(curves, metric); });
  if (!read) return read.error();
  return series;
}

// The request's smoothing, clipped to a quarter of the series as the report clips it;
// "none" when there is none.
std::string smooth_in_place(Series& series, const SeriesRequest& request) {
  if (!request.smoothing || series.y.empty()) return "none";
  const auto used = stats::clip_to_run(*request.smoothing, series.y.size()).smoothing;
  series.y = stats::smooth(series.y, used);
  return stats::to_string(used);
}

OrderedJson points_json(const Series& s, const std::vector<size_t>& kept,
                        const std::vector<double>* sd = nullptr) {
  OrderedJson points = OrderedJson::array();
  for (size_t i : kept) {
    OrderedJson point = {s.iteration[i], s.epoch[i], s.train_s[i]};
    point.push_back(std::isfinite(s.y[i]) ? OrderedJson(s.y[i]) : OrderedJson(nullptr));
    if (sd) point.push_back((*sd)[i]);
    points.push_back(std::move(point));
  }
  return points;
}

std::vector<size_t> thin(const Series& s, size_t max_points) {
  // LTTB needs finite values: smoothing leaves NaN only where the input had none, so a
  // series with one is sent as it is, never more than max_points (every k-th then).
  if (std::all_of(s.y.begin(), s.y.end(), [](double v) { return std::isfinite(v); }))
    return lttb(s.iteration, s.y, max_points);
  std::vector<size_t> kept;
  const size_t step = (s.y.size() + max_points - 1) / max_points;
  for (size_t i = 0; i < s.y.size(); i += std::max<size_t>(step, 1)) kept.push_back(i);
  return kept;
}

// The group of each run: itself ("run"), its settings but the seed ("arm"), or the value of
// one setting (a dotted path); each group named by what tells it apart.
Result<std::map<std::string, std::vector<const RunRow*>>> group_runs(
    const std::vector<RunRow>& runs, const std::string& group_by) {
  std::vector<std::string> configs;
  for (const auto& run : runs) configs.push_back(run.config_json);
  const auto labels = distinguishing_settings(configs, {"train.seed"});
  std::map<std::string, std::vector<const RunRow*>> groups;
  for (size_t i = 0; i < runs.size(); ++i) {
    std::string name;
    if (group_by == "run") {
      name = runs[i].key;
    } else if (group_by == "arm") {
      name = labels[i].empty() ? "all runs" : labels[i];
    } else {
      for (const auto& [path, value] : flatten_json(runs[i].config_json))
        if (path == group_by) name = path + "=" + value;
      if (name.empty())
        return bad_input(
            fmt::format("group_by: '{}' is not a setting of this sweep's runs "
                        "(run, arm, or a dotted path such as model.depth)",
                        group_by));
    }
    groups[name].push_back(&runs[i]);
  }
  return groups;
}

// The mean over `members` at each iteration any of them has, with the standard deviation
// (0 where one run has the iteration).
struct Pooled {
  Series mean;
  std::vector<double> sd;
};
Pooled pool(const std::vector<Series>& members) {
  struct Point {
    double iteration, epoch, train_s, y;
  };
  std::vector<Point> points;
  for (const auto& s : members)
    for (size_t i = 0; i < s.y.size(); ++i)
      if (std::isfinite(s.y[i]))
        points.push_back({s.iteration[i], s.epoch[i], s.train_s[i], s.y[i]});
  std::stable_sort(points.begin(), points.end(),
                   [](const Point& a, const Point& b) { return a.iteration < b.iteration; });
  Pooled pooled;
  for (size_t begin = 0, end = 0; begin < points.size(); begin = end) {
    double train_s = 0, sum = 0, squares = 0;
    for (end = begin; end < points.size() && points[end].iteration == points[begin].iteration;
         ++end) {
      train_s += points[end].train_s;
      sum += points[end].y;
    }
    const double n = double(end - begin), mean = sum / n;
    for (size_t i = begin; i < end; ++i) squares += (points[i].y - mean) * (points[i].y - mean);
    pooled.mean.add(points[begin].iteration, points[begin].epoch, train_s / n, mean);
    pooled.sd.push_back(n > 1 ? std::sqrt(squares / (n - 1)) : 0);
  }
  return pooled;
}

// One metric of run `run` as drawn: smoothed, then thinned (memoized with its curves).
Result<DrawnSeries> drawn_series(Store& store, const std::string& db_path, const RunRow& run,
                                 const SeriesRequest& request, CurveCache& cache) {
  const std::string id = fmt::format(
      "{}|{}|{}", request.metric, request.smoothing ? stats::to_string(*request.smoothing) : "none",
      request.max_points);
  DrawnSeries drawn;
  auto read = with_run_curves(store, db_path, run, cache, [&](const RunCurves& curves) {
    auto it = curves.drawn.find(id);
    if (it == curves.drawn.end()) {
      Series series = series_of(curves, request.metric);
      const std::string smoothing = smooth_in_place(series, request);
      const auto kept = thin(series, request.max_points);
      it = curves.drawn
               .emplace(id, DrawnSeries{smoothing, thinning_label(kept.size(), series.y.size()),
                                        compact_json(points_json(series, kept))})
               .first;
    }
    drawn = it->second;
  });
  if (!read) return read.error();
  return drawn;
}

}  // namespace

const std::vector<std::string>& metric_names() {
  static const std::vector<std::string> names = {"train_loss", "train_acc", "test_batch_acc",
                                                 "test_acc",   "test_loss", "val_acc",
                                                 "lr",         "step_ms",   "active_blocks"};
  return names;
}

Result<SeriesRequest> parse_series_request(std::string_view metric, std::string_view max_points,
                                           std::string_view smoothing, std::string_view window) {
  SeriesRequest request;
  if (!metric.empty()) request.metric = metric;
  const auto& names = metric_names();
  if (std::find(names.begin(), names.end(), request.metric) == names.end())
    return bad_input(
        fmt::format("metric: unknown '{}' (one of: {})", request.metric, fmt::join(names, ", ")));
  if (!max_points.empty()) {
    const auto n = parse_whole(max_points);
    if (!n || *n < 3 || *n > int64_t(kMaxPoints))
      return bad_input(fmt::format("max_points: expected a whole number from 3 to {}", kMaxPoints));
    request.max_points = size_t(*n);
  }
  int64_t width = 20;
  if (!window.empty()) {
    const auto n = parse_whole(window);
    if (!n || *n < 1 || *n > kMaxWindow)
      return bad_input(fmt::format("window: expected a whole number from 1 to {}", kMaxWindow));
    width = *n;
  }
  if (smoothing == "box")
    request.smoothing = stats::Smoothing{stats::SmoothKind::kBox, size_t(width)};
  else if (smoothing == "ewma")
    request.smoothing = stats::Smoothing{stats::SmoothKind::kEwma, size_t(width)};
  else if (!smoothing.empty() && smoothing != "none")
    return bad_input("smoothing: expected none, box or ewma");
  return request;
}

Result<std::string> series_json(Store& store, const std::string& db_path, const std::string& key,
                                const SeriesRequest& request, CurveCache& cache) {
  auto run = find_run(store, key);
  if (!run) return run.error();
  auto drawn = drawn_series(store, db_path, *run, request, cache);
  if (!drawn) return drawn.error();
  return fmt::format(
      R"({{"key":{},"metric":{},"x":"iteration","smoothing":{},"thinning":{},"points":{}}})",
      json_string(key, ShortEscapes::kNewlineTab),
      json_string(request.metric, ShortEscapes::kNewlineTab),
      json_string(drawn->smoothing, ShortEscapes::kNewlineTab),
      json_string(drawn->thinning, ShortEscapes::kNewlineTab), drawn->points);
}

Result<std::string> sweep_series_json(Store& store, const std::string& db_path,
                                      const std::string& sweep, const SeriesRequest& request,
                                      const std::string& group_by, CurveCache& cache) {
  if (auto found = find_sweep(store, sweep); !found) return found.error();
  auto runs = store.runs(sweep);
  if (!runs) return runs.error();
  auto groups = group_runs(*runs, group_by.empty() ? "run" : group_by);
  if (!groups) return groups.error();
  const bool single = group_by.empty() || group_by == "run";
  // A response stays bounded whatever the sweep's size: its series share kMaxSweepPoints.
  SeriesRequest per_series = request;
  per_series.max_points =
      std::min(request.max_points,
               std::max(kMinSeriesPoints, kMaxSweepPoints / std::max<size_t>(groups->size(), 1)));
  OrderedJson series = OrderedJson::array();
  for (const auto& [name, members] : *groups) {
    if (single) {
      auto drawn = drawn_series(store, db_path, *members.front(), per_series, cache);
      if (!drawn) return drawn.error();
      series.push_back({{"name", members.front()->key},
                        {"keys", {members.front()->key}},
                        {"smoothing", drawn->smoothing},
                        {"thinning", drawn->thinning},
                        {"points", OrderedJson::parse(drawn->points)}});
      continue;
    }
    std::vector<Series> read;
    std::string smoothing = "none";
    OrderedJson keys = OrderedJson::array();
    for (const RunRow* run : members) {
      auto one = read_series(store, db_path, *run, request.metric, cache);
      if (!one) return one.error();
      smoothing = smooth_in_place(*one, request);
      read.push_back(std::move(one).value());
      keys.push_back(run->key);
    }
    const Pooled pooled = pool(read);
    const auto kept = thin(pooled.mean, per_series.max_points);
    series.push_back({{"name", name},
                      {"keys", keys},
                      {"smoothing", smoothing},
                      {"thinning", thinning_label(kept.size(), pooled.mean.y.size())},
                      {"points", points_json(pooled.mean, kept, &pooled.sd)}});
  }
  OrderedJson out = {{"sweep", sweep},
                     {"metric", request.metric},
                     {"x", "iteration"},
                     {"group_by", group_by.empty() ? "run" : group_by},
                     {"series", series}};
  return compact_json(out);
}

namespace {

std::string cell(const std::optional<double>& x) { return x ? fmt::format("{}", *x) : ""; }

// Every recorded row of run `key`: from its Slurm shard while it has one, else the database.
struct RunRows {
  std::vector<IterationRecord> iterations;
  std::vector<TestEvalRecord> test_set;
};
Result<RunRows> read_run_rows(Store& store, const std::string& db_path, const std::string& key) {
  if (auto run = find_run(store, key); !run) return run.error();
  auto shard = open_shard(db_path, key);
  Store& rows = shard && *shard ? **shard : store;
  auto curve = rows.curve(key);
  if (!curve) return curve.error();
  auto evals = rows.test_evals(key);
  if (!evals) return evals.error();
  return RunRows{std::move(curve).value(), std::move(evals).value()};
}

}  // namespace

Result<std::string> curve_csv(Store& store, const std::string& db_path, const std::string& key) {
  auto rows = read_run_rows(store, db_path, key);
  if (!rows) return rows.error();
  std::string csv =
      "run,kind,iteration,epoch,lr,loss,train_accuracy,test_accuracy,test_loss,active_blocks,"
      "step_ms,validation_accuracy,validation_loss\n";
  for (const auto& r : rows->iterations)
    csv += fmt::format("{},iteration,{},{},{},{},{},{},{},{},{},,\n", key, r.iteration, r.epoch,
                       r.learning_rate, r.loss, r.train_accuracy, cell(r.test_accuracy),
                       cell(r.test_loss), r.active_blocks, r.step_ms);
  for (const auto& e : rows->test_set)
    csv += fmt::format("{},test_set,{},{},,,,{},{},,,{},{}\n", key, e.iteration, e.epoch,
                       e.accuracy, e.loss, cell(e.validation_accuracy), cell(e.validation_loss));
  return csv;
}

Result<std::string> curve_json(Store& store, const std::string& db_path, const std::string& key) {
  auto rows = read_run_rows(store, db_path, key);
  if (!rows) return rows.error();
  const auto optional = [](const std::optional<double>& x) {
    return x ? OrderedJson(*x) : OrderedJson(nullptr);
  };
  OrderedJson iterations = OrderedJson::array(), test_set = OrderedJson::array();
  for (const auto& r : rows->iterations)
    iterations.push_back({{"run", key},
                          {"iteration", r.iteration},
                          {"epoch", r.epoch},
                          {"lr", r.learning_rate},
                          {"loss", r.loss},
                          {"train_accuracy", r.train_accuracy},
                          {"test_accuracy", optional(r.test_accuracy)},
                          {"test_loss", optional(r.test_loss)},
                          {"active_blocks", r.active_blocks},
                          {"step_ms", r.step_ms}});
  for (const auto& e : rows->test_set)
    test_set.push_back({{"run", key},
                        {"iteration", e.iteration},
                        {"epoch", e.epoch},
                        {"accuracy", e.accuracy},
                        {"loss", e.loss},
                        {"validation_accuracy", optional(e.validation_accuracy)},
                        {"validation_loss", optional(e.validation_loss)}});
  OrderedJson out = {{"key", key}, {"iterations", iterations}, {"test_set", test_set}};
  return compact_json(out);
}

}  // namespace stodepth::serve
