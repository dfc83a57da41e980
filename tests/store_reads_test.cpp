// Tests for the store's queries (results/store/reads.cpp): runs decoded from config_json,
// the read-only select of `query sql`, the best validation evaluation, running and
// interrupted runs' progress.
#include <catch2/catch.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/config/config_codec.h"
#include "results/store/store.h"
#include "tests/store_fixtures.h"
#include "tests/temp_dir.h"

namespace fs = std::filesystem;
using namespace stodepth;
using namespace stodepth::results;
using namespace stodepth::testing;

TEST_CASE("store: select runs read-only queries and refuses everything else") {
  TempDir dir;
  const std::string path = dir.file("results.db");
  auto store = GENERATE(as<std::string>{}, ":memory:", "file") == ":memory:"
                   ? store_with_runs(":memory:")
                   : store_with_runs(path);
  require_ok(store->append_iterations("r1", iterations(1, 10)));
  REQUIRE(*store->claim_run("r2", false, "h", 1));

  SECTION("a join, with column names and NULLs") {
    auto table = store->select(
        "SELECT r.key, r.depth, max(i.iteration) AS last, r.ended_at "
        "FROM runs AS r LEFT JOIN iterations AS i ON i.run = r.key "
        "GROUP BY r.key ORDER BY r.key;  -- trailing comment\n");
    INFO((table ? "" : table.error().message));
    REQUIRE(table.ok());
    CHECK(table->columns == std::vector<std::string>{"key", "depth", "last", "ended_at"});
    REQUIRE(table->rows.size() == 2);
    using Row = std::vector<std::optional<std::string>>;
    CHECK(table->rows[0] == Row{"r1", "20", "10", std::nullopt});
    CHECK(table->rows[1][2] == std::nullopt);
  }
  SECTION("REAL values as the shortest text that reads back as them, not SQLite's 15 digits") {
    auto table = store->select(
        "SELECT step_ms, lr, 1.0, 0.1 + 0.2, 2 FROM iterations WHERE run = 'r1' AND "
        "iteration = 3");
    REQUIRE(table.ok());
    // step_ms 1.5 + 3, lr 0.1 / 3; SQLite's own text of 0.1 + 0.2 would be 0.3.
    CHECK(table->rows[0] == std::vector<std::optional<std::string>>{
                                "4.5", "0.03333333333333333", "1", "0.30000000000000004", "2"});
    CHECK(std::stod(*table->rows[0][1]) == 0.1 / 3);
  }
  SECTION("a recursive CTE and functions") {
    auto table = store->select(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 5) "
        "SELECT sum(x), upper('a') FROM n");
    REQUIRE(table.ok());
    CHECK(table->rows[0] == std::vector<std::optional<std::string>>{"15", "A"});
  }
  SECTION("writes, schema changes, ATTACH, pragmas and transactions are refused") {
    for (const std::string& sql : std::vector<std::string>{
             "INSERT INTO sweeps (name) VALUES ('x')",
             "UPDATE runs SET status = 'done'",
             "DELETE FROM iterations",
             "DROP TABLE iterations",
             "CREATE TABLE t (x)",
             "CREATE TEMP TABLE t (x)",
             "ALTER TABLE runs ADD COLUMN x",
             "ATTACH DATABASE '" + dir.file("other.db") + "' AS other",
             "PRAGMA user_version = 99",
             "PRAGMA journal_mode = DELETE",
             "PRAGMA foreign_keys",
             "VACUUM",
             "BEGIN",
             "REPLACE INTO sweeps (name) VALUES ('x')",
             "SELECT * FROM runs; DELETE FROM iterations",
             "SELECT 1; SELECT 2",
             "",
             "-- only a comment",
         }) {
      auto table = store->select(sql);
      INFO(sql);
      CHECK_FALSE(table.ok());
      if (!table.ok()) CHECK(contains(table.error().message, "query"));
    }
    auto refused = store->select("DELETE FROM iterations");
    CHECK(refused.error().message == "query refused: not authorized (query sql is read-only)");
    CHECK(contains(store->select("SELECT 1; SELECT 2").error().message, "more than one"));
    CHECK(store->curve("r1")->size() == 10);
    CHECK(run_row(*store, "r2").state == RunState::kRunning);
    CHECK(store->sweeps()->size() == 1);
    CHECK_FALSE(fs::exists(dir.file("other.db")));
  }
  SECTION("syntax errors carry SQLite's message") {
    auto table = store->select("SELEC 1");
    REQUIRE_FALSE(table.ok());
    CHECK(contains(table.error().message, "syntax error"));
  }
  SECTION("the store still writes after a select") {
    REQUIRE(store->select("SELECT key FROM runs").ok());
    require_ok(store->append_iterations("r1", iterations(11, 12)));
    CHECK(store->curve("r1")->size() == 12);
  }
}

