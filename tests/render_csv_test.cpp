// The CSV rendering (results/report/render_csv.h): one file per table with rows, RFC 4180
// quoting.
#include "results/report/render_csv.h"

#include <catch2/catch.hpp>

#include "results/report/report_tables.h"
#include "tests/small_comparison.h"

using namespace stodepth;
using namespace stodepth::results;

TEST_CASE("a table becomes a header line and one line per row, fields quoted as needed") {
  Table t;
  t.name = "odd";
  t.header = {"pair", "arm, rule"};
  t.rows = {{"a", "say \"hi\""}, {"two\nlines", "2"}};
  t.numeric = {false, true};
  const auto files = render_csv({t});
  REQUIRE(files.size() == 1);
  CHECK(files[0].name == "odd");
  CHECK(files[0].text ==
        "pair,\"arm, rule\"\n"
        "a,\"say \"\"hi\"\"\"\n"
        "\"two\nlines\",2\n");
}

TEST_CASE("tables without rows get no file, the others keep their order") {
  const Comparison c = testing::small_comparison();
  const auto files = render_csv(report_tables(c, {}));
  REQUIRE(files.size() == 3);  // schedule and shortcut are not varied
  CHECK(files[0].name == "accuracy");
  CHECK(files[1].name == "variance");
  CHECK(files[2].name == "timing");
  CHECK(files[0].text.rfind("pair,arm,n,accuracy %,std (pp),95% CI %,best %,error %,Welch p\n",
                            0) == 0);
  CHECK_THAT(files[0].text,
             Catch::EndsWith("ResNet-20,SD linear p_L = 0.5,2,93.00,2.00,90.00 – 96.00,94.00,"
                             "7.00,<0.0001\n"));
}
