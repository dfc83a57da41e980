// The numbers a pair is judged by: per arm, final accuracy over seeds (mean, std, CI clipped
// to [0, 1]), within-run noise (first differences, so the trend is not noise), whether it
// still rises at the end, timing; between the arms, the difference of means with its Welch
// CI, the seeds a test of it would need, tests of equal means and variances, std ratios and
// speedups (realized and from FLOPs).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "results/report/comparison.h"

namespace stodepth::results {

// Fills the statistics of `pair` from its arms' done runs and their `series` (by run key);
// options.smoothing is the one used (Comparison::smoothing.used).
void add_statistics(Pair& pair, const std::map<std::string, RunSeries>& series,
                    const ReportOptions& options);

// The mean, or nullopt for no values (tables and charts average what the pairs hold).
std::optional<double> mean_of(const std::vector<double>& values);

}  // namespace stodepth::results
