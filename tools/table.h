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
};

enum class TableFormat { kTable, kCsv, kJson };
std::optional<TableFormat> parse_table_format(const std::string& s);

// Table: columns padded, cells longer than `max_cell` truncated with "…"; CSV: RFC 4180
// quoting; JSON: an array of objects (NULL as null, cells that are JSON numbers left as they
// are, invalid UTF-8 replaced by U+FFFD).
void print_table(std::FILE* out, const TextTable& table, TableFormat format,
                 size_t max_cell = 40);

}  // namespace stodepth::cli
