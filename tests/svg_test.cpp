// Tests for the report's SVG charts (results/report/svg.h): tick choice, well-formed and
// escaped output, series drawing, NaN gaps, the secondary axis, empty charts and decimation
// of long series.
#include "results/report/svg.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/markup_checks.h"

using namespace stodepth::results;
using stodepth::testing::count;
using stodepth::testing::valid_utf8;
using stodepth::testing::xml_error;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// The values of attribute `name` in the elements whose opening tag contains `marker`.
std::vector<std::string> attributes(std::string_view svg, std::string_view marker,
                                    std::string_view name) {
  std::vector<std::string> out;
  const std::string key = " " + std::string(name) + "=\"";
  for (size_t at = svg.find(marker); at != std::string_view::npos; at = svg.find(marker, at + 1)) {
    const size_t tag_end = svg.find('>', at);
    const size_t value = svg.find(key, svg.rfind('<', at));
    if (value == std::string_view::npos || value > tag_end) continue;
    const size_t begin = value + key.size();
    out.emplace_back(svg.substr(begin, svg.find('"', begin) - begin));
  }
  return out;
}

// The d attributes of the paths with this class, in order.
std::vector<std::string> path_data(std::string_view svg, std::string_view css_class) {
  return attributes(svg, "class=\"" + std::string(css_class) + "\"", "d");
}

// The y coordinate of every moveto in a path.
std::vector<double> moveto_ys(const std::string& d) {
  std::vector<double> ys;
  for (size_t at = d.find('M'); at != std::string::npos; at = d.find('M', at + 1)) {
    std::istringstream in(d.substr(at + 1, 40));
    double x, y;
    if (in >> x >> y) ys.push_back(y);
  }
  return ys;
}

// The y coordinates of a path of movetos, each followed by implicit linetos.
std::vector<double> line_ys(std::string d) {
  std::replace(d.begin(), d.end(), 'M', ' ');
  std::vector<double> ys;
  std::istringstream in(d);
  for (double x, y; in >> x >> y;) ys.push_back(y);
  return ys;
}

svg::Series series(std::string label, std::vector<double> x, std::vector<double> y,
                   svg::Series::Style style = svg::Series::kLine) {
  svg::Series s;
  s.label = std::move(label);
  s.x = std::move(x);
  s.y = std::move(y);
  s.style = style;
  return s;
}

svg::Chart basic_chart() {
  svg::Chart chart;
  chart.title = "Test accuracy";
  chart.x_label = "iteration";
  chart.y_label = "accuracy";
  chart.series.push_back(series("plain", {0, 1, 2, 3}, {0.5, 0.6, 0.7, 0.75}));
  return chart;
}

}  // namespace

// ---- nice ticks ----

TEST_CASE("nice_ticks for typical ranges") {
  using V = std::vector<double>;
  CHECK(svg::nice_ticks(0, 1) == V{0, 0.2, 0.4, 0.6, 0.8, 1});
  CHECK(svg::nice_ticks(0.83, 0.91) == V{0.82, 0.84, 0.86, 0.88, 0.9, 0.92});
  CHECK(svg::nice_ticks(0, 37) == V{0, 10, 20, 30, 40});
  CHECK(svg::nice_ticks(-3.7, -0.2) == V{-4, -3, -2, -1, 0});
  CHECK(svg::nice_ticks(-0.5, 0.25) == V{-0.6, -0.4, -0.2, 0, 0.2, 0.4});
  CHECK(svg::nice_ticks(0, 64000) == V{0, 20000, 40000, 60000, 80000});  // 10000s: 8 ticks
  CHECK(svg::nice_ticks(0, 64000, 8) == V{0, 10000, 20000, 30000, 40000, 50000, 60000, 70000});
  CHECK(svg::nice_ticks(0.001, 0.1) == V{0, 0.02, 0.04, 0.06, 0.08, 0.1});
  CHECK(svg::nice_ticks(1, 0) == svg::nice_ticks(0, 1));
  CHECK(svg::nice_ticks(0, 1, 3) == V{0, 0.5, 1});
  CHECK(svg::nice_ticks(-1, 1, 2) == V{-1, 0, 1});  // never one interval across zero
}

