// Tests for Store::merge_shard: a store shard built as a Slurm task builds it (the sweep and
// its job registered, the run claimed, its records appended, a stop recorded, the run
// finished) folded into the main database, bit for bit; a merge repeated, refused or of an
// unfinished run writes nothing to either file.
#include <sqlite3.h>

#include <bit>
#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "model/config/config_codec.h"
#include "results/store/schema.h"
#include "results/store/store.h"
#include "tests/store_fixtures.h"
#include "tests/temp_dir.h"

namespace fs = std::filesystem;
using namespace stodepth;
using namespace stodepth::results;
using stodepth::testing::contains;
using stodepth::testing::open_store;
using stodepth::testing::read_bytes;
using stodepth::testing::require_ok;
using stodepth::testing::rollback_journal;
using stodepth::testing::run_row;
using stodepth::testing::sample_machine;
using stodepth::testing::TempDir;

namespace {

// The rows of `sql` on `db`, one a line, REALs by their bits.
std::string rows_text(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  INFO(sql);
  REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
  std::string out;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
      switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_NULL:
          out += "NULL";
          break;
        case SQLITE_INTEGER:
          out += std::to_string(sqlite3_column_int64(stmt, c));
          break;
        case SQLITE_FLOAT:
          out += fmt::format("{:#x}", std::bit_cast<uint64_t>(sqlite3_column_double(stmt, c)));
          break;
        default:
          out += fmt::format("'{}'", reinterpret_cast<const char*>(sqlite3_column_text(stmt, c)));
      }
      out += "|";
    }
    out += "\n";
  }
  sqlite3_finalize(stmt);
  return out;
}

// rows_text of `sql` on the database at `path`, read through a connection of its own.
std::string rows_text(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  std::string out = rows_text(db, sql);
  sqlite3_close(db);
  return out;
}

// Every row of every table: equal dumps are equal databases.
std::string dump(const std::string& path) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  std::vector<std::string> tables;
  sqlite3_stmt* stmt = nullptr;
  REQUIRE(sqlite3_prepare_v2(db,
                             "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name",
                             -1, &stmt, nullptr) == SQLITE_OK);
  while (sqlite3_step(stmt) == SQLITE_ROW)
    tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
  sqlite3_finalize(stmt);
  std::string out;
  for (const std::string& table : tables)
    out += "table " + table + "\n" + rows_text(db, "SELECT * FROM " + table);
  sqlite3_close(db);
  return out;
}

// Doubles compared by their bits: a merge copies values, it does not round them.
bool same(double a, double b) { return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b); }
bool same(std::optional<double> a, std::optional<double> b) {
  return a.has_value() == b.has_value() && (!a || same(*a, *b));
}

const SweepRecord kSweep{"cluster", "a Slurm sweep", "name: cluster\n", "hash-1"};

JobRecord job(const std::string& key, int depth = 20) {
  JobRecord job;
  job.key = key;
  job.sweep = kSweep.name;
  job.config.data.name = "synthetic";
  job.config.model.depth = depth;
  job.config.model.width = 2;
  job.config.sd.rule = SurvivalRule::kLinear;
  job.config.sd.p_L = 0.5;
  job.config.train.iterations = 40;
  job.config.train.seed = 3;
  job.config_json = canonical_config_json(job.config);
  return job;
}

// Values whose every bit matters: thirds, a subnormal, one ulp above 1.
std::vector<IterationRecord> iterations(int64_t first, int64_t last, double scale = 1) {
  std::vector<IterationRecord> rows;
  for (int64_t i = first; i <= last; ++i) {
    IterationRecord r;
    r.iteration = i;
    r.epoch = 1 + (i - 1) / 10;
    r.learning_rate = scale * 0.1 / 3 / double(i);
    r.loss = scale * (std::nextafter(1.0, 2.0) + 1.0 / double(i));
    r.train_accuracy = i == 1 ? 4.9406564584124654e-324 : 1.0 / 7 * double(i % 7);
    r.active_blocks = int(i % 9);
    r.step_ms = 1.0 / 3 + double(i);
    if (i % 10 == 0) {
      r.test_accuracy = 0.2 + 1.0 / 3;
      r.test_loss = 2.0 / 3;
    }
    rows.push_back(r);
  }
  return rows;
}

