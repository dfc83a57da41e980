// CurveCache: a run's curves read once, then only the rows recorded since; started over when
// the run's rows go backwards (a restart) or the file is replaced.
#include "tools/serve/curve_cache.h"

#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/store_fixtures.h"
#include "tests/temp_dir.h"

using namespace stodepth;
using stodepth::testing::TempDir;

namespace {

std::vector<int64_t> iterations_of(serve::CurveCache& cache, results::Store& store,
                                   const std::string& path, const results::RunRow& run,
                                   double* train_s = nullptr) {
  std::vector<int64_t> its;
  auto used = cache.with_curves(store, path, run, [&](const serve::RunCurves& c) {
    for (const auto& r : c.iterations) its.push_back(r.iteration);
    if (train_s && !c.train_s.empty()) *train_s = c.train_s.back();
    CHECK(c.train_s.size() == c.iterations.size());
  });
  REQUIRE(used);
  return its;
}

std::vector<int64_t> range(int64_t first, int64_t last) {
  std::vector<int64_t> v;
  for (int64_t i = first; i <= last; ++i) v.push_back(i);
  return v;
}

}  // namespace

TEST_CASE("CurveCache: reads what was recorded since, starts over after a restart") {
  TempDir dir;
  const std::string path = dir.file("r.db");
  auto writer = testing::store_with_runs(path);  // sweep "s": r1, r2
  REQUIRE(*writer->claim_run("r1", false, "h", 1));
  testing::require_ok(writer->append_iterations("r1", testing::iterations(1, 30)));
  testing::require_ok(writer->append_test_evals("r1", {testing::test_eval(1)}));
  auto reader = testing::open_store(path, results::OpenMode::kReadOnly);
  const auto run = testing::run_row(*reader, "r1");

  serve::CurveCache cache;
  double train_s = 0;
  CHECK(iterations_of(cache, *reader, path, run, &train_s) == range(1, 30));
  // step_ms is 1.5 + i: the sum over 1..30 is 45 + 465 ms.
  CHECK(train_s == Approx(0.510));
  testing::require_ok(writer->append_iterations("r1", testing::iterations(31, 50)));
  CHECK(iterations_of(cache, *reader, path, run, &train_s) == range(1, 50));
  CHECK(train_s == Approx((75 + 1275) / 1000.0));

  // Claimed again from no checkpoint: its rows are deleted and it starts over.
  REQUIRE(writer->finish_run("r1", results::RunState::kFailed, nullptr, "stopped"));
  REQUIRE(*writer->claim_run("r1", true, "h", 1, [] { return Result<int64_t>(0); }));
  testing::require_ok(writer->append_iterations("r1", testing::iterations(1, 10)));
  CHECK(iterations_of(cache, *reader, path, run) == range(1, 10));

  // Evicted beyond its row budget: still answers, from the database.
  serve::CurveCache small(5);
  CHECK(iterations_of(small, *reader, path, run) == range(1, 10));
  CHECK(iterations_of(small, *reader, path, testing::run_row(*reader, "r2")).empty());
  CHECK(iterations_of(small, *reader, path, run) == range(1, 10));

  // A path that no longer names a file: an Error, not rows of the file that was there.
  std::filesystem::rename(path, path + ".aside");
  CHECK_FALSE(cache.with_curves(*reader, path, run, [](const serve::RunCurves&) {}));
}