TEST_CASE("nice_ticks for single values and non-finite input") {
  const auto five = svg::nice_ticks(5, 5);
  REQUIRE(five.size() >= 3);
  CHECK(five.front() < 5);
  CHECK(five.back() > 5);
  CHECK(five.back() - five.front() < 1);
  CHECK(svg::nice_ticks(0, 0) == std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1});
  const auto negative = svg::nice_ticks(-250, -250);
  REQUIRE(negative.size() >= 3);
  CHECK(negative.front() < -250);
  CHECK(negative.back() > -250);
  CHECK(svg::nice_ticks(kNaN, 1).empty());
  CHECK(svg::nice_ticks(0, kInf).empty());
}

TEST_CASE("nice_ticks are round, evenly spaced, cover the range and respect max_ticks") {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> exponent(-6, 6), unit(-1, 1);
  for (int trial = 0; trial < 2000; ++trial) {
    const double scale = std::pow(10.0, exponent(rng));
    const double a = unit(rng) * scale, b = unit(rng) * scale;
    const int max_ticks = 3 + trial % 8;
    const auto ticks = svg::nice_ticks(a, b, max_ticks);
    INFO("range " << a << ' ' << b << " max_ticks " << max_ticks);
    REQUIRE(ticks.size() >= 2);
    CHECK(int(ticks.size()) <= max_ticks);
    CHECK(ticks.front() <= std::min(a, b));
    CHECK(ticks.back() >= std::max(a, b));
    const double step = ticks[1] - ticks[0];
    const double mantissa = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
    CHECK((std::abs(mantissa - 1) < 1e-6 || std::abs(mantissa - 2) < 1e-6 ||
           std::abs(mantissa - 5) < 1e-6));
    for (size_t i = 1; i < ticks.size(); ++i) {
      CHECK(ticks[i] - ticks[i - 1] == Approx(step).epsilon(1e-9));
    }
  }
}

// ---- render ----