RunSummary summary() {
  RunSummary s;
  s.iterations = 40;
  s.wall_seconds = 12.0 / 7;
  s.mean_step_ms = 1.0 / 3;
  s.images_per_second = 768.125;
  s.mean_active_blocks = 7.0 / 3;
  s.expected_active_blocks = 2.25;
  s.final_test_accuracy = 0.1 + 0.2;
  s.final_test_loss = 1.0 / 9;
  s.time = {1.5, 900.0 / 7, 20.5, 0.75};
  s.model_bytes = 123456789;
  s.peak_rss = 987654321;
  return s;
}

// How far a shard's task got.
enum class Progress { kCreated, kRunning, kStopped, kDone, kFailed };

// A main database with sweep "cluster" and queued runs "r1" and "r2", submitted as one job
// array, and its shards at <db>.shards/<key>.db.
struct Cluster {
  TempDir dir;
  const std::string db = dir.file("results.db");
  std::unique_ptr<Store> main;

  Cluster() {
    main = open_store(db);
    require_ok(main->register_sweep(kSweep));
    require_ok(main->add_jobs({job("r1"), job("r2", 32)}));
    fs::create_directories(db + ".shards");
  }

  std::string shard_path(const std::string& key) const { return db + ".shards/" + key + ".db"; }

  void submit(const std::string& job_id) {
    SlurmSubmission submission;
    submission.job_id = job_id;
    submission.sweep = kSweep.name;
    submission.keys = {"r1", "r2"};
    submission.threads = 4;
    require_ok(main->record_submission(submission));
  }

  // The shard of run `key` as its task writes it, with the task's store closed (unless
  // kCreated/kRunning, for which the task is still at work: its store is returned).
  std::unique_ptr<Store> write_shard(const std::string& key, Progress progress,
                                     const JobRecord& shard_job = {}) {
    auto shard = open_store(shard_path(key), OpenMode::kReadWrite, rollback_journal());
    require_ok(shard->register_sweep(kSweep));
    if (progress == Progress::kCreated) return shard;
    require_ok(
        shard->add_jobs({shard_job.key.empty() ? job(key, key == "r1" ? 20 : 32) : shard_job}));
    REQUIRE(*shard->claim_run(key, false, "node7:4242", 4));
    require_ok(shard->record_machine(key, sample_machine()));
    require_ok(shard->append_iterations(key, iterations(1, 40)));
    require_ok(shard->append_test_evals(key, {{1, 10, 1.0 / 3, 2.0 / 3}, {4, 40, 0.7, 0.1}}));
    require_ok(shard->record_stop(key, {"", 20, "time-limit", "1234_0", true}));
    if (progress == Progress::kRunning) return shard;
    const RunSummary s = summary();
    switch (progress) {
      case Progress::kStopped:
        require_ok(shard->finish_run(key, RunState::kInterrupted, &s, ""));
        break;
      case Progress::kFailed:
        require_ok(shard->finish_run(key, RunState::kFailed, nullptr, "out of memory"));
        break;
      default:
        require_ok(shard->finish_run(key, RunState::kDone, &s, ""));
        break;
    }
    return nullptr;
  }

  ShardMerge merge(const std::string& key) {
    auto merged = main->merge_shard(shard_path(key));
    INFO((merged ? "" : merged.error().message));
    REQUIRE(merged.ok());
    return *merged;
  }

  // The refusal of merging `key`'s shard: a kDamaged error naming the shard, with main and
  // the shard unchanged.
  Error refused(const std::string& key) {
    const std::string main_before = dump(db);
    const std::string shard_before = read_bytes(shard_path(key));
    auto merged = main->merge_shard(shard_path(key));
    REQUIRE_FALSE(merged.ok());
    INFO(merged.error().message);
    CHECK(merged.error().kind == ErrorKind::kDamaged);
    CHECK(contains(merged.error().message, shard_path(key)));
    CHECK(dump(db) == main_before);
    CHECK(read_bytes(shard_path(key)) == shard_before);
    return merged.error();
  }
};

