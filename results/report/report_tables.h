// The report's tables (accuracy, variance, training time, and pairs grouped by a varied
// setting) as cells of text, laid out once from a Comparison: the HTML, Markdown and CSV
// renderings show the same cells, each in its own markup.
#pragma once

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

// Accuracy, variance, training time, by schedule, by shortcut; the last two have no rows
// unless the sweep varies that setting.
std::vector<Table> report_tables(const Comparison& comparison, const ReportOptions& options);

// The page's and the summary's title.
std::string report_title(const Comparison& comparison);

}  // namespace stodepth::results
