// The report's Markdown summary: title, run counts and the tables, for reading in a terminal
// or pasting into notes; the charts are in the HTML page only.
#pragma once

#include <string>
#include <vector>

#include "results/report/comparison.h"
#include "results/report/report_tables.h"

namespace stodepth::results {

// `tables` are report_tables(comparison, ...); tables without rows are left out.
std::string render_markdown(const Comparison& comparison, const std::vector<Table>& tables);

}  // namespace stodepth::results
