// Building blocks of the self-contained HTML report: escaping, number formatting, tables,
// sections and the page itself. The page loads nothing: its Content-Security-Policy forbids
// every fetch and script, styles are inline, charts are inline SVG (results/svg.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace stodepth::results::html {

// Escapes text for HTML/XML content and attribute values (& < > " '). Bytes that are not
// valid UTF-8, and control characters XML forbids, become U+FFFD, so the output is always
// valid UTF-8 and valid XML text whatever the input (sweep files and the DB are untrusted).
std::string escape(std::string_view text);

// `v` with `significant` significant digits (at least 1) for a table cell: fixed notation,
// scientific below 1e-4 or from 1e9; NaN → "–", infinities → "∞" / "-∞".
std::string format_number(double v, int significant);

// A table; every cell and header is escaped. Columns flagged in `numeric_columns` (missing
// flags mean false) are right-aligned with tabular figures.
std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows,
                  const std::vector<bool>& numeric_columns);

// <section> with an <h2> of the escaped title around `inner_html` (already HTML).
std::string section(std::string_view title, std::string_view inner_html);

// <figure> around an inline chart (already SVG/HTML) with an escaped caption, if any.
std::string figure(std::string_view chart_html, std::string_view caption);

// The whole document: doctype, UTF-8, CSP, embedded CSS, <h1> of the escaped title, then
// `body_html` (already HTML).
std::string page(std::string_view title, std::string_view body_html);

}  // namespace stodepth::results::html
