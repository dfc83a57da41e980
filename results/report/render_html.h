// The report as one self-contained HTML page: the sweep's header (runs, machine, sweep
// file), the tables, each pair's charts, and the charts against p_L and depth.
#pragma once

#include <string>
#include <vector>

#include "results/report/comparison.h"
#include "results/report/report_tables.h"

namespace stodepth::results {

// `tables` are report_tables(comparison, options); `options.window` captions the charts.
std::string render_html(const Comparison& comparison, const std::vector<Table>& tables,
                        const ReportOptions& options);

}  // namespace stodepth::results
