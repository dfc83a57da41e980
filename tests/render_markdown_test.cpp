// The Markdown rendering (results/report/render_markdown.h): title, run counts, tables with
// aligned columns and cells that cannot break the table.
#include "results/report/render_markdown.h"

#include <catch2/catch.hpp>

#include "results/report/report_tables.h"
#include "tests/small_comparison.h"

using namespace stodepth;
using namespace stodepth::results;

TEST_CASE("the summary: title, run counts, then each table with rows") {
  const Comparison c = testing::small_comparison();
  const std::string md = render_markdown(c, report_tables(c, {}));
  CHECK(md.rfind("# stodepth report: small\n\n- 4 runs done\n\n## Headlines\n\n", 0) == 0);
  CHECK_THAT(md, Catch::Contains("\n\n## Accuracy\n\n"));
  CHECK_THAT(md, Catch::Contains("| pair | arm | n | accuracy % | std (pp) | 95% CI % | best % | "
                                 "error % | Welch p |\n"
                                 "| --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: |\n"
                                 "| ResNet-20 | ResNet (p_L = 1) | 2 | 90.00 | 1.00 | "
                                 "88.00 – 92.00 | 91.00 | 10.00 |  |\n"));
  CHECK_THAT(md, Catch::Contains("## Variance\n"));
  CHECK_THAT(md, Catch::Contains("## Training time\n"));
  CHECK_THAT(md, !Catch::Contains("By schedule"));
  CHECK_THAT(md, !Catch::Contains("Incomplete"));
}

TEST_CASE("an incomplete sweep is marked under the title") {
  Comparison c = testing::small_comparison();
  c.complete = false;
  c.status_counts = {{"done", 4}, {"queued", 1}};
  const std::string md = render_markdown(c, {});
  CHECK_THAT(md, Catch::StartsWith("# stodepth report: small\n\n"
                                   "**Incomplete sweep**: statistics use the done runs only.\n\n"
                                   "- 4 runs done\n- 1 runs queued\n\n## Headlines\n\n"));
}

TEST_CASE("a pipe in a cell is escaped and a line break becomes a space") {
  Table t{"t", "T", "caption", {"a|b", "n"}, {{"x|y", "two\nlines"}}, {false, true}};
  const std::string md = render_markdown(testing::small_comparison(), {t});
  CHECK_THAT(md, Catch::EndsWith("## T\n\ncaption\n\n| a\\|b | n |\n| --- | ---: |\n"
                                 "| x\\|y | two lines |\n\n"));
}

TEST_CASE("a clipped smoothing is a visible warning; each pair has its headline") {
  Comparison c = testing::small_comparison();
  c.smoothing = {{stats::SmoothKind::kBox, 20}, {stats::SmoothKind::kBox, 1}, 4, true};
  const std::string md = render_markdown(c, {});
  CHECK_THAT(md, Catch::Contains("\n**Warning**: Smoothing clipped: box:20 is wider than a "
                                 "quarter of the shortest run (4 evaluations); the report uses "
                                 "box:1.\n"));
  CHECK_THAT(md, Catch::Contains("\n- **ResNet-20**: SD linear p_L = 0.5 − ResNet (p_L = 1): "
                                 "Δaccuracy +3.00 pp"));
}
