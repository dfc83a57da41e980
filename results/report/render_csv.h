// The report's tables as CSV (RFC 4180), one file each, for spreadsheets and scripts.
#pragma once

#include <string>
#include <vector>

#include "results/report/report_tables.h"

namespace stodepth::results {

struct CsvTable {
  std::string name;  // Table::name, e.g. "accuracy": the file is <report>-<name>.csv
  std::string text;  // the header line, then one line per row
};

// One CsvTable per table with rows, in order.
std::vector<CsvTable> render_csv(const std::vector<Table>& tables);

}  // namespace stodepth::results
