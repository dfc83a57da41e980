// Tabular output for `query`: an aligned table that fits a terminal, CSV, or JSON.
#pragma once

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace stodepth::cli {

struct TextTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;  // nullopt: NULL
  // Columns whose cells JSON writes as strings even when they read as numbers (run keys,
  // names: a key of hex digits that happen to be decimal ones stays a key).
  std::vector<std::string> text_columns = {};
};

// A number in an export (CSV, JSON, `query sql`): the shortest text that reads back as the
// same double, as fmt's "{}" writes it (1 for 1.0, 0.1, 150.975938819743, 1e-05) — the
// spelling of the canonical config JSON and of the settings in labels.
std::string exact_number(double x);

enum class TableFormat { kTable, kCsv, kJson };
std::optional<TableFormat> parse_table_format(const std::string& s);

// Table: columns padded, cells longer than `max_cell` truncated with "…"; CSV: RFC 4180
// quoting; JSON: an array of objects (NULL as null, cells that are JSON numbers left as they
// are unless their column is a text column, invalid UTF-8 replaced by U+FFFD).
void print_table(std::FILE* out, const TextTable& table, TableFormat format,
                 size_t max_cell = 40);

}  // namespace stodepth::cli