// Everything the store returns of run `key` is the same in both, doubles to the bit.
void check_same_run(Store& main, Store& shard, const std::string& key) {
  const RunRow a = run_row(main, key), b = run_row(shard, key);
  CHECK(a.state == b.state);
  CHECK(a.config_json == b.config_json);
  CHECK(a.error == b.error);
  CHECK(a.host == b.host);
  CHECK(a.threads == b.threads);
  CHECK(a.started_at == b.started_at);
  CHECK(a.ended_at == b.ended_at);
  CHECK(a.machine.host == b.machine.host);
  CHECK(a.machine.cpu_model == b.machine.cpu_model);
  CHECK(a.machine.isa == b.machine.isa);
  CHECK(a.machine.cores == b.machine.cores);
  CHECK(a.machine.onednn_version == b.machine.onednn_version);
  for (auto field : {&RunRow::wall_seconds, &RunRow::mean_step_ms, &RunRow::images_per_second,
                     &RunRow::expected_active_blocks, &RunRow::mean_active_blocks,
                     &RunRow::final_test_accuracy, &RunRow::final_test_loss}) {
    CHECK(same(a.*field, b.*field));
  }

  const auto curve_a = *main.curve(key), curve_b = *shard.curve(key);
  REQUIRE(curve_a.size() == curve_b.size());
  for (size_t i = 0; i < curve_a.size(); ++i) {
    const IterationRecord &x = curve_a[i], &y = curve_b[i];
    INFO("iteration " << y.iteration);
    CHECK(x.iteration == y.iteration);
    CHECK(x.epoch == y.epoch);
    CHECK(same(x.learning_rate, y.learning_rate));
    CHECK(same(x.loss, y.loss));
    CHECK(same(x.train_accuracy, y.train_accuracy));
    CHECK(same(x.test_accuracy, y.test_accuracy));
    CHECK(same(x.test_loss, y.test_loss));
    CHECK(x.active_blocks == y.active_blocks);
    CHECK(same(x.step_ms, y.step_ms));
  }

  const auto evals_a = *main.test_evals(key), evals_b = *shard.test_evals(key);
  REQUIRE(evals_a.size() == evals_b.size());
  for (size_t i = 0; i < evals_a.size(); ++i) {
    CHECK(evals_a[i].epoch == evals_b[i].epoch);
    CHECK(evals_a[i].iteration == evals_b[i].iteration);
    CHECK(same(evals_a[i].accuracy, evals_b[i].accuracy));
    CHECK(same(evals_a[i].loss, evals_b[i].loss));
  }

  const auto stops_a = *main.stops(key), stops_b = *shard.stops(key);
  REQUIRE(stops_a.size() == stops_b.size());
  for (size_t i = 0; i < stops_a.size(); ++i) {
    CHECK(stops_a[i].at == stops_b[i].at);
    CHECK(stops_a[i].iteration == stops_b[i].iteration);
    CHECK(stops_a[i].cause == stops_b[i].cause);
    CHECK(stops_a[i].slurm_job == stops_b[i].slurm_job);
    CHECK(stops_a[i].requeued == stops_b[i].requeued);
  }
}

std::string table_text(Store& store, const std::string& sql) {
  auto table = store.select(sql);
  INFO((table ? "" : table.error().message));
  REQUIRE(table.ok());
  REQUIRE(table->rows.size() == 1);
  return table->rows[0][0].value_or("NULL");
}

}  // namespace

