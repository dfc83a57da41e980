// The curves of `stodepth serve`: a metric of a run, or of a sweep's runs grouped, smoothed
// as the report smooths and thinned for drawing (thinning.h); and a run's whole curves for
// download. Points are [iteration, epoch, train_s, y]: train_s is the run's training time up
// to that iteration (the sum of its step times; evaluations and pauses are not in it). Grouped
// points add the standard deviation over the group's runs: [iteration, epoch, train_s, mean, sd].
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/base/result.h"
#include "results/stats/smoothing.h"
#include "results/store/store.h"
#include "tools/serve/curve_cache.h"

namespace stodepth::serve {

// The metrics a series can show.
const std::vector<std::string>& metric_names();

struct SeriesRequest {
  std::string metric = "train_loss";
  size_t max_points = 2000;
  std::optional<results::stats::Smoothing> smoothing;  // none: the raw values
};
// The query parameters of a series request (absent ones as empty views): metric, max_points
// (2 to 2000), smoothing (none, box, ewma) and window (1 to 100000; the report's clipping to
// a quarter of the run applies).
Result<SeriesRequest> parse_series_request(std::string_view metric, std::string_view max_points,
                                           std::string_view smoothing, std::string_view window);

// /api/run/<key>/series: one metric of one run, smoothed then thinned to max_points. The
// curves come through `cache` (only the rows recorded since the last request are read).
Result<std::string> series_json(results::Store& store, const std::string& db_path,
                                const std::string& key, const SeriesRequest& request,
                                CurveCache& cache);

// /api/sweep/<name>/series: the metric of every run of the sweep (`group_by` "run"), or of
// each group of runs sharing every setting but the seed ("arm") or one setting (its dotted
// path): the mean over the group's runs at each iteration, with their standard deviation.
// The series share 40,000 points (each at least 100, at most max_points), so that a large
// sweep's response stays bounded.
Result<std::string> sweep_series_json(results::Store& store, const std::string& db_path,
                                      const std::string& sweep, const SeriesRequest& request,
                                      const std::string& group_by, CurveCache& cache);

// /run/<key>/curve.csv and .json: every iteration and every whole-set evaluation of run `key`,
// full precision, the run key in every row.
Result<std::string> curve_csv(results::Store& store, const std::string& db_path,
                              const std::string& key);
Result<std::string> curve_json(results::Store& store, const std::string& db_path,
                               const std::string& key);

}  // namespace stodepth::serve
