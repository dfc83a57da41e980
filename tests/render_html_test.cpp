// The HTML rendering (results/report/render_html.h) of a hand-built Comparison: the header
// with the machine line, the warnings, the tables and each pair's charts.
#include "results/report/render_html.h"

#include <catch2/catch.hpp>

#include "results/report/report_tables.h"
#include "tests/markup_checks.h"
#include "tests/small_comparison.h"

using namespace stodepth;
using namespace stodepth::results;
using stodepth::testing::count;

namespace {

std::string render(const Comparison& c) { return render_html(c, report_tables(c, {}), {}); }

}  // namespace

TEST_CASE("the header names the sweep, counts runs, and describes the machine") {
  const Comparison c = testing::small_comparison();
  const std::string html = render(c);
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK_THAT(html, Catch::Contains("<title>stodepth report: small</title>"));
  CHECK_THAT(html, Catch::Contains("<td>sweep</td><td>small</td>"));
  CHECK_THAT(html, Catch::Contains("<td>runs</td><td>4 (4 done)</td>"));
  // The runs' recorded machines: one per thread count (2 and 4), each with its runs.
  CHECK_THAT(html, Catch::Contains("<td>machine 1</td><td>Test CPU, 8 cores, TEST-ISA; 2 threads "
                                   "per job; oneDNN 9.8.7; host node1: 2 runs (ResNet (p_L = 1), "
                                   "SD linear p_L = 0.5)</td>"));
  CHECK_THAT(html, Catch::Contains("<td>machine 2</td><td>Test CPU, 8 cores, TEST-ISA; 4 threads "
                                   "per job; oneDNN 9.8.7; host node1: 2 runs"));
  CHECK_THAT(html, Catch::Contains("<pre>name: small\n</pre>"));
  CHECK_THAT(html, !Catch::Contains("Incomplete sweep"));
}

TEST_CASE("one machine is one row; runs launched before machines were recorded say so") {
  Comparison c = testing::small_comparison();
  for (Arm& arm : c.arms)
    for (RunRow& r : arm.runs) r.machine = {"old-host", "", "", 0, 1, ""};
  c.machines = machine_groups(c.arms);
  CHECK_THAT(render(c), Catch::Contains("<td>machine</td><td>not recorded (launched before "
                                        "stodepth recorded machines); 1 thread per job; host "
                                        "old-host</td>"));
}

TEST_CASE("the tables with rows, then a section of charts per pair") {
  const Comparison c = testing::small_comparison();
  const std::string html = render(c);
  for (const char* heading :
       {"<h2>Sweep</h2>", "<h2>Accuracy</h2>", "<h2>Variance</h2>", "<h2>Training time</h2>",
        "<h2>ResNet-20: SD linear p_L = 0.5 vs ResNet (p_L = 1)</h2>",
        "<h2>Survival probability</h2>"})
    CHECK(count(html, heading) == 1);
  CHECK(html.find("<h2>Accuracy</h2>") < html.find("<h2>ResNet-20: SD"));
  CHECK_THAT(html, !Catch::Contains("By schedule"));
  CHECK_THAT(html, !Catch::Contains("<h2>Depth</h2>"));  // a single depth: no line to draw
  CHECK_THAT(html, Catch::Contains("<td class=\"num\">&lt;0.0001</td>"));
  // Accuracy and loss of seed 1, across seeds; final accuracy against p_L.
  CHECK(count(html, "<figure>") == 4);
  CHECK(count(html, "<svg") == 4);
  CHECK_THAT(html, Catch::Contains("<p>synthetic, ResNet-20</p>"));
}

TEST_CASE("an incomplete sweep is flagged, and a sweep without pairs says so") {
  Comparison c = testing::small_comparison();
  c.complete = false;
  c.status_counts = {{"done", 4}, {"running", 1}};
  c.pairs.clear();
  const std::string html = render(c);
  CHECK_THAT(html, Catch::Contains("<strong>Incomplete sweep:</strong> 4 done, 1 running."));
  CHECK_THAT(html, Catch::Contains("nothing to compare yet"));
  CHECK_THAT(html, !Catch::Contains("<h2>Accuracy</h2>"));
}

TEST_CASE("text from the database is escaped") {
  Comparison c = testing::small_comparison();
  c.sweep.description = "<script>alert(1)</script>";
  c.pairs[0].title = "a <b> title";
  const std::string html = render(c);
  CHECK_THAT(html, !Catch::Contains("<script"));
  CHECK_THAT(html, Catch::Contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
  CHECK_THAT(html, Catch::Contains("<p>a &lt;b&gt; title</p>"));
}

TEST_CASE("a clipped smoothing is a warning paragraph; the headlines come before the tables") {
  Comparison c = testing::small_comparison();
  c.smoothing = {{stats::SmoothKind::kEwma, 20}, {stats::SmoothKind::kEwma, 1}, 4, true};
  const std::string html = render(c);
  CHECK_THAT(html, Catch::Contains("<p class=\"warning\"><strong>Warning:</strong> Smoothing "
                                   "clipped: ewma:20 is wider than a quarter of the shortest run "
                                   "(4 evaluations); the report uses ewma:1.</p>"));
  const auto headlines = html.find("<h2>Headlines</h2>");
  REQUIRE(headlines != std::string::npos);
  CHECK(headlines < html.find("<h2>Accuracy</h2>"));
  CHECK_THAT(html, Catch::Contains("<li><strong>ResNet-20</strong>: SD linear p_L = 0.5 − "
                                   "ResNet (p_L = 1): Δaccuracy +3.00 pp"));
}
