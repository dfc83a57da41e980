#include "results/report/render_csv.h"

#include <fmt/format.h>

#include "model/base/csv.h"

namespace stodepth::results {
namespace {

std::string csv_line(const std::vector<std::string>& cells) {
  std::vector<std::string> fields;
  for (const auto& cell : cells) fields.push_back(csv_field(cell));
  return fmt::format("{}\n", fmt::join(fields, ","));
}

}  // namespace

std::vector<CsvTable> render_csv(const std::vector<Table>& tables) {
  std::vector<CsvTable> out;
  for (const Table& t : tables) {
    if (t.rows.empty()) continue;
    std::string text = csv_line(t.header);
    for (const auto& row : t.rows) text += csv_line(row);
    out.push_back({t.name, std::move(text)});
  }
  return out;
}

}  // namespace stodepth::results