TEST_CASE("merge: a finished shard's run replaces what main holds of it, bit for bit") {
  Cluster cluster;
  // An earlier local attempt left rows the merge must replace, not add to.
  REQUIRE(*cluster.main->claim_run("r1", false, "laptop:1", 2));
  require_ok(cluster.main->append_iterations("r1", iterations(1, 55, 3)));
  require_ok(cluster.main->record_stop("r1", {"", 55, "interrupted", "", false}));
  require_ok(cluster.main->finish_run("r1", RunState::kInterrupted, nullptr, ""));
  cluster.submit("1234");

  cluster.write_shard("r1", Progress::kDone);
  const std::string shard = cluster.shard_path("r1");
  const std::string shard_bytes = read_bytes(shard);

  const ShardMerge merge = cluster.merge("r1");
  CHECK(merge.result == MergeResult::kMerged);
  CHECK(merge.key == "r1");
  CHECK(merge.state == RunState::kDone);

  auto shard_store = open_store(shard, OpenMode::kReadOnly);
  check_same_run(*cluster.main, *shard_store, "r1");
  CHECK(cluster.main->curve("r1")->size() == 40);
  const auto stops = *cluster.main->stops("r1");
  REQUIRE(stops.size() == 1);  // the earlier attempt's stop was replaced too
  CHECK(stops[0].cause == "time-limit");
  CHECK(stops[0].slurm_job == "1234_0");
  CHECK(stops[0].requeued);
  // The columns RunRow does not carry, and the parameter columns (untouched, and equal).
  const std::string more_columns =
      "SELECT data_ms, network_ms, update_ms, record_ms, model_bytes, peak_rss_bytes, depth, "
      "p_L, lr, config_json FROM runs WHERE key = 'r1'";
  CHECK(rows_text(cluster.db, more_columns) == rows_text(shard, more_columns));
  CHECK(table_text(*cluster.main,
                   "SELECT count(*) FROM merged_shards AS m JOIN runs AS r ON r.key = m.run "
                   "WHERE m.started_at = r.started_at AND m.ended_at = r.ended_at AND "
                   "length(m.merged_at) = 20") == "1");

  // The other run and the submission are left alone.
  const RunRow r2 = run_row(*cluster.main, "r2");
  CHECK(r2.state == RunState::kRunning);
  CHECK(r2.host == "slurm:1234_1");
  CHECK(cluster.main->slurm_tasks(std::nullopt)->size() == 2);

  // The shard is only read: its bytes are the same, and nothing was created beside it.
  shard_store.reset();
  CHECK(read_bytes(shard) == shard_bytes);
  for (const char* suffix : {"-journal", "-wal", "-shm"}) CHECK_FALSE(fs::exists(shard + suffix));
}

TEST_CASE("merge: a failed or diverged run is final and merges too") {
  Cluster cluster;
  cluster.submit("77");
  cluster.write_shard("r2", Progress::kFailed);
  const ShardMerge merge = cluster.merge("r2");
  CHECK(merge.result == MergeResult::kMerged);
  CHECK(merge.state == RunState::kFailed);
  const RunRow row = run_row(*cluster.main, "r2");
  CHECK(row.state == RunState::kFailed);
  CHECK(row.error == "out of memory");
  check_same_run(*cluster.main, *open_store(cluster.shard_path("r2"), OpenMode::kReadOnly), "r2");
}

TEST_CASE("merge: merging again finds the results there and writes nothing") {
  Cluster cluster;
  cluster.submit("1234");
  cluster.write_shard("r1", Progress::kDone);
  cluster.write_shard("r2", Progress::kDone);
  REQUIRE(cluster.merge("r1").result == MergeResult::kMerged);
  const std::string merged = dump(cluster.db);
  const std::string shard_bytes = read_bytes(cluster.shard_path("r1"));

  SECTION("on the same connection") {
    const ShardMerge again = cluster.merge("r1");
    CHECK(again.result == MergeResult::kAlreadyMerged);
    CHECK(again.key == "r1");
    CHECK(again.state == RunState::kDone);
    CHECK(dump(cluster.db) == merged);
    // Its statements serve the next shard, attached under the same name.
    CHECK(cluster.merge("r2").result == MergeResult::kMerged);
    CHECK(cluster.merge("r1").result == MergeResult::kAlreadyMerged);
  }
  SECTION("from another connection, as after a crash before the shard was retired") {
    cluster.main.reset();
    cluster.main = open_store(cluster.db);
    CHECK(cluster.merge("r1").result == MergeResult::kAlreadyMerged);
    CHECK(dump(cluster.db) == merged);
  }
  CHECK(read_bytes(cluster.shard_path("r1")) == shard_bytes);
}

