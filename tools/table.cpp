#include "tools/table.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>

#include "model/base/csv.h"

namespace stodepth::cli {

std::optional<TableFormat> parse_table_format(const std::string& s) {
  if (s == "table") return TableFormat::kTable;
  if (s == "csv") return TableFormat::kCsv;
  if (s == "json") return TableFormat::kJson;
  return std::nullopt;
}

namespace {

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) out += fmt::format("\\u{:04x}", c);
        else out += char(c);
    }
  }
  return out + "\"";
}

bool is_json_number(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && v == v && s.find_first_of("xXnNiI") == std::string::npos;
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
      fmt::print(out, "[");
      for (size_t r = 0; r < t.rows.size(); ++r) {
        std::vector<std::string> members;
        for (size_t c = 0; c < t.columns.size(); ++c) {
          const auto& v = t.rows[r][c];
          members.push_back(json_string(t.columns[c]) + ": " +
                            (!v ? "null" : is_json_number(*v) ? *v : json_string(*v)));
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
