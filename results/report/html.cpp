#include "results/report/html.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "model/base/utf8.h"

namespace stodepth::results::html {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// XML 1.0 forbids C0 controls other than tab, LF and CR, and the noncharacters U+FFFE/FFFF.
bool forbidden_in_xml(std::string_view sequence) {
  if (sequence.size() == 1) {
    const unsigned char c = sequence[0];
    return c < 0x20 && c != '\t' && c != '\n' && c != '\r';
  }
  return sequence == "\xEF\xBF\xBE" || sequence == "\xEF\xBF\xBF";
}

}  // namespace

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const int n = utf8_sequence(text);
    if (n < 0) {
      out += kReplacement;
      text.remove_prefix(size_t(-n));
      continue;
    }
    const std::string_view sequence = text.substr(0, size_t(n));
    text.remove_prefix(size_t(n));
    if (forbidden_in_xml(sequence)) {
      out += kReplacement;
      continue;
    }
    switch (sequence[0]) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += sequence;
    }
  }
  return out;
}

std::string format_number(double v, int significant) {
  if (std::isnan(v)) return "\u2013";
  if (std::isinf(v)) return v > 0 ? "\u221E" : "-\u221E";
  if (v == 0) return "0";  // also -0
  significant = std::max(significant, 1);
  const double magnitude = std::abs(v);
  if (magnitude < 1e-4 || magnitude >= 1e9) return fmt::format("{:.{}e}", v, significant - 1);
  // The exponent after rounding: 9.996 to 3 digits is 10.0, not 9.996's exponent.
  const std::string scientific = fmt::format("{:.{}e}", magnitude, significant - 1);
  const int exponent = std::atoi(scientific.c_str() + scientific.find('e') + 1);
  return fmt::format("{:.{}f}", v, std::max(0, significant - 1 - exponent));
}

std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows,
                  const std::vector<bool>& numeric_columns) {
  const auto cell = [&](std::string_view tag, size_t column, const std::string& text) {
    const bool numeric = column < numeric_columns.size() && numeric_columns[column];
    return fmt::format("<{}{}>{}</{}>", tag, numeric ? " class=\"num\"" : "", escape(text), tag);
  };
  std::string out = "<div class=\"table-wrap\"><table>\n<thead><tr>";
  for (size_t c = 0; c < header.size(); ++c) out += cell("th", c, header[c]);
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : rows) {
    out += "<tr>";
    for (size_t c = 0; c < row.size(); ++c) out += cell("td", c, row[c]);
    out += "</tr>\n";
  }
  out += "</tbody>\n</table></div>\n";
  return out;
}

std::string section(std::string_view title, std::string_view inner_html) {
  return fmt::format("<section>\n<h2>{}</h2>\n{}</section>\n", escape(title), inner_html);
}

std::string figure(std::string_view chart_html, std::string_view caption) {
  if (caption.empty()) return fmt::format("<figure>\n{}</figure>\n", chart_html);
  return fmt::format("<figure>\n{}<figcaption>{}</figcaption>\n</figure>\n", chart_html,
                     escape(caption));
}

namespace {

// Readable on screen and paper with the fonts already on the reader's machine.
constexpr std::string_view kStyle = R"(
:root { color-scheme: light; }
body {
  margin: 0 auto; padding: 1.5rem 1.25rem 3rem; max-width: 62rem;
  font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    "Noto Sans", sans-serif;
  color: #1f2328; background: #fff;
}
h1 { font-size: 1.75rem; line-height: 1.25; margin: 0 0 1rem; }
h2 { font-size: 1.3rem; margin: 2.25rem 0 0.75rem; padding-bottom: 0.25rem;
  border-bottom: 1px solid #d8dee4; }
h3 { font-size: 1.05rem; margin: 1.5rem 0 0.5rem; }
p, ul, ol { margin: 0 0 0.9rem; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono",
  monospace; font-size: 0.875em; }
pre { background: #f6f8fa; padding: 0.75rem 1rem; overflow-x: auto; border-radius: 4px; }
.table-wrap { overflow-x: auto; margin: 0 0 1.25rem; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { padding: 0.3rem 0.75rem; text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid #8c959f; white-space: nowrap; }
tbody tr:nth-child(even) { background: #f3f5f7; }
tbody tr:last-child td { border-bottom: 1px solid #d8dee4; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
figure { margin: 1rem 0 1.5rem; }
figure svg { display: block; }
figcaption { font-size: 0.875rem; color: #57606a; margin-top: 0.35rem; }
svg { max-width: 100%; height: auto; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  h2 { break-after: avoid; }
  figure, table, tr { break-inside: avoid; }
  tbody tr:nth-child(even) { background: #f3f5f7; print-color-adjust: exact;
    -webkit-print-color-adjust: exact; }
}
)";

}  // namespace

std::string page(std::string_view title, std::string_view body_html) {
  const std::string escaped_title = escape(title);
  return fmt::format(
      "<!DOCTYPE html>\n"
      "<html lang=\"en\">\n<head>\n"
      "<meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'; img-src data:\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
      "<title>{0}</title>\n"
      "<style>{1}</style>\n"
      "</head>\n<body>\n<h1>{0}</h1>\n{2}</body>\n</html>\n",
      escaped_title, kStyle, body_html);
}

}  // namespace stodepth::results::html
