#include "results/report/render_markdown.h"

#include <fmt/format.h>

namespace stodepth::results {
namespace {

// A pipe would end the cell and a line break the row.
std::string markdown_cell(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '|') {
      out += "\\|";
    } else {
      out += ch == '\n' ? ' ' : ch;
    }
  }
  return out;
}

std::string markdown_row(const std::vector<std::string>& cells) {
  std::vector<std::string> escaped;
  for (const auto& cell : cells) escaped.push_back(markdown_cell(cell));
  return fmt::format("| {} |\n", fmt::join(escaped, " | "));
}

std::string table_markdown(const Table& t) {
  if (t.rows.empty()) return "";
  std::string out = fmt::format("## {}\n\n{}\n\n", t.title, t.caption);
  std::vector<std::string> rule;
  for (size_t i = 0; i < t.header.size(); ++i) rule.push_back(t.numeric[i] ? "---:" : "---");
  out += markdown_row(t.header) + fmt::format("| {} |\n", fmt::join(rule, " | "));
  for (const auto& row : t.rows) out += markdown_row(row);
  return out + "\n";
}

}  // namespace

std::string render_markdown(const Comparison& c, const std::vector<Table>& tables) {
  std::string out = fmt::format("# {}\n\n", report_title(c));
  if (!c.complete) out += "**Incomplete sweep**: statistics use the done runs only.\n\n";
  for (const auto& [state, n] : c.status_counts) out += fmt::format("- {} runs {}\n", n, state);
  out += "\n";
  if (const std::string warning = smoothing_warning(c); !warning.empty())
    out += fmt::format("**Warning**: {}\n\n", warning);
  if (!c.pairs.empty()) {
    out += fmt::format("## Headlines\n\n{}\n\n", headline_note(c));
    for (const Pair& p : c.pairs) {
      const auto lines = pair_headline(p);
      out += fmt::format("- **{}**: {}\n", markdown_cell(p.short_title), lines.front());
      for (size_t i = 1; i < lines.size(); ++i) out += fmt::format("  - {}\n", lines[i]);
    }
    out += "\n";
  }
  for (const Table& t : tables) out += table_markdown(t);
  return out;
}

}  // namespace stodepth::results