TEST_CASE("render: well-formed XML with every text escaped") {
  svg::Chart chart;
  chart.title = "<script>alert(\"t\")</script> & 'title'";
  chart.x_label = "x <axis>";
  chart.y_label = "y & \"quotes\"";
  chart.y2_label = "lr </text>";
  chart.series.push_back(series("<b>bold</b> \xFF", {0, 1, 2}, {1, 2, 3}));
  svg::Series lr = series("lr & co", {0, 1, 2}, {0.1, 0.01, 0.001});
  lr.secondary_axis = true;
  chart.series.push_back(lr);
  const std::string out = svg::render(chart);
  INFO(out);
  CHECK(xml_error(out) == "");
  CHECK(valid_utf8(out));
  CHECK(out.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
  CHECK(out.find("role=\"img\"") != std::string::npos);
  CHECK(out.find("<script") == std::string::npos);
  CHECK(out.find("<b>") == std::string::npos);
  const std::string title =
      "&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt; &amp; &#39;title&#39;";
  CHECK(out.find("aria-label=\"" + title + "\"") != std::string::npos);
  CHECK(out.find(">" + title + "</text>") != std::string::npos);
  CHECK(out.find(">x &lt;axis&gt;</text>") != std::string::npos);
  CHECK(out.find(">y &amp; &quot;quotes&quot;</text>") != std::string::npos);
  CHECK(out.find(">lr &lt;/text&gt;</text>") != std::string::npos);
  CHECK(out.find(">&lt;b&gt;bold&lt;/b&gt; \xEF\xBF\xBD</text>") != std::string::npos);
  CHECK(out.find(">lr &amp; co (right axis)</text>") != std::string::npos);
}

TEST_CASE("render: one path per line series, one polygon per band") {
  svg::Chart chart = basic_chart();
  svg::Series banded = series("stochastic depth", {0, 1, 2, 3}, {0.55, 0.65, 0.72, 0.8});
  banded.band_low = std::vector<double>{0.5, 0.6, 0.7, 0.75};
  banded.band_high = std::vector<double>{0.6, 0.7, 0.74, 0.85};
  banded.dashed = true;
  chart.series.push_back(banded);
  svg::Series both =
      series("mean ± sd", {0, 1, 2, 3}, {0.4, 0.5, 0.6, 0.7}, svg::Series::kLineMarkers);
  both.error = std::vector<double>{0.01, 0.02, 0.03, 0.04};
  chart.series.push_back(both);
  chart.series.push_back(series("markers only", {0.5, 1.5}, {0.45, 0.55}, svg::Series::kMarkers));
  chart.series.push_back(
      series("noisy", {0, 1, 2, 3}, {0.3, 0.9, 0.4, 0.8}, svg::Series::kFaintPoints));
  const std::string out = svg::render(chart);
  INFO(out);
  CHECK(xml_error(out) == "");
  CHECK(count(out, "class=\"line\"") == 3);
  CHECK(count(out, "<polygon class=\"band\"") == 1);
  CHECK(count(out, "class=\"points\"") == 1);
  CHECK(count(out, "class=\"errorbars\"") == 1);
  CHECK(count(out, "class=\"markers\"") == 2);
  CHECK(count(out, "<circle cx") >= 6 + 3);  // 6 markers, 3 legend dots for the faint points
  CHECK(count(out, "stroke-dasharray=\"6 4\"") == 1);
  for (const char* label : {"plain", "stochastic depth", "mean ± sd", "markers only", "noisy"}) {
    CHECK(out.find(std::string(">") + label + "</text>") != std::string::npos);
  }
  // The Okabe–Ito colours, in order.
  CHECK(out.find("stroke=\"#0072B2\"") != std::string::npos);
  CHECK(out.find("stroke=\"#E69F00\"") != std::string::npos);
  CHECK(out.find("fill=\"#CC79A7\"") != std::string::npos);
}

TEST_CASE("render: automatic colours skip explicitly claimed ones") {
  svg::Chart chart = basic_chart();
  chart.series[0].color = 1;
  chart.series.push_back(series("auto", {0, 1}, {0.2, 0.3}));
  chart.series.push_back(series("auto 2", {0, 1}, {0.25, 0.35}));
  const auto lines = svg::render(chart);
  CHECK(attributes(lines, "class=\"line\"", "stroke") ==
        std::vector<std::string>{"#E69F00", "#0072B2", "#009E73"});
}

TEST_CASE("render: NaN and infinite points are skipped and break the line") {
  svg::Chart chart;
  chart.title = "gaps";
  svg::Series s = series("with gaps", {0, 1, 2, 3, 4, 5, 6}, {1, 2, kNaN, 4, 5, kInf, 7});
  s.band_low = std::vector<double>{0.5, 1.5, 2.5, 3.5, kNaN, 5.5, 6.5};
  s.band_high = std::vector<double>{1.5, 2.5, 3.5, 4.5, kNaN, 6.5, 7.5};
  chart.series.push_back(s);
  chart.series.push_back(series("x not finite", {0, kInf, 2}, {3, 3, 3}, svg::Series::kMarkers));
  const std::string out = svg::render(chart);
  INFO(out);
  CHECK(xml_error(out) == "");
  for (const char* bad : {"nan", "inf", "NaN", "Inf"}) CHECK(out.find(bad) == std::string::npos);
  const auto lines = path_data(out, "line");
  REQUIRE(lines.size() == 1);
  CHECK(count(lines[0], "M") == 3);                   // {0,1}, {3,4}, {6}
  CHECK(count(out, "<polygon class=\"band\"") == 2);  // {0..3}, {5,6}
  CHECK(count(out, "<circle cx") == 2 + 1);           // two finite markers, one legend marker
}

TEST_CASE("render: secondary axis only when a series asks for it") {
  svg::Chart chart = basic_chart();
  chart.y2_label = "learning rate";
  const std::string without = svg::render(chart);
  CHECK(without.find("learning rate") == std::string::npos);
  const std::string axes_without = path_data(without, "axes").at(0);

  svg::Series lr = series("lr", {0, 1, 2, 3}, {0.1, 0.1, 0.01, 0.001});
  lr.secondary_axis = true;
  lr.dashed = true;
  chart.series.push_back(lr);
  const std::string with = svg::render(chart);
  INFO(with);
  CHECK(xml_error(with) == "");
  CHECK(with.find(">learning rate</text>") != std::string::npos);
  CHECK(with.find("rotate(90)") != std::string::npos);
  CHECK(with.find(">lr (right axis)</text>") != std::string::npos);
  // Its own ticks: 0 … 0.1, unlike the primary axis's 0.5 … 0.75.
  CHECK(with.find(">0.10</text>") != std::string::npos);
  CHECK(with.find(">0.02</text>") != std::string::npos);
  CHECK(with.find(">0.75</text>") != std::string::npos);
  // A right-hand axis line: one more vertical moveto in the axes path.
  CHECK(count(path_data(with, "axes").at(0), "V") == count(axes_without, "V") + 1);
  CHECK(count(with, "class=\"line\"") == 2);
}

TEST_CASE("render: an empty chart renders as nothing") {
  svg::Chart chart;
  chart.title = "empty";
  CHECK(svg::render(chart) == "");
  chart.series.push_back(series("no points", {}, {}));
  CHECK(svg::render(chart) == "");
  chart.series.push_back(series("all NaN", {0, 1, 2}, {kNaN, kNaN, kInf}));
  CHECK(svg::render(chart) == "");
  chart.x_log = true;
  chart.series.push_back(series("x <= 0 on a log axis", {0, -1}, {1, 2}));
  CHECK(svg::render(chart) == "");
  chart.series.push_back(series("one point", {1}, {0.5}, svg::Series::kMarkers));
  CHECK(svg::render(chart) != "");
}

TEST_CASE("render: 100k-point series are decimated, lines keeping their extremes") {
  svg::Chart chart;
  chart.title = "long";
  svg::Series noisy;
  noisy.label = "per iteration";
  noisy.style = svg::Series::kFaintPoints;
  svg::Series line;
  line.label = "moving average";
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> noise(0, 1);
  for (int i = 0; i < 100000; ++i) {
    noisy.x.push_back(i);
    noisy.y.push_back(noise(rng));
    line.x.push_back(i);
    line.y.push_back(i == 54321 ? 100 : i >= 30000 && i < 30500 ? kNaN : 0.5 + 0.01 * noise(rng));
  }
  chart.series = {noisy, line};
  const std::string out = svg::render(chart);
  CHECK(xml_error(out) == "");
  CHECK(out.size() < 100000);
  const auto points = path_data(out, "points");
  REQUIRE(points.size() == 1);
  CHECK(moveto_ys(points[0]).size() == svg::kMaxPointsPerSeries);
  const auto lines = path_data(out, "line");
  REQUIRE(lines.size() == 1);
  CHECK(count(lines[0], "M") == 2);  // the gap at 30000…30500 survives decimation
  const auto ys = line_ys(lines[0]);
  CHECK(ys.size() <= 2 * 720);  // at most two per pixel column
  CHECK(ys.size() >= 2 * 500);
  // The spike survives: the line reaches the top gridline (y = 100).
  const auto grid_ys = moveto_ys(path_data(out, "grid").at(0));
  CHECK(*std::min_element(ys.begin(), ys.end()) ==
        Approx(*std::min_element(grid_ys.begin(), grid_ys.end())).margin(0.11));
}

TEST_CASE("render: log x axis and fixed y range") {
  svg::Chart chart;
  chart.title = "log";
  chart.x_log = true;
  chart.y_range = std::pair{0.8, 0.9};
  chart.series.push_back(
      series("s", {0, 1, 10, 100, 1000, 2000}, {0.5, 0.82, 0.85, 0.95, 0.88, 1e300}));
  const std::string out = svg::render(chart);
  INFO(out);
  CHECK(xml_error(out) == "");
  for (const char* label : {">1</text>", ">10</text>", ">100</text>", ">1000</text>"}) {
    CHECK(out.find(label) != std::string::npos);
  }
  CHECK(out.find(">0.80</text>") != std::string::npos);
  CHECK(out.find(">0.90</text>") != std::string::npos);
  CHECK(out.find(">0.78</text>") == std::string::npos);  // no ticks outside the fixed range
  CHECK(out.find(">0.95</text>") == std::string::npos);
  // Out-of-range data are clipped, through an id the chart refers to.
  const auto ids = attributes(out, "<clipPath ", "id");
  REQUIRE(ids.size() == 1);
  CHECK(ids[0].size() > 0);
  CHECK(out.find("clip-path=\"url(#" + ids[0] + ")\"") != std::string::npos);
  CHECK(count(path_data(out, "line").at(0), "M") == 1);  // x = 0 skipped, not a break
  CHECK(out.size() < 5000);  // 1e300 far above the range does not print as 300 digits
}

TEST_CASE("render: a chart too small for its text is still well-formed") {
  svg::Chart chart = basic_chart();
  chart.y2_label = "lr";
  svg::Series lr = series("lr", {0, 1}, {0.1, 0.01});
  lr.secondary_axis = true;
  chart.series.push_back(lr);
  for (auto [w, h] : {std::pair{40, 30}, std::pair{1, 1}, std::pair{0, 0}}) {
    chart.width = w;
    chart.height = h;
    const std::string out = svg::render(chart);
    CHECK(xml_error(out) == "");
    for (const char* bad : {"nan", "inf"}) CHECK(out.find(bad) == std::string::npos);
  }
}

TEST_CASE("render: text too long for its room is shrunk, then cut, keeping a tooltip") {
  svg::Chart chart = basic_chart();
  chart.width = 400;
  chart.title = std::string(200, 'T') + " <end>";
  chart.y_label = "short";
  chart.series[0].label = std::string(300, 'L') + "\u00B1";
  const std::string out = svg::render(chart);
  INFO(out);
  CHECK(xml_error(out) == "");
  CHECK(out.find("<title>" + std::string(200, 'T') + " &lt;end&gt;</title>") != std::string::npos);
  CHECK(out.find("T\u2026</text>") != std::string::npos);
  CHECK(out.find("L\u2026</text>") != std::string::npos);
  CHECK(out.find(">short</text>") != std::string::npos);  // fits: neither cut nor tooltip
  CHECK(count(out, "<title>") == 1);
  // A cut never splits a multi-byte character.
  chart.title = std::string(60, 'a') + std::string(100, '\xCE');
  CHECK(valid_utf8(svg::render(chart)));
  std::string greek;
  for (int i = 0; i < 200; ++i) greek += "\u03C3";
  chart.title = greek;
  CHECK(valid_utf8(svg::render(chart)));
}

TEST_CASE("render: large and small tick values are labelled compactly") {
  svg::Chart chart;
  chart.title = "compact";
  chart.series.push_back(series("iterations", {0, 64000}, {1e-5, 9e-5}));
  const std::string out = svg::render(chart);
  CHECK(out.find(">20k</text>") != std::string::npos);
  CHECK(out.find(">60k</text>") != std::string::npos);
  CHECK(out.find(">2e-5</text>") != std::string::npos);
  CHECK(out.find("e-05") == std::string::npos);
}

TEST_CASE(
    "heatmap: cells shaded by value with their text, escaped, well-formed; empty without data") {
  svg::Heatmap h;
  h.title = "error <%>";
  h.x_label = "p_L";
  h.y_label = "depth";
  h.columns = {"0.5", "1"};
  h.rows = {"110", "20"};
  h.values = {{7.5, 9.0}, {6.0, std::nullopt}};
  h.cell_text = {{"7.50", "9.00"}, {"6.00", ""}};
  const std::string out = svg::render(h);
  CHECK(stodepth::testing::xml_error(out).empty());
  CHECK_THAT(out, Catch::Contains("error &lt;%&gt;"));
  for (const char* text : {">7.50<", ">9.00<", ">6.00<", ">110<", ">20<", ">0.5<", ">p_L<"})
    CHECK_THAT(out, Catch::Contains(text));
  // Lowest value lightest, highest darkest; the empty cell is white.
  CHECK_THAT(out, Catch::Contains("fill=\"#f7fbff\""));
  CHECK_THAT(out, Catch::Contains("fill=\"#08519c\""));
  CHECK(count(out, "<rect") == 5);  // background + 4 cells
  h.values = {{std::nullopt, std::nullopt}, {NAN, std::nullopt}};
  CHECK(svg::render(h).empty());
}
