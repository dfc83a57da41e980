// Tests for the HTML building blocks of the report (results/report/html.h): escaping,
// number formatting, tables, sections and figures, and the self-contained page.
#include "results/report/html.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <string>

#include "results/report/svg.h"
#include "tests/markup_checks.h"

using namespace stodepth::results;
using stodepth::testing::count;
using stodepth::testing::valid_utf8;
using stodepth::testing::xml_error;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

TEST_CASE("escape neutralises markup, quotes and ampersands") {
  CHECK(html::escape("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;");
  CHECK(html::escape(R"(" onload="x" ')") == "&quot; onload=&quot;x&quot; &#39;");
  CHECK(html::escape("a & b &amp; c") == "a &amp; b &amp;amp; c");
  CHECK(html::escape("plain p_L = 0.5, ±σ, ✓") == "plain p_L = 0.5, ±σ, ✓");
  CHECK(html::escape("") == "");
}

TEST_CASE("escape replaces invalid UTF-8 and XML-forbidden controls with U+FFFD") {
  const std::string fffd = "\xEF\xBF\xBD";
  CHECK(html::escape("a\xFF"
                     "b") == "a" + fffd + "b");
  CHECK(html::escape("\xC0\xAF") == fffd + fffd);             // overlong '/'
  CHECK(html::escape("\xED\xA0\x80") == fffd + fffd + fffd);  // a UTF-16 surrogate
  CHECK(html::escape("\xE2\x82") == fffd);                    // truncated €, one maximal prefix
  CHECK(html::escape("\xE2\x82<") == fffd + "&lt;");          // the '<' is not swallowed
  CHECK(html::escape("\xF4\x90\x80\x80").find("\xF4") == std::string::npos);  // > U+10FFFF
  CHECK(html::escape(std::string("a\0b\x1B", 4)) == "a" + fffd + "b" + fffd);
  CHECK(html::escape("tab\tnewline\n") == "tab\tnewline\n");
  CHECK(html::escape("\xF0\x9F\x98\x80") == "\xF0\x9F\x98\x80");  // a 4-byte emoji survives
  std::string garbage;
  for (int c = 0; c < 256; ++c) garbage += char(c);
  CHECK(valid_utf8(html::escape(garbage)));
}

TEST_CASE("format_number") {
  CHECK(html::format_number(kNaN, 3) == "\u2013");
  CHECK(html::format_number(kInf, 3) == "\u221E");
  CHECK(html::format_number(-kInf, 3) == "-\u221E");
  CHECK(html::format_number(0.912345, 3) == "0.912");
  CHECK(html::format_number(0.9996, 3) == "1.00");
  CHECK(html::format_number(12.5, 4) == "12.50");
  CHECK(html::format_number(1234.6, 3) == "1235");
  CHECK(html::format_number(-0.04567, 2) == "-0.046");
  CHECK(html::format_number(0.0, 3) == "0");
  CHECK(html::format_number(-0.0, 3) == "0");
  CHECK(html::format_number(2.5e-6, 2) == "2.5e-06");
}

TEST_CASE("table escapes cells and right-aligns numeric columns") {
  const std::string t = html::table(
      {"sweep", "accuracy"}, {{"<script>x</script>", "0.91"}, {"a&b", "0.92"}}, {false, true});
  CHECK(t.find("<script") == std::string::npos);
  CHECK(t.find("<td>&lt;script&gt;x&lt;/script&gt;</td>") != std::string::npos);
  CHECK(t.find("<td>a&amp;b</td>") != std::string::npos);
  CHECK(t.find("<th class=\"num\">accuracy</th>") != std::string::npos);
  CHECK(count(t, "<td class=\"num\">") == 2);
  CHECK(count(t, "<tr>") == 3);
  CHECK(xml_error(t) == "");
}

TEST_CASE("section and figure escape their text, not their inner HTML") {
  const std::string s = html::section("A <b> & C", "<p>inner</p>");
  CHECK(s.find("<h2>A &lt;b&gt; &amp; C</h2>") != std::string::npos);
  CHECK(s.find("<p>inner</p>") != std::string::npos);
  CHECK(xml_error(s) == "");
  CHECK(html::figure("<svg/>", "p_L < 1").find("<figcaption>p_L &lt; 1</figcaption>") !=
        std::string::npos);
  CHECK(html::figure("<svg/>", "").find("figcaption") == std::string::npos);
}

TEST_CASE("page is self-contained: CSP, no script, nothing fetched") {
  svg::Chart chart;
  chart.title = "Test accuracy";
  svg::Series s;
  s.x = {0, 1, 2, 3};
  s.y = {0.5, 0.6, 0.7, 0.75};
  chart.series.push_back(s);
  const std::string body = html::section("Curves", html::figure(svg::render(chart), "caption"));
  const std::string p = html::page("Report <script>alert(1)</script>", body);
  CHECK(p.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(p.find("<meta charset=\"utf-8\">") != std::string::npos);
  CHECK(p.find("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
               "style-src 'unsafe-inline'; img-src data:\">") != std::string::npos);
  CHECK(p.find("<script") == std::string::npos);
  CHECK(p.find("<title>Report &lt;script&gt;alert(1)&lt;/script&gt;</title>") != std::string::npos);
  // The SVG namespace names, it does not fetch: the only URL allowed.
  const std::string xmlns = "xmlns=\"http://www.w3.org/2000/svg\"";
  std::string rest = p;
  for (size_t at; (at = rest.find(xmlns)) != std::string::npos;) rest.erase(at, xmlns.size());
  CHECK(count(p, xmlns) == 1);
  CHECK(rest.find("http://") == std::string::npos);
  CHECK(rest.find("https://") == std::string::npos);
  CHECK(rest.find("url(") == std::string::npos);
  CHECK(rest.find("@import") == std::string::npos);
  CHECK(count(p, "</html>") == 1);
}
