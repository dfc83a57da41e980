#include "tools/table.h"

#include <algorithm>

#include <fmt/format.h>

#include "model/base/csv.h"
#include "model/base/json.h"

namespace stodepth::cli {

std::optional<TableFormat> parse_table_format(const std::string& s) {
  if (s == "table") return TableFormat::kTable;
  if (s == "csv") return TableFormat::kCsv;
  if (s == "json") return TableFormat::kJson;
  return std::nullopt;
}

std::string exact_number(double x) { return fmt::format("{}", x); }

namespace {

// A cell written as a JSON number: one that is a JSON number as it stands (query's cells
// are formatted already, e.g. "1.235e+05", and keep their text).
bool is_json_number(const std::string& s) {
  const Json parsed = Json::parse(s, nullptr, /*allow_exceptions=*/false);
  return parsed.is_number();
}

// A JSON string literal for a cell or column name: invalid UTF-8 replaced, \n \r \t short.
std::string json_text(const std::string& s) {
  return json_string(s, ShortEscapes::kNewlineReturnTab);
}

std::string utf8_truncate(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t cut = max - 1;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + "…";
}

}  // namespace

void print_table(std::FILE* out, const TextTable& t, TableFormat format, size_t max_cell) {
  auto cell = [](const std::optional<std::string>& v) { return v ? *v : std::string(); };
  switch (format) {
    case TableFormat::kCsv: {
      std::vector<std::string> header;
      for (const auto& c : t.columns) header.push_back(csv_field(c));
      fmt::print(out, "{}\n", fmt::join(header, ","));
      for (const auto& row : t.rows) {
        std::vector<std::string> fields;
        for (const auto& v : row) fields.push_back(csv_field(cell(v)));
        fmt::print(out, "{}\n", fmt::join(fields, ","));
      }
      return;
    }
    case TableFormat::kJson: {
      std::vector<bool> text(t.columns.size());
      for (size_t c = 0; c < t.columns.size(); ++c)
        text[c] = std::find(t.text_columns.begin(), t.text_columns.end(), t.columns[c]) !=
                  t.text_columns.end();
      fmt::print(out, "[");
      for (size_t r = 0; r < t.rows.size(); ++r) {
        std::vector<std::string> members;
        for (size_t c = 0; c < t.columns.size(); ++c) {
          const auto& v = t.rows[r][c];
          members.push_back(json_text(t.columns[c]) + ": " +
                            (!v                               ? "null"
                             : !text[c] && is_json_number(*v) ? *v
                                                              : json_text(*v)));
        }
        fmt::print(out, "{}{{{}}}", r ? ",\n " : "", fmt::join(members, ", "));
      }
      fmt::print(out, "]\n");
      return;
    }
    case TableFormat::kTable: {
      std::vector<size_t> width(t.columns.size());
      auto shown = [&](const std::string& s) { return utf8_truncate(s, max_cell); };
      auto display_width = [](const std::string& s) {
        return size_t(std::count_if(s.begin(), s.end(),
                                    [](char ch) { return (ch & 0xC0) != 0x80; }));
      };
      for (size_t c = 0; c < t.columns.size(); ++c) width[c] = display_width(t.columns[c]);
      for (const auto& row : t.rows)
        for (size_t c = 0; c < row.size(); ++c)
          width[c] = std::max(width[c], display_width(shown(cell(row[c]))));
      auto print_row = [&](auto get) {
        std::string line;
        for (size_t c = 0; c < t.columns.size(); ++c) {
          const std::string s = get(c);
          line += s + std::string(width[c] - display_width(s) + (c + 1 < width.size() ? 2 : 0), ' ');
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        fmt::print(out, "{}\n", line);
      };
      print_row([&](size_t c) { return t.columns[c]; });
      for (const auto& row : t.rows) print_row([&](size_t c) { return shown(cell(row[c])); });
      return;
    }
  }
}

}  // namespace stodepth::cli