TEST_CASE("store: RunRow::config is the whole config_json, checked against the columns") {
  TempDir dir;
  const std::string path = dir.file("results.db");
  JobRecord job = sample_job("r1", "s");
  job.config.train.lr.milestones = {1, 2.5};  // settings without a column of their own
  job.config.train.augment.flip = true;
  job.config_json = canonical_config_json(job.config);
  {
    auto store = open_store(path);
    require_ok(store->register_sweep(sample_sweep("s")));
    require_ok(store->add_jobs({job}));
    const RunRow row = run_row(*store, "r1");
    CHECK(row.config.train.lr.milestones == std::vector<double>{1, 2.5});
    CHECK(row.config.train.augment.flip);
    CHECK(canonical_config_json(row.config) == job.config_json);
  }
  SECTION("a column edited by hand") {
    Raw(path).exec("UPDATE runs SET depth = 56");
    auto rows = open_store(path, OpenMode::kReadOnly)->runs(std::nullopt);
    REQUIRE_FALSE(rows.ok());
    CHECK(rows.error().kind == ErrorKind::kBadInput);
    CHECK(contains(rows.error().message,
                   "run r1: column depth holds '56' but config_json says '20' (was the database "
                   "edited by hand?)"));
  }
  SECTION("a config_json that is not a whole config") {
    Raw(path).exec("UPDATE runs SET config_json = '{\"train\":{\"lr\":{\"warmup\":1}}}'");
    auto rows = open_store(path, OpenMode::kReadOnly)->runs(std::nullopt);
    REQUIRE_FALSE(rows.ok());
    CHECK(rows.error().kind == ErrorKind::kBadInput);
    CHECK(contains(rows.error().message, "run r1: config_json: "));
    CHECK(contains(rows.error().message, "(was the database edited by hand?)"));
  }
}

TEST_CASE("store: BestValidationTracker agrees with the store's choice") {
  BestValidationTracker tracker;
  const double validation[] = {0.60, 0.70, 0.65, 0.70};
  for (int epoch = 1; epoch <= 4; ++epoch) {
    TestEvalRecord r = test_eval(epoch);
    r.validation_accuracy = validation[epoch - 1];
    tracker.add(r);
  }
  tracker.add(test_eval(5));  // no validation: ignored
  REQUIRE(tracker.best());
  CHECK(tracker.best()->epoch == 2);
  CHECK(tracker.best()->test_accuracy == test_eval(2).accuracy);
}