TEST_CASE("merge: a shard that disagrees with the results main holds is refused") {
  Cluster cluster;
  cluster.submit("1234");
  cluster.write_shard("r1", Progress::kDone);

  SECTION("one iteration's loss one ulp off the merged one") {
    REQUIRE(cluster.merge("r1").result == MergeResult::kMerged);
    {
      auto shard = open_store(cluster.shard_path("r1"));
      auto rows = iterations(7, 7);
      rows[0].loss = std::nextafter(rows[0].loss, 10.0);
      require_ok(shard->append_iterations("r1", rows));  // replaces iteration 7
    }
    const Error error = cluster.refused("r1");
    CHECK(contains(error.message, "run r1 already holds other results in " + cluster.db +
                                      " (its iterations differ from the shard's); delete the "
                                      "shard to keep the stored results"));
  }
  SECTION("the run finished meanwhile by a local launcher") {
    require_ok(cluster.main->finish_run("r1", RunState::kDone, nullptr, ""));
    const Error error = cluster.refused("r1");
    CHECK(contains(error.message, "(its run row, iterations, test evaluations, stops differ"));
  }
  SECTION("a run main does not have") {
    cluster.write_shard("r3", Progress::kDone, job("r3", 56));
    const Error error = cluster.refused("r3");
    CHECK(contains(error.message, "the shard's run r3 is not in " + cluster.db));
    CHECK(contains(error.message, "or delete it"));
  }
  SECTION("a run main has with another config") {
    fs::remove(cluster.shard_path("r1"));
    JobRecord other = job("r1", 56);
    cluster.write_shard("r1", Progress::kDone, other);
    const Error error = cluster.refused("r1");
    CHECK(contains(error.message, "run r1 has another config in " + cluster.db));
  }
  CHECK(run_row(*cluster.main, "r2").state == RunState::kRunning);
}

TEST_CASE("merge: a run not finished in its shard is left there") {
  Cluster cluster;
  cluster.submit("1234");
  const std::string before = dump(cluster.db);
  std::unique_ptr<Store> task;  // a task still at work keeps its shard open
  ShardMerge expected;
  SECTION("created, its job not yet added") {
    task = cluster.write_shard("r1", Progress::kCreated);
    expected = {MergeResult::kNotFinished, "", RunState::kQueued};
  }
  SECTION("running") {
    task = cluster.write_shard("r1", Progress::kRunning);
    expected = {MergeResult::kNotFinished, "r1", RunState::kRunning};
  }
  SECTION("stopped by the time limit, to be requeued") {
    cluster.write_shard("r1", Progress::kStopped);
    expected = {MergeResult::kNotFinished, "r1", RunState::kInterrupted};
  }
  const std::string shard_bytes = read_bytes(cluster.shard_path("r1"));
  const ShardMerge merge = cluster.merge("r1");
  CHECK(merge.result == expected.result);
  CHECK(merge.key == expected.key);
  CHECK(merge.state == expected.state);
  CHECK(dump(cluster.db) == before);
  CHECK(read_bytes(cluster.shard_path("r1")) == shard_bytes);
}

