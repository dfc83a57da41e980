// The report's one trip to the store: which sweep, its runs, and each run's curve reduced to
// the series the statistics and charts use. Grouping and statistics work on what this
// returns and never query the database again.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/base/result.h"
#include "results/report/comparison.h"
#include "results/store/store.h"

namespace stodepth::results {

struct SweepData {
  SweepRecord sweep;
  std::vector<RunRow> runs;                 // in insertion order
  std::map<std::string, RunSeries> series;  // by run key, one per run
};

// The sweep called `name` (default: the one created last), or a bad-input Error naming the
// sweeps there are, with the closest as a hint.
Result<SweepData> read_sweep(Store& store, const std::optional<std::string>& name);

// A run's per-iteration records as series: the learning rate at every iteration, the test
// batch's accuracy and loss (NaN if absent) where it was evaluated.
RunSeries series_of(const std::vector<IterationRecord>& curve);

}  // namespace stodepth::results
