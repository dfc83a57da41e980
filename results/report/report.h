// `stodepth report`: the comparison of plain ResNets (p_L = 1) and stochastic depth that a
// sweep's database holds — curves, variance, accuracy, training time — as one
// self-contained HTML file, a Markdown summary and CSV tables.
//
// compare() reads the sweep (read_sweep.h), groups and pairs its runs (pairing.h) and adds
// the statistics (pair_statistics.h); write_report() lays out the tables (report_tables.h),
// renders each format (render_html.h, render_markdown.h, render_csv.h) and writes the files.
#pragma once

#include <string>
#include <vector>

#include "model/base/result.h"
#include "results/report/comparison.h"
#include "results/store/store.h"

namespace stodepth::results {

Result<Comparison> compare(Store& store, const ReportOptions& options);

struct ReportFiles {
  std::string html, markdown;
  std::vector<std::string> csv;
};

// Renders `comparison` (built by compare() with the same options) into `html_path`, and
// beside it the same name with .md and -accuracy.csv, -variance.csv, -timing.csv.
Result<ReportFiles> write_report(const Comparison& comparison, const ReportOptions& options,
                                 const std::string& html_path);

}  // namespace stodepth::results
