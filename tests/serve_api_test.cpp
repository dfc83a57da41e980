// The serve units without HTTP: the series request's validation, run keys, the pages'
// escaping and URL encoding, and the API over a store of known rows.
#include <catch2/catch.hpp>

#include "model/base/json.h"
#include "tests/store_fixtures.h"
#include "tests/temp_dir.h"
#include "tools/serve/api.h"
#include "tools/serve/pages.h"
#include "tools/serve/series.h"

using namespace stodepth;
using stodepth::testing::TempDir;

TEST_CASE("parse_series_request: defaults, ranges and the smoothing's forms") {
  auto plain = serve::parse_series_request("", "", "", "");
  REQUIRE(plain);
  CHECK(plain->metric == "train_loss");
  CHECK(plain->max_points == 2000);
  CHECK_FALSE(plain->smoothing);
  auto ewma = serve::parse_series_request("test_acc", "500", "ewma", "7");
  REQUIRE(ewma);
  CHECK(ewma->max_points == 500);
  REQUIRE(ewma->smoothing);
  CHECK(ewma->smoothing->kind == results::stats::SmoothKind::kEwma);
  CHECK(ewma->smoothing->width == 7);
  CHECK(serve::parse_series_request("", "", "box", "")->smoothing->width == 20);
  for (auto [metric, points, smoothing, window] :
       std::vector<std::array<const char*, 4>>{{"loss", "", "", ""},
                                               {"", "0", "", ""},
                                               {"", "2001", "", ""},
                                               {"", "1e3", "", ""},
                                               {"", " 10", "", ""},
                                               {"", "", "gauss", ""},
                                               {"", "", "box", "-1"},
                                               {"", "", "box", "100001"}}) {
    auto refused = serve::parse_series_request(metric, points, smoothing, window);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == ErrorKind::kBadInput);
    CHECK(refused.error().message.find('\n') == std::string::npos);
  }
}

TEST_CASE("find_run: 16 lower-case hex digits of a run the database holds") {
  TempDir dir;
  auto store = testing::open_store(dir.file("r.db"));
  testing::require_ok(store->register_sweep(testing::sample_sweep("s")));
  testing::require_ok(store->add_jobs({testing::sample_job("00112233445566aa", "s")}));
  CHECK(serve::find_run(*store, "00112233445566aa"));
  CHECK_FALSE(serve::find_run(*store, "00112233445566ab"));
  CHECK_FALSE(serve::find_run(*store, "00112233445566AA"));
  CHECK_FALSE(serve::find_run(*store, "../../etc/passwd"));
  CHECK_FALSE(serve::find_run(*store, ""));
  CHECK(serve::find_runs(*store, "00112233445566aa,00112233445566aa,")->size() == 1);
  CHECK(serve::find_sweep(*store, "s"));
  CHECK(serve::find_sweep(*store, "t").error().message ==
        "no sweep 't' in the database, did you mean 's'?");
}

TEST_CASE("sweeps_json: counts, totals and machines of the rows written") {
  TempDir dir;
  const std::string db = dir.file("r.db");
  auto store = testing::open_store(db);
  testing::require_ok(store->register_sweep(testing::sample_sweep("s")));
  testing::require_ok(store->add_jobs({testing::sample_job("00000000000000a1", "s"),
                                       testing::sample_job("00000000000000a2", "s", 32)}));
  REQUIRE(store->claim_run("00000000000000a1", false, "box:7", 1));
  auto text = serve::sweeps_json(*store, db);
  REQUIRE(text);
  const auto sweeps = OrderedJson::parse(*text);
  REQUIRE(sweeps.size() == 1);
  CHECK(sweeps[0]["name"] == "s");
  CHECK(sweeps[0]["description"] == "a sweep");
  CHECK(sweeps[0]["total"] == 2);
  CHECK(sweeps[0]["counts"] == OrderedJson{{"not running", 1}, {"running", 1}});
  CHECK(sweeps[0]["machines"] == OrderedJson::array({"box"}));
}

TEST_CASE("pages: text escaped, names encoded for URLs") {
  CHECK(serve::url_path_segment("a b/<c>") == "a%20b%2F%3Cc%3E");
  CHECK(serve::url_path_segment("ok-1_2.3~") == "ok-1_2.3~");
  results::SweepRecord hostile{"<x>", "<img src=x onerror=alert(1)>", "", ""};
  const std::string page = serve::sweep_page(hostile);
  CHECK(page.find("<img") == std::string::npos);
  CHECK(page.find("&lt;img src=x onerror=alert(1)&gt;") != std::string::npos);
  CHECK(page.find("data-sweep=\"&lt;x&gt;\"") != std::string::npos);
  CHECK(serve::error_page(503, "<b>").find("&lt;b&gt;") != std::string::npos);
}