TEST_CASE(
    "store: run_progress gives each running or interrupted run's last iteration and recent "
    "step time") {
  auto store = store_with_runs();  // sweep "s": r1, r2
  require_ok(store->register_sweep(sample_sweep("t", "h2")));
  require_ok(store->add_jobs({sample_job("r3", "t", 44), sample_job("r4", "s", 56),
                              sample_job("r5", "t", 62), sample_job("r6", "t", 68)}));
  for (const char* key : {"r1", "r2", "r3", "r4"}) REQUIRE(*store->claim_run(key, false, "h", 2));
  // r5: 7 iterations (mean step 1.5 + 4), then its launcher died: interrupted, listed. r6:
  // queued, not listed.
  REQUIRE(*store->claim_run("r5", false, "gone", 2));
  require_ok(store->append_iterations("r5", iterations(1, 7)));
  require_ok(store->release_stale_runs("t", "gone"));
  REQUIRE(run_row(*store, "r5").state == RunState::kInterrupted);
  // r1: iterations 1..60 written newest half first; step_ms is 1.5 + i, so its last 50
  // (11..60) average 1.5 + 35.5.
  require_ok(store->append_iterations("r1", iterations(31, 60)));
  require_ok(store->append_iterations("r1", iterations(1, 30)));
  // r2: claimed, nothing recorded yet. r3: 3 iterations, mean step 1.5 + 2.
  require_ok(store->append_iterations("r3", iterations(1, 3)));
  // r4: finished, so not running: not listed.
  require_ok(store->append_iterations("r4", iterations(1, 5)));
  const RunSummary summary = sample_summary();
  require_ok(store->finish_run("r4", RunState::kDone, &summary, ""));

  auto check = [](const RunProgress& p, const std::string& key, int64_t iteration,
                  double recent_step_ms) {
    INFO(p.key);
    CHECK(p.key == key);
    CHECK(p.iteration == iteration);
    CHECK(p.recent_step_ms == Approx(recent_step_ms));
  };
  auto all = store->run_progress(std::nullopt);
  REQUIRE(all.ok());
  REQUIRE(all->size() == 4);
  check((*all)[0], "r1", 60, 37.0);
  check((*all)[1], "r2", 0, 0);
  check((*all)[2], "r3", 3, 3.5);
  check((*all)[3], "r5", 7, 5.5);

  auto of_s = store->run_progress("s");
  REQUIRE(of_s.ok());
  REQUIRE(of_s->size() == 2);
  check((*of_s)[0], "r1", 60, 37.0);
  check((*of_s)[1], "r2", 0, 0);

  auto of_t = store->run_progress("t");
  REQUIRE(of_t.ok());
  REQUIRE(of_t->size() == 2);
  check((*of_t)[0], "r3", 3, 3.5);
  check((*of_t)[1], "r5", 7, 5.5);

  CHECK(store->run_progress("no such sweep")->empty());
}

// --- latest (the live job table of `stodepth serve`) -----------------------------------------

TEST_CASE("store: latest gives a run's last iteration, test mini-batch and evaluation") {
  auto store = store_with_runs();  // sweep "s": r1, r2
  REQUIRE(*store->claim_run("r1", false, "h", 2));
  auto none = store->latest("r1");
  REQUIRE(none.ok());
  CHECK_FALSE(none->iteration);
  CHECK_FALSE(none->test_batch_accuracy);
  CHECK_FALSE(none->test_eval);
  // Iterations 1..25 written out of order: the test mini-batch falls every 10 (the last at 20).
  require_ok(store->append_iterations("r1", iterations(11, 25)));
  require_ok(store->append_iterations("r1", iterations(1, 10)));
  require_ok(store->append_test_evals("r1", {test_eval(2), test_eval(1)}));
  auto latest = store->latest("r1");
  REQUIRE(latest.ok());
  REQUIRE(latest->iteration);
  CHECK(latest->iteration->iteration == 25);
  CHECK(latest->iteration->loss == 2.0 - 0.01 * 25);
  REQUIRE(latest->test_batch_accuracy);
  CHECK(*latest->test_batch_accuracy == 0.25 + 0.001 * 20);
  REQUIRE(latest->test_eval);
  CHECK(latest->test_eval->iteration == 20);
  CHECK(latest->test_eval->accuracy == 0.5 + 0.01 * 2);
  CHECK_FALSE(store->latest("r2")->iteration);
  CHECK_FALSE(store->latest("no such run")->iteration);
}