TEST_CASE("merge: a retried run's new shard replaces the attempt merged before") {
  Cluster cluster;
  cluster.submit("100");
  cluster.write_shard("r1", Progress::kFailed);
  REQUIRE(cluster.merge("r1").result == MergeResult::kMerged);

  SlurmSubmission retry;
  retry.job_id = "101";
  retry.sweep = kSweep.name;
  retry.keys = {"r1"};
  retry.threads = 8;
  require_ok(cluster.main->record_submission(retry));
  CHECK(run_row(*cluster.main, "r1").host == "slurm:101_0");

  // The merged attempt's shard, not retired, is not copied over the resubmitted run.
  const Error stale = cluster.refused("r1");
  CHECK(contains(stale.message, "run r1 already holds other results"));
  CHECK(run_row(*cluster.main, "r1").state == RunState::kRunning);
  fs::remove(cluster.shard_path("r1"));  // retired

  cluster.write_shard("r1", Progress::kDone);
  // Its attempt is a later one, even within the same second.
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(cluster.shard_path("r1").c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "UPDATE runs SET started_at = '2999-01-01T00:00:00Z'", nullptr,
                         nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  const ShardMerge merge = cluster.merge("r1");
  CHECK(merge.result == MergeResult::kMerged);
  CHECK(run_row(*cluster.main, "r1").state == RunState::kDone);
  CHECK(run_row(*cluster.main, "r1").error.empty());
  CHECK(table_text(*cluster.main, "SELECT started_at FROM merged_shards WHERE run = 'r1'") ==
        "2999-01-01T00:00:00Z");
  check_same_run(*cluster.main, *open_store(cluster.shard_path("r1"), OpenMode::kReadOnly), "r1");
}

TEST_CASE("merge: a shard is read while its task writes it, without waiting for its lock") {
  Cluster cluster;
  cluster.submit("1234");
  auto task = cluster.write_shard("r1", Progress::kRunning);
  sqlite3* writer = nullptr;
  REQUIRE(sqlite3_open(cluster.shard_path("r1").c_str(), &writer) == SQLITE_OK);
  REQUIRE(sqlite3_exec(writer, "BEGIN IMMEDIATE; DELETE FROM iterations", nullptr, nullptr,
                       nullptr) == SQLITE_OK);
  const auto start = std::chrono::steady_clock::now();
  const ShardMerge merge = cluster.merge("r1");
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  CHECK(merge.result == MergeResult::kNotFinished);
  CHECK(merge.state == RunState::kRunning);
  REQUIRE(sqlite3_exec(writer, "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(writer);
}

TEST_CASE("merge: files that are not a shard of this build are refused and left untouched") {
  Cluster cluster;
  const std::string path = cluster.shard_path("x");
  std::string expected;
  SECTION("a text file") {
    std::ofstream(path) << std::string(4096, 'x') << "\nnot a database\n";
    expected = "not a store shard (delete it to rerun its job): ";
  }
  SECTION("another application's database") {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES (1)", nullptr, nullptr,
                         nullptr) == SQLITE_OK);
    sqlite3_close(db);
    expected = "another application";
  }
  SECTION("a shard of schema 3") {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    for (int v = 0; v < 3; ++v)
      REQUIRE(sqlite3_exec(db, migrations()[size_t(v)].c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_exec(
                db,
                fmt::format("PRAGMA application_id = {}; PRAGMA user_version = 3", kApplicationId)
                    .c_str(),
                nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    expected = fmt::format(
        "a store shard of schema 3, this build writes {} (merge it with the build that wrote "
        "it, or delete it to rerun the job)",
        schema_version());
  }
  SECTION("a database of two runs") {
    auto two = open_store(path, OpenMode::kReadWrite, rollback_journal());
    require_ok(two->register_sweep(kSweep));
    require_ok(two->add_jobs({job("r1"), job("r2", 32)}));
    expected = "holds 2 runs, a store shard holds one";
  }
  const std::string before = dump(cluster.db);
  const std::string bytes = read_bytes(path);
  auto merged = cluster.main->merge_shard(path);
  REQUIRE_FALSE(merged.ok());
  INFO(merged.error().message);
  CHECK(merged.error().kind == ErrorKind::kDamaged);
  CHECK(contains(merged.error().message, path));
  CHECK(contains(merged.error().message, expected));
  CHECK(read_bytes(path) == bytes);
  for (const char* suffix : {"-journal", "-wal", "-shm"}) CHECK_FALSE(fs::exists(path + suffix));
  CHECK(dump(cluster.db) == before);
}

TEST_CASE("merge: the main database itself, or no file, is not a shard") {
  Cluster cluster;
  auto itself = cluster.main->merge_shard(cluster.db);
  REQUIRE_FALSE(itself.ok());
  CHECK(contains(itself.error().message, "the results database itself"));
  auto missing = cluster.main->merge_shard(cluster.shard_path("nothing"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().kind == ErrorKind::kBadInput);
  CHECK(contains(missing.error().message, "no store shard there"));
  CHECK_FALSE(fs::exists(cluster.shard_path("nothing")));
}
