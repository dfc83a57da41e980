// The report's tables (accuracy, variance, training time, and pairs grouped by a varied
// setting) as cells of text, laid out once from a Comparison: the HTML, Markdown and CSV
// renderings show the same cells, each in its own markup.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "results/report/comparison.h"

namespace stodepth::results {

struct Table {
  std::string name;     // the CSV file's suffix, e.g. "accuracy"
  std::string title;    // the section heading
  std::string caption;  // what the columns mean and how they were computed
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;  // empty: nothing to show
  std::vector<bool> numeric;                   // per column: right-aligned
};

// Accuracy, variance, training time, by drop mode, by precision, by schedule, by shortcut; the
// last four have no rows unless the sweep varies that setting.
std::vector<Table> report_tables(const Comparison& comparison, const ReportOptions& options);

// A pair's first lines: Δaccuracy with its 95% Welch CI, the speedup, the training budget,
// and whether an arm is still improving at the end; then the seeds a test of that
// difference would need, and the seeds to add to the sweep file for them.
std::vector<std::string> pair_headline(const Pair& pair);

// The seeds to add to the sweep file for `seeds_per_arm` seeds in both arms of the pair,
// after the largest seed of its runs (every run, whatever its state): "seeds 3–5", "seed 3";
// "" when both arms have as many seeds already.
std::string seeds_to_add(const Pair& pair, size_t seeds_per_arm);

// How the headline's numbers and "still improving" are computed.
std::string headline_note(const Comparison& comparison);

// The warning when the smoothing was clipped to a quarter of the shortest run, else "".
std::string smoothing_warning(const Comparison& comparison);

// The page's and the summary's title.
std::string report_title(const Comparison& comparison);

}  // namespace stodepth::results
