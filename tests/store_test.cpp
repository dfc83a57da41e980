// Tests for results/: the SQLite store (schema, migrations, refusal of foreign files, every
// record type, claims, read-only queries, two connections on one file) and the AsyncWriter.
#include <sqlite3.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "model/config/config_codec.h"
#include "results/store/schema.h"
#include "results/store/sqlite.h"
#include "model/config/distinguishing.h"
#include "results/store/store.h"
#include "results/store/writer.h"
#include "tests/store_fixtures.h"
#include "tests/temp_dir.h"

namespace fs = std::filesystem;
using namespace stodepth;
using namespace stodepth::testing;
using namespace stodepth::results;

namespace {

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  REQUIRE(out.good());
}

// A raw connection, for setting up files the Store must refuse and for inspecting files.
class Raw {
 public:
  explicit Raw(const std::string& path) { REQUIRE(sqlite3_open(path.c_str(), &db_) == SQLITE_OK); }
  ~Raw() { sqlite3_close(db_); }
  void exec(const std::string& sql) {
    char* message = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
    INFO(sql << ": " << (message ? message : ""));
    sqlite3_free(message);
    REQUIRE(rc == SQLITE_OK);
  }
  std::string text(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
    const auto* value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    std::string result = value ? value : "";
    sqlite3_finalize(stmt);
    return result;
  }

 private:
  sqlite3* db_ = nullptr;
};

SweepRecord sample_sweep(const std::string& name, const std::string& hash = "h1") {
  return SweepRecord{name, "a sweep", "name: " + name + "\n", hash};
}

JobRecord sample_job(const std::string& key, const std::string& sweep, int depth = 20,
                     double p_L = 0.5) {
  JobRecord job;
  job.key = key;
  job.sweep = sweep;
  job.config.data.name = "synthetic";
  job.config.model.depth = depth;
  job.config.model.width = 2;
  job.config.model.shortcut = Shortcut::kB;
  job.config.sd.rule = SurvivalRule::kUniform;
  job.config.sd.p_L = p_L;
  job.config.train.lr.kind = LrScheduleKind::kCosine;
  job.config.train.lr.base = 0.05;
  job.config.train.batch = 64;
  job.config.train.epochs = 3;
  job.config.train.iterations = 120;
  job.config.train.seed = 7;
  job.config_json = canonical_config_json(job.config);
  return job;
}

IterationRecord iteration(int64_t i, bool with_test = false) {
  IterationRecord r;
  r.iteration = i;
  r.epoch = 1 + (i - 1) / 10;
  r.learning_rate = 0.1 / double(i);
  r.loss = 2.0 - 0.01 * double(i);
  r.train_accuracy = 0.001 * double(i);
  r.active_blocks = int(i % 9);
  r.step_ms = 1.5 + double(i);
  if (with_test) {
    r.test_accuracy = 0.25 + 0.001 * double(i);
    r.test_loss = 1.75;
  }
  return r;
}

std::vector<IterationRecord> iterations(int64_t first, int64_t last) {
  std::vector<IterationRecord> rows;
  for (int64_t i = first; i <= last; ++i) rows.push_back(iteration(i, i % 10 == 0));
  return rows;
}

TestEvalRecord test_eval(int64_t epoch) { return {epoch, epoch * 10, 0.5 + 0.01 * epoch, 1.25}; }

// A store with sweep "s" and queued runs "r1", "r2".
std::unique_ptr<Store> store_with_runs(const std::string& path = ":memory:") {
  auto store = open_store(path);
  require_ok(store->register_sweep(sample_sweep("s")));
  require_ok(store->add_jobs({sample_job("r1", "s"), sample_job("r2", "s", 32, 0.8)}));
  return store;
}

RunSummary sample_summary() {
  RunSummary s;
  s.status = RunStatus::kDone;
  s.iterations = 120;
  s.wall_seconds = 12.5;
  s.train_seconds = 10;
  s.mean_step_ms = 83.25;
  s.images_per_second = 768;
  s.mean_active_blocks = 7.5;
  s.expected_active_blocks = 7.25;
  s.final_test_accuracy = 0.875;
  s.final_test_loss = 0.375;
  return s;
}

// Opening `path` in either mode fails with a message containing `expected`, and the file
// (and the absence of side files) is exactly as before.
void require_refused(const std::string& path, const std::string& expected) {
  const std::string before = read_bytes(path);
  for (const auto mode : {OpenMode::kReadWrite, OpenMode::kReadOnly}) {
    auto store = Store::open(path, mode);
    REQUIRE_FALSE(store.ok());
    INFO(store.error().message);
    CHECK(contains(store.error().message, path));
    CHECK(contains(store.error().message, expected));
  }
  CHECK(read_bytes(path) == before);
  for (const char* suffix : {"-wal", "-shm", "-journal"}) CHECK_FALSE(fs::exists(path + suffix));
}

// What another connection reads of a file's identity. rc is SQLITE_OK when it read it, or
// why it could not (SQLITE_BUSY: the file was locked).
struct SeenIdentity {
  int rc = SQLITE_OK;
  int64_t application_id = 0, user_version = 0;
};

// The committed application_id and user_version, read through a fresh read-only connection
// that never waits for a lock: it may run while the same thread holds the write lock, which
// it would wait for forever. No REQUIRE: it runs inside Store::open.
SeenIdentity read_committed_identity(const std::string& path) {
  SeenIdentity seen;
  sqlite3* db = nullptr;
  seen.rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* stmt = nullptr;
  if (seen.rc == SQLITE_OK) {
    sqlite3_busy_timeout(db, 0);
    // One statement: both values come from one read transaction.
    seen.rc = sqlite3_prepare_v2(
        db, "SELECT application_id, user_version FROM pragma_application_id, pragma_user_version",
        -1, &stmt, nullptr);
  }
  if (seen.rc == SQLITE_OK) {
    seen.rc = sqlite3_step(stmt);
    if (seen.rc == SQLITE_ROW) {
      seen.rc = SQLITE_OK;
      seen.application_id = sqlite3_column_int64(stmt, 0);
      seen.user_version = sqlite3_column_int64(stmt, 1);
    }
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);  // releases the read lock before the writer commits
  return seen;
}

}  // namespace

// --- Opening, schema, migrations --------------------------------------------------------------

TEST_CASE("store: a new file gets the schema, application_id, version and WAL") {
  TempDir dir;
  const std::string path = dir.file("results.db");
  open_store(path);
  Raw raw(path);
  CHECK(raw.text("PRAGMA application_id") == std::to_string(kApplicationId));
  CHECK(raw.text("PRAGMA user_version") == std::to_string(schema_version()));
  CHECK(raw.text("PRAGMA journal_mode") == "wal");
  CHECK(raw.text("SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_schema WHERE "
                 "type = 'table' ORDER BY name)") ==
        "iterations,merged_shards,run_stops,runs,slurm_submissions,slurm_tasks,sweep_runs,"
        "sweeps,test_evals");
  CHECK(schema_version() == int(migrations().size()));
}

TEST_CASE("store: reopening an existing database keeps its data") {
  TempDir dir;
  const std::string path = dir.file("results.db");
  store_with_runs(path);
  auto again = open_store(path);
  auto rows = again->runs(std::nullopt);
  REQUIRE(rows.ok());
  CHECK(rows->size() == 2);
  auto read_only = open_store(path, OpenMode::kReadOnly);
  CHECK(read_only->runs(std::nullopt)->size() == 2);
}

TEST_CASE("store: an empty file gets the schema, and read-only needs an existing database") {
  TempDir dir;
  const std::string empty = dir.file("empty.db");
  write_bytes(empty, "");
  auto read_only = Store::open(empty, OpenMode::kReadOnly);
  REQUIRE_FALSE(read_only.ok());
  CHECK(contains(read_only.error().message, "run a sweep"));
  CHECK(fs::file_size(empty) == 0);

  auto store = open_store(empty);
  require_ok(store->register_sweep(sample_sweep("s")));
  CHECK(Raw(empty).text("PRAGMA application_id") == std::to_string(kApplicationId));

  const std::string missing = dir.file("missing.db");
  auto absent = Store::open(missing, OpenMode::kReadOnly);
  REQUIRE_FALSE(absent.ok());
  CHECK(contains(absent.error().message, missing));
  CHECK_FALSE(fs::exists(missing));
}

TEST_CASE("store: an SQLite file without tables and application_id is taken over") {
  TempDir dir;
  const std::string path = dir.file("blank.db");
  Raw(path).exec("VACUUM");  // a valid, empty SQLite file
  REQUIRE(fs::file_size(path) > 0);
  auto store = open_store(path);
  require_ok(store->register_sweep(sample_sweep("s")));
}

TEST_CASE("store: a database of a newer schema version is refused and left untouched") {
  TempDir dir;
  const std::string path = dir.file("newer.db");
  open_store(path);
  Raw(path).exec("PRAGMA user_version = " + std::to_string(schema_version() + 1));
  require_refused(path, "created by a newer stodepth");
}

TEST_CASE("store: files that are not stodepth databases are refused and left byte-identical") {
  TempDir dir;

  SECTION("a text file") {
    const std::string path = dir.file("notes.txt");
    write_bytes(path, std::string(4096, 'x') + "\nnot a database\n");
    require_refused(path, "not an SQLite database");
  }
  SECTION("a short text file") {
    const std::string path = dir.file("short.txt");
    write_bytes(path, "hello\n");
    require_refused(path, "not an SQLite database");
  }
  SECTION("another application's database: its own tables, application_id 0") {
    const std::string path = dir.file("other.db");
    Raw(path).exec("CREATE TABLE contacts(name TEXT); INSERT INTO contacts VALUES ('ada')");
    require_refused(path, "another application");
  }
  SECTION("another application's WAL-mode database: no -wal/-shm created") {
    const std::string path = dir.file("other-wal.db");
    Raw(path).exec("PRAGMA journal_mode = WAL; CREATE TABLE t(x); INSERT INTO t VALUES (1)");
    require_refused(path, "another application");
  }
  SECTION("another application's database: its own application_id") {
    const std::string path = dir.file("other-id.db");
    Raw(path).exec("PRAGMA application_id = 1234; PRAGMA user_version = 1");
    require_refused(path, "application_id 0x000004D2");
  }
  SECTION("a truncated stodepth database") {
    const std::string path = dir.file("truncated.db");
    {
      auto store = store_with_runs(path);
      require_ok(store->append_iterations("r1", iterations(1, 2000)));
    }
    const std::string whole = read_bytes(path);
    REQUIRE(whole.size() > 16 * 4096);
    SECTION("at a page boundary") {
      write_bytes(path, whole.substr(0, whole.size() / 2 / 4096 * 4096));
    }
    SECTION("mid-page") { write_bytes(path, whole.substr(0, whole.size() / 2 + 100)); }
    require_refused(path, "truncated or corrupt");
  }
}

// --- Records ----------------------------------------------------------------------------------

TEST_CASE("store: register_sweep is idempotent for the same definition only") {
  auto store = open_store(":memory:");
  require_ok(store->register_sweep(sample_sweep("a", "h1")));
  require_ok(store->register_sweep(sample_sweep("a", "h1")));
  require_ok(store->register_sweep(sample_sweep("b", "h2")));

  auto changed = store->register_sweep(sample_sweep("a", "h9"));
  REQUIRE_FALSE(changed.ok());
  CHECK(contains(changed.error().message,
                 "sweep 'a' already exists in DB with a different definition (rename the sweep "
                 "or use another --db)"));

  auto sweeps = store->sweeps();
  REQUIRE(sweeps.ok());
  REQUIRE(sweeps->size() == 2);
  CHECK((*sweeps)[0].name == "a");
  CHECK((*sweeps)[0].description == "a sweep");
  CHECK((*sweeps)[0].source_text == "name: a\n");
  CHECK((*sweeps)[0].source_hash == "h1");
  CHECK((*sweeps)[1].name == "b");
}

TEST_CASE("store: add_jobs queues runs once, with their parameters as columns") {
  auto store = store_with_runs();
  require_ok(store->add_jobs({sample_job("r1", "s", 56), sample_job("r3", "s")}));

  auto rows = store->runs(std::nullopt);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 3);
  CHECK((*rows)[0].key == "r1");
  CHECK((*rows)[1].key == "r2");
  CHECK((*rows)[2].key == "r3");

  const RunRow& r1 = (*rows)[0];
  CHECK(r1.sweep == "s");
  CHECK(r1.state == RunState::kQueued);
  CHECK(r1.config.model.depth == 20);  // the existing run was left as it was
  CHECK(r1.config.data.name == "synthetic");
  CHECK(r1.config.model.width == 2);
  CHECK(r1.config.model.shortcut == Shortcut::kB);
  CHECK(r1.config.sd.rule == SurvivalRule::kUniform);
  CHECK(r1.config.sd.p_L == 0.5);
  CHECK(r1.config.train.lr.kind == LrScheduleKind::kCosine);
  CHECK(r1.config.train.lr.base == 0.05);
  CHECK(r1.config.train.batch == 64);
  CHECK(r1.config.train.epochs == 3);
  CHECK(r1.config.train.iterations == 120);
  CHECK(r1.config.train.seed == 7);
  CHECK(r1.config_json == sample_job("r1", "s").config_json);
  CHECK(r1.started_at.empty());
  CHECK_FALSE(r1.wall_seconds);
  CHECK((*rows)[1].config.sd.p_L == 0.8);
}

TEST_CASE("store: a run shared by two sweeps is listed under both") {
  auto store = store_with_runs();
  require_ok(store->register_sweep(sample_sweep("t")));
  require_ok(store->add_jobs({sample_job("r2", "t"), sample_job("r9", "t")}));

  auto of_t = store->runs(std::string("t"));
  REQUIRE(of_t.ok());
  REQUIRE(of_t->size() == 2);
  CHECK((*of_t)[0].key == "r2");
  CHECK((*of_t)[0].sweep == "s");  // owned by the sweep that registered it first
  CHECK((*of_t)[1].key == "r9");
  CHECK(store->runs(std::string("s"))->size() == 2);
  CHECK(store->runs(std::string("nope"))->empty());

  auto all = store->runs(std::nullopt);
  REQUIRE(all->size() == 3);  // ordered by owning sweep, then insertion
  CHECK((*all)[2].key == "r9");
}

TEST_CASE("store: a job of an unregistered sweep is refused") {
  auto store = open_store(":memory:");
  auto added = store->add_jobs({sample_job("r1", "ghost")});
  REQUIRE_FALSE(added.ok());
  CHECK(contains(added.error().message, "FOREIGN KEY"));
  CHECK(store->runs(std::nullopt)->empty());
}

TEST_CASE("store: iterations and test evaluations round-trip, NULLs included") {
  auto store = store_with_runs();
  const auto rows = iterations(1, 25);
  require_ok(store->append_iterations("r1", rows));
  require_ok(store->append_test_evals("r1", {test_eval(1), test_eval(2)}));

  auto curve = store->curve("r1");
  REQUIRE(curve.ok());
  REQUIRE(curve->size() == rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& a = (*curve)[i];
    const auto& b = rows[i];
    CHECK(a.iteration == b.iteration);
    CHECK(a.epoch == b.epoch);
    CHECK(a.learning_rate == b.learning_rate);
    CHECK(a.loss == b.loss);
    CHECK(a.train_accuracy == b.train_accuracy);
    CHECK(a.test_accuracy == b.test_accuracy);
    CHECK(a.test_loss == b.test_loss);
    CHECK(a.active_blocks == b.active_blocks);
    CHECK(a.step_ms == b.step_ms);
  }
  CHECK_FALSE((*curve)[0].test_accuracy);
  CHECK((*curve)[9].test_accuracy);

  auto evals = store->test_evals("r1");
  REQUIRE(evals.ok());
  REQUIRE(evals->size() == 2);
  CHECK((*evals)[1].epoch == 2);
  CHECK((*evals)[1].iteration == 20);
  CHECK((*evals)[1].accuracy == 0.52);
  CHECK((*evals)[1].loss == 1.25);

  CHECK(store->curve("r2")->empty());
  auto table = store->select("SELECT count(*) FROM iterations WHERE test_accuracy IS NULL");
  REQUIRE(table.ok());
  CHECK(table->rows[0][0] == "23");
}

TEST_CASE("store: a retried batch replaces its rows instead of duplicating them") {
  auto store = store_with_runs();
  require_ok(store->append_iterations("r1", iterations(1, 10)));
  auto changed = iterations(5, 12);
  changed[0].loss = 42;
  require_ok(store->append_iterations("r1", changed));
  require_ok(store->append_test_evals("r1", {test_eval(1)}));
  require_ok(store->append_test_evals("r1", {test_eval(1)}));

  auto curve = store->curve("r1");
  REQUIRE(curve->size() == 12);
  CHECK((*curve)[4].loss == 42);
  CHECK(store->test_evals("r1")->size() == 1);
}

TEST_CASE("store: records of an unknown run are refused, and the whole call rolls back") {
  auto store = store_with_runs();
  auto appended = store->append_iterations("ghost", iterations(1, 3));
  REQUIRE_FALSE(appended.ok());
  CHECK(contains(appended.error().message, "FOREIGN KEY"));
  CHECK_FALSE(store->append_test_evals("ghost", {test_eval(1)}).ok());

  Batch batch;
  batch.ops.push_back(Batch::Iterations{"r1", iterations(1, 5)});
  batch.ops.push_back(Batch::Iterations{"ghost", iterations(1, 5)});
  CHECK_FALSE(store->write_batch(batch).ok());
  CHECK(store->curve("r1")->empty());
}

TEST_CASE("store: finish_run records the summary or the error") {
  auto store = store_with_runs();
  REQUIRE(*store->claim_run("r1", false, "hostA", 4));
  const RunRow running = run_row(*store, "r1");
  CHECK(running.state == RunState::kRunning);
  CHECK(running.host == "hostA");
  CHECK(running.threads == 4);
  CHECK(running.started_at.size() == 20);  // 2024-01-02T03:04:05Z
  CHECK(running.ended_at.empty());

  const RunSummary summary = sample_summary();
  require_ok(store->finish_run("r1", RunState::kDone, &summary, ""));
  const RunRow done = run_row(*store, "r1");
  CHECK(done.state == RunState::kDone);
  CHECK(done.ended_at.size() == 20);
  CHECK(done.error.empty());
  CHECK(done.wall_seconds == 12.5);
  CHECK(done.mean_step_ms == 83.25);
  CHECK(done.images_per_second == 768);
  CHECK(done.expected_active_blocks == 7.25);
  CHECK(done.mean_active_blocks == 7.5);
  CHECK(done.final_test_accuracy == 0.875);
  CHECK(done.final_test_loss == 0.375);

  SECTION("diverged: the summary's message is the error text; absent test values are NULL") {
    RunSummary diverged = summary;
    diverged.status = RunStatus::kDiverged;
    diverged.message = "diverged at iteration 17 (loss nan)";
    diverged.final_test_accuracy.reset();
    diverged.final_test_loss.reset();
    require_ok(store->finish_run("r2", RunState::kDiverged, &diverged, ""));
    const RunRow row = run_row(*store, "r2");
    CHECK(row.state == RunState::kDiverged);
    CHECK(row.error == "diverged at iteration 17 (loss nan)");
    CHECK(row.wall_seconds == 12.5);
    CHECK_FALSE(row.final_test_accuracy);
    CHECK_FALSE(row.final_test_loss);
  }
  SECTION("failed: the error text and no summary") {
    require_ok(store->finish_run("r2", RunState::kFailed, nullptr, "out of memory"));
    const RunRow row = run_row(*store, "r2");
    CHECK(row.state == RunState::kFailed);
    CHECK(row.error == "out of memory");
    CHECK_FALSE(row.wall_seconds);
    CHECK_FALSE(row.mean_active_blocks);
  }
  SECTION("an unknown run or a non-final state is an error") {
    CHECK_FALSE(store->finish_run("ghost", RunState::kDone, &summary, "").ok());
    CHECK_FALSE(store->finish_run("r2", RunState::kRunning, nullptr, "").ok());
    CHECK_FALSE(store->finish_run("r2", RunState::kQueued, nullptr, "").ok());
    CHECK(run_row(*store, "r2").state == RunState::kQueued);
  }
}

// --- Claims -----------------------------------------------------------------------------------

TEST_CASE("store: claim_run moves a claimable run to running exactly once") {
  auto store = store_with_runs();
  auto first = store->claim_run("r1", false, "h", 2);
  REQUIRE(first.ok());
  CHECK(*first);
  CHECK_FALSE(*store->claim_run("r1", false, "h", 2));
  CHECK_FALSE(*store->claim_run("r1", true, "h", 2));  // running is never claimable
  CHECK_FALSE(*store->claim_run("ghost", true, "h", 2));
  CHECK(run_row(*store, "r2").state == RunState::kQueued);
}

TEST_CASE("store: claiming again deletes the earlier attempt's metrics") {
  auto store = store_with_runs();
  const RunSummary summary = sample_summary();
  REQUIRE(*store->claim_run("r1", false, "h", 2));
  require_ok(store->append_iterations("r1", iterations(1, 30)));
  require_ok(store->append_test_evals("r1", {test_eval(1)}));
  require_ok(store->append_iterations("r2", iterations(1, 5)));  // another run's rows stay

  SECTION("interrupted runs are claimable") {
    require_ok(store->finish_run("r1", RunState::kInterrupted, &summary, ""));
    REQUIRE(*store->claim_run("r1", false, "h2", 8));
    CHECK(store->curve("r1")->empty());
    CHECK(store->test_evals("r1")->empty());
    const RunRow row = run_row(*store, "r1");
    CHECK(row.state == RunState::kRunning);
    CHECK(row.host == "h2");
    CHECK(row.threads == 8);
    CHECK_FALSE(row.wall_seconds);
    CHECK_FALSE(row.final_test_accuracy);
    CHECK(row.ended_at.empty());
  }
  SECTION("failed runs only with retry") {
    require_ok(store->finish_run("r1", RunState::kFailed, nullptr, "boom"));
    CHECK_FALSE(*store->claim_run("r1", false, "h", 2));
    CHECK(store->curve("r1")->size() == 30);
    REQUIRE(*store->claim_run("r1", true, "h", 2));
    CHECK(store->curve("r1")->empty());
    CHECK(run_row(*store, "r1").error.empty());
  }
  SECTION("diverged runs only with retry") {
    require_ok(store->finish_run("r1", RunState::kDiverged, &summary, ""));
    CHECK_FALSE(*store->claim_run("r1", false, "h", 2));
    CHECK(*store->claim_run("r1", true, "h", 2));
  }
  SECTION("done runs never") {
    require_ok(store->finish_run("r1", RunState::kDone, &summary, ""));
    CHECK_FALSE(*store->claim_run("r1", false, "h", 2));
    CHECK_FALSE(*store->claim_run("r1", true, "h", 2));
    CHECK(store->curve("r1")->size() == 30);
  }
  CHECK(store->curve("r2")->size() == 5);
}

TEST_CASE("store: release_stale_runs interrupts one host's running runs of one sweep") {
  auto store = store_with_runs();
  require_ok(store->register_sweep(sample_sweep("t")));
  require_ok(store->add_jobs({sample_job("t1", "t")}));
  REQUIRE(*store->claim_run("r1", false, "h", 1));
  REQUIRE(*store->claim_run("r2", false, "alive", 1));
  REQUIRE(*store->claim_run("t1", false, "h", 1));

  require_ok(store->release_stale_runs("s", "h"));
  CHECK(run_row(*store, "r1").state == RunState::kInterrupted);
  CHECK(run_row(*store, "r2").state == RunState::kRunning);  // another launcher's
  CHECK(run_row(*store, "t1").state == RunState::kRunning);  // another sweep's
  CHECK(*store->claim_run("r1", false, "h", 1));
}

TEST_CASE("store: two connections on one file claim a run once between them") {
  TempDir dir;
  const std::string path = dir.file("results.db");
  auto a = store_with_runs(path);
  auto b = open_store(path);
  CHECK(*a->claim_run("r1", false, "a", 1));
  CHECK_FALSE(*b->claim_run("r1", false, "b", 1));
  CHECK(*b->claim_run("r2", false, "b", 1));
  CHECK_FALSE(*a->claim_run("r2", false, "a", 1));
}

// --- Concurrency ------------------------------------------------------------------------------

TEST_CASE("store: a reader sees committed rows while a writer holds a transaction open") {
  TempDir dir;
  const std::string path = dir.file("results.db");
  auto writer = store_with_runs(path);
  require_ok(writer->append_iterations("r1", iterations(1, 10)));
  auto reader = open_store(path, OpenMode::kReadOnly);

  Raw other(path);  // another process's writer, mid-transaction
  other.exec("PRAGMA busy_timeout = 10000; BEGIN IMMEDIATE");
  other.exec("DELETE FROM iterations WHERE run = 'r1'");
  other.exec("UPDATE runs SET status = 'running' WHERE key = 'r2'");

  auto curve = reader->curve("r1");
  INFO((curve ? "" : curve.error().message));
  REQUIRE(curve.ok());
  CHECK(curve->size() == 10);
  CHECK(run_row(*reader, "r2").state == RunState::kQueued);
  auto table = reader->select("SELECT count(*) FROM iterations");
  REQUIRE(table.ok());
  CHECK(table->rows[0][0] == "10");
  CHECK(writer->curve("r1")->size() == 10);  // a read-write Store reads as well

  other.exec("COMMIT");
  CHECK(reader->curve("r1")->empty());
  CHECK(run_row(*reader, "r2").state == RunState::kRunning);
}

TEST_CASE("store: opening a database the process already has open keeps the WAL alive") {
  // A launcher opens its store, then its writer on the same file. Inspecting the file for the
  // second open once closed a descriptor of our own, dropping the process's POSIX locks: the
  // next reader in another process then took itself for the last connection and deleted the
  // WAL the launcher kept writing into (readers saw no progress; a crash lost it).
  TempDir dir;
  const std::string path = dir.file("results.db");
  auto first = store_with_runs(path);
  auto second = open_store(path);
  REQUIRE(fs::exists(path + "-wal"));
  // Another process (a fresh one: a forked child would inherit SQLite's view of our locks), as
  // a user's `sqlite3 results.db` would be: it opens, reads and closes.
  const std::string shell = "sqlite3 '" + path + "' 'SELECT count(*) FROM runs' >/dev/null";
  REQUIRE(std::system(shell.c_str()) == 0);
  CHECK(fs::exists(path + "-wal"));
  require_ok(first->append_iterations("r1", iterations(1, 5)));
  Raw reader(path);
  CHECK(reader.text("SELECT count(*) FROM iterations") == "5");
}

// --- select() ---------------------------------------------------------------------------------

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

// --- AsyncWriter ------------------------------------------------------------------------------

TEST_CASE("writer: records enqueued from several threads are all committed exactly once") {
  TempDir dir;
  const std::string path = dir.file("results.db");
  constexpr int kRuns = 4, kIterations = 1000, kChunk = 7;
  {
    auto store = open_store(path);
    require_ok(store->register_sweep(sample_sweep("s")));
    std::vector<JobRecord> jobs;
    for (int r = 0; r < kRuns; ++r) jobs.push_back(sample_job("run" + std::to_string(r), "s"));
    require_ok(store->add_jobs(jobs));
  }
  auto writer = AsyncWriter::open(path);
  REQUIRE(writer.ok());
  auto reader = open_store(path, OpenMode::kReadOnly);

  std::vector<std::thread> trainers;
  for (int r = 0; r < kRuns; ++r) {
    trainers.emplace_back([&, r] {
      const std::string key = "run" + std::to_string(r);
      for (int first = 1; first <= kIterations; first += kChunk) {
        const int last = std::min(first + kChunk - 1, kIterations);
        (*writer)->enqueue_iterations(key, iterations(first, last));
      }
      (*writer)->enqueue_test_evals(key, {test_eval(1), test_eval(2)});
      const RunSummary summary = sample_summary();
      (*writer)->enqueue_finish(key, RunState::kDone, &summary, "");
    });
  }
  for (auto& t : trainers) t.join();
  require_ok((*writer)->flush());

  for (int r = 0; r < kRuns; ++r) {
    const std::string key = "run" + std::to_string(r);
    auto curve = reader->curve(key);
    REQUIRE(curve->size() == size_t(kIterations));
    std::set<int64_t> seen;
    for (const auto& row : *curve) seen.insert(row.iteration);
    CHECK(seen.size() == size_t(kIterations));
    CHECK(reader->test_evals(key)->size() == 2);
    const RunRow row = run_row(*reader, key);
    CHECK(row.state == RunState::kDone);
    CHECK(row.final_test_accuracy == 0.875);
  }
  auto count = reader->select("SELECT count(*) FROM iterations");
  CHECK(count->rows[0][0] == std::to_string(kRuns * kIterations));
  require_ok((*writer)->close());
}

TEST_CASE("writer: close commits what is still queued") {
  auto store = store_with_runs();
  Store* view = store.get();  // the test reads through the same connection after close()
  AsyncWriter writer(std::move(store));
  writer.enqueue_iterations("r1", iterations(1, 3));
  writer.enqueue_finish("r1", RunState::kFailed, nullptr, "boom");
  require_ok(writer.close());
  require_ok(writer.close());
  CHECK(view->curve("r1")->size() == 3);
  CHECK(run_row(*view, "r1").error == "boom");
  writer.enqueue_iterations("r1", iterations(4, 5));  // after close: dropped
  require_ok(writer.flush());
  CHECK(view->curve("r1")->size() == 3);
}

TEST_CASE("writer: the first write error is returned and later records are dropped") {
  TempDir dir;
  const std::string path = dir.file("results.db");
  store_with_runs(path);
  auto writer = AsyncWriter::open(path);
  REQUIRE(writer.ok());
  (*writer)->enqueue_iterations("r1", iterations(1, 5));
  require_ok((*writer)->flush());
  CHECK((*writer)->healthy());

  (*writer)->enqueue_iterations("ghost", iterations(1, 5));  // violates the foreign key
  auto flushed = (*writer)->flush();
  REQUIRE_FALSE(flushed.ok());
  CHECK(contains(flushed.error().message, "FOREIGN KEY"));
  CHECK_FALSE((*writer)->healthy());

  (*writer)->enqueue_iterations("r1", iterations(6, 10));
  CHECK_FALSE((*writer)->flush().ok());
  auto closed = (*writer)->close();
  REQUIRE_FALSE(closed.ok());
  CHECK(closed.error().message == flushed.error().message);
  CHECK(open_store(path, OpenMode::kReadOnly)->curve("r1")->size() == 5);
}

TEST_CASE("writer: records are committed without a flush (full batch or timer)") {
  TempDir dir;
  const std::string path = dir.file("results.db");
  store_with_runs(path);
  auto writer = AsyncWriter::open(path);
  REQUIRE(writer.ok());
  auto reader = open_store(path, OpenMode::kReadOnly);
  auto wait_for_rows = [&](const std::string& key, size_t rows) {
    for (int attempt = 0; attempt < 300 && reader->curve(key)->size() < rows; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return reader->curve(key)->size();
  };
  (*writer)->enqueue_iterations("r1", iterations(1, int64_t(AsyncWriter::kBatchRows)));
  CHECK(wait_for_rows("r1", AsyncWriter::kBatchRows) == AsyncWriter::kBatchRows);
  (*writer)->enqueue_iterations("r2", iterations(1, 3));
  CHECK(wait_for_rows("r2", 3) == 3);
  require_ok((*writer)->close());
}

TEST_CASE("flatten_json reads every leaf of a canonical config", "[config_json]") {
  const std::string json =
      R"({"dataset":{"name":"synthetic","test_subset":200},"model":{"depth":8},)"
      R"("stochastic_depth":{"p_L":0.5,"rule":"linear"},)"
      R"("train":{"lr":{"milestones":[1,2.5],"warmup":0},"nesterov":true,"seed":3}})";
  const auto leaves = flatten_json(json);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"dataset.name", "\"synthetic\""}, {"dataset.test_subset", "200"},
      {"model.depth", "8"}, {"stochastic_depth.p_L", "0.5"},
      {"stochastic_depth.rule", "\"linear\""}, {"train.lr.milestones", "[1,2.5]"},
      {"train.lr.warmup", "0"}, {"train.nesterov", "true"}, {"train.seed", "3"}};
  CHECK(leaves == expected);
  // Seeds never separate runs; survival settings only when asked.
  std::string other_seed = json;
  other_seed.replace(other_seed.find("\"seed\":3"), 8, "\"seed\":4");
  CHECK(settings_key(json, false) == settings_key(other_seed, false));
  std::string other_p = json;
  other_p.replace(other_p.find("0.5,"), 3, "1.0");
  CHECK(settings_key(json, false) != settings_key(other_p, false));
  CHECK(settings_key(json, true) == settings_key(other_p, true));
  std::string warmup = json;
  warmup.replace(warmup.find("\"warmup\":0"), 10, "\"warmup\":1");
  CHECK(settings_key(json, true) != settings_key(warmup, true));
}

// --- Reliability: resume, ownership, files removed underneath, snapshots, migration ---------

TEST_CASE("store: a claim with a checkpoint keeps the rows through it") {
  auto store = store_with_runs();
  REQUIRE(*store->claim_run("r1", false, "h", 2));
  require_ok(store->append_iterations("r1", iterations(1, 30)));
  require_ok(store->append_test_evals("r1", {test_eval(1), test_eval(2), test_eval(3)}));
  const RunSummary summary = sample_summary();
  require_ok(store->finish_run("r1", RunState::kInterrupted, &summary, ""));

  SECTION("all rows through the checkpoint are there: resume after it") {
    auto claim = store->claim_run("r1", false, "h2", 2, [] { return Result<int64_t>(20); });
    REQUIRE(claim.ok());
    CHECK(claim->claimed);
    CHECK(claim->resume_after == 20);
    CHECK(store->curve("r1")->size() == 20);
    CHECK(store->curve("r1")->back().iteration == 20);
    CHECK(store->test_evals("r1")->size() == 2);  // iterations 10 and 20, not 30
  }
  SECTION("rows missing before the checkpoint: start over") {
    auto claim = store->claim_run("r1", false, "h2", 2, [] { return Result<int64_t>(40); });
    REQUIRE(claim.ok());
    CHECK(claim->claimed);
    CHECK(claim->resume_after == 0);
    CHECK(store->curve("r1")->empty());
    CHECK(store->test_evals("r1")->empty());
  }
}

TEST_CASE("store: a resume point that cannot be read rolls the claim back") {
  auto store = store_with_runs();
  auto failed =
      store->claim_run("r1", false, "h", 2, [] { return Result<int64_t>(storage_error("io")); });
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().message == "io");
  CHECK(run_row(*store, "r1").state == RunState::kQueued);
  bool asked = false;
  REQUIRE(*store->claim_run("r1", false, "h", 2, [&] { asked = true; return Result<int64_t>(0); }));
  CHECK(asked);
  asked = false;
  CHECK_FALSE(*store->claim_run("r1", false, "h", 2, [&] { asked = true; return Result<int64_t>(0); }));
  CHECK_FALSE(asked);  // not read for a run that is not ours
}

TEST_CASE("store: a batch with an owner writes only into runs that owner holds") {
  auto store = store_with_runs();
  REQUIRE(*store->claim_run("r1", false, "launcher-a", 2));
  Batch batch;
  batch.owner = "launcher-a";
  batch.ops.push_back(Batch::Iterations{"r1", iterations(1, 3)});
  require_ok(store->write_batch(batch));
  CHECK(store->curve("r1")->size() == 3);

  SECTION("another launcher's run: the whole batch is refused") {
    REQUIRE(*store->claim_run("r2", false, "launcher-b", 2));
    batch.ops = {Batch::Iterations{"r1", iterations(4, 5)}, Batch::Iterations{"r2", iterations(1, 2)}};
    auto refused = store->write_batch(batch);
    REQUIRE_FALSE(refused.ok());
    CHECK_THAT(refused.error().message,
               Catch::Contains("run r2 is no longer held by this launcher (launcher-a)"));
    CHECK(store->curve("r1")->size() == 3);
    CHECK(store->curve("r2")->empty());
  }
  SECTION("a run released and re-claimed by another launcher") {
    require_ok(store->release_stale_runs("s", "launcher-a"));
    REQUIRE(*store->claim_run("r1", false, "launcher-b", 2));
    batch.ops = {Batch::Finish{"r1", RunState::kDone, sample_summary(), ""}};
    CHECK_FALSE(store->write_batch(batch).ok());
    CHECK(run_row(*store, "r1").state == RunState::kRunning);
  }
}

TEST_CASE("store: writes stop when the database file is deleted or replaced") {
  TempDir dir;
  const std::string path = dir.file("results.db");
  auto store = store_with_runs(path);
  REQUIRE(*store->claim_run("r1", false, "h", 2));
  Batch batch;
  batch.ops.push_back(Batch::Iterations{"r1", iterations(1, 3)});
  require_ok(store->write_batch(batch));
  SECTION("deleted") {
    fs::remove(path);
  }
  SECTION("replaced by another file") {
    fs::rename(path, dir.file("moved.db"));
    write_bytes(path, "something else");
  }
  auto refused = store->write_batch(batch);
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().message,
             Catch::Contains(path) && Catch::Contains("deleted or replaced"));
}

TEST_CASE("store: a held snapshot does not see later commits") {
  TempDir dir;
  const std::string path = dir.file("results.db");
  auto writer = store_with_runs(path);
  REQUIRE(*writer->claim_run("r1", false, "h", 2));
  require_ok(writer->append_iterations("r1", iterations(1, 5)));
  auto reader = open_store(path, OpenMode::kReadOnly);
  require_ok(reader->hold_snapshot());
  require_ok(writer->append_iterations("r1", iterations(6, 9)));
  require_ok(writer->finish_run("r1", RunState::kDone, nullptr, ""));
  CHECK(reader->curve("r1")->size() == 5);
  CHECK(run_row(*reader, "r1").state == RunState::kRunning);
  CHECK(open_store(path, OpenMode::kReadOnly)->curve("r1")->size() == 9);
  CHECK_FALSE(writer->hold_snapshot().ok());  // read-only stores only
}

TEST_CASE("store: a version 1 database migrates to the current schema with its data") {
  TempDir dir;
  const std::string path = dir.file("v1.db");
  {
    Raw raw(path);
    raw.exec(migrations()[0]);
    raw.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
    raw.exec("PRAGMA user_version = 1");
    raw.exec("INSERT INTO sweeps (name) VALUES ('old')");
    raw.exec("INSERT INTO runs (key, sweep, status, wall_seconds) VALUES ('k', 'old', 'done', 3.5)");
  }
  auto store = open_store(path);
  Raw raw(path);
  CHECK(raw.text("PRAGMA user_version") == std::to_string(schema_version()));
  CHECK(raw.text("SELECT wall_seconds FROM runs WHERE key = 'k'") == "3.5");
  CHECK(raw.text("SELECT count(*) FROM runs WHERE network_ms IS NULL") == "1");
}

TEST_CASE("store: a new database is created in one transaction, never seen half-migrated") {
  // Between the migrations of a new file, another connection (e.g. `query`, read-only) looks
  // at it. It must find no database yet or the current schema, never a committed version 1,
  // which a read-only open refuses as "older than this build's". The test migrates a new file
  // as Store::open does, and looks whenever SQLite reports (sqlite3_trace_v2) that the
  // migrating connection has completed a step's "PRAGMA user_version = N".
  TempDir dir;
  const std::string path = dir.file("results.db");
  struct Watch {
    std::string path;
    std::vector<int64_t> steps;
    std::vector<SeenIdentity> seen;
    std::vector<std::string> read_only_opens;  // each open's error, empty when it opened
  } watch{path, {}, {}, {}};
  auto after_statement = [](unsigned, void* context, void* stmt, void*) -> int {
    Watch& w = *static_cast<Watch*>(context);
    const std::string sql = sqlite3_sql(static_cast<sqlite3_stmt*>(stmt));
    const std::string step = "PRAGMA user_version = ";
    if (sql.rfind(step, 0) != 0) return 0;
    w.steps.push_back(std::stoll(sql.substr(step.size())));
    w.seen.push_back(read_committed_identity(w.path));
    auto reader = Store::open(w.path, OpenMode::kReadOnly);
    w.read_only_opens.push_back(reader ? "" : reader.error().message);
    return 0;
  };
  {
    auto db = Database::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, path);
    REQUIRE(db.ok());
    REQUIRE(sqlite3_trace_v2(db->handle(), SQLITE_TRACE_PROFILE, after_statement, &watch) ==
            SQLITE_OK);
    auto had = migrate(*db, 0);
    INFO((had ? "" : had.error().message));
    REQUIRE(had.ok());
    CHECK(*had == 0);  // this connection created the database
  }
  const std::vector<int64_t>& steps = watch.steps;
  const std::vector<SeenIdentity>& seen = watch.seen;
  const std::vector<std::string>& read_only_opens = watch.read_only_opens;

  std::vector<int64_t> every_version;
  for (int64_t v = 1; v <= schema_version(); ++v) every_version.push_back(v);
  CHECK(steps == every_version);
  int read = 0;
  for (size_t i = 0; i < seen.size(); ++i) {
    const SeenIdentity& s = seen[i];
    INFO("after the step to version " << steps[i] << " another connection read: rc " << s.rc
                                      << ", application_id " << s.application_id
                                      << ", user_version " << s.user_version);
    if (s.rc == SQLITE_BUSY) continue;  // locked: nothing seen, nothing wrong
    REQUIRE(s.rc == SQLITE_OK);
    ++read;
    const bool nothing_yet = s.application_id == 0 && s.user_version == 0;
    const bool current = s.application_id == kApplicationId && s.user_version == schema_version();
    CHECK((nothing_yet || current));
  }
  // Until it commits the migrating connection holds only RESERVED (a schema this small never
  // spills to the file), which lets readers in: the checks above did run.
  CHECK(read > 0);
  for (const auto& error : read_only_opens) {
    INFO("a read-only open during the migration: " << error);
    CHECK_FALSE(contains(error, "older than"));
  }

  const SeenIdentity after = read_committed_identity(path);
  CHECK(after.rc == SQLITE_OK);
  CHECK(after.application_id == kApplicationId);
  CHECK(after.user_version == schema_version());
  CHECK(open_store(path, OpenMode::kReadOnly)->runs(std::nullopt)->empty());
}

TEST_CASE("store: finish_run records where the time went and the memory used") {
  auto store = store_with_runs();
  REQUIRE(*store->claim_run("r1", false, "h", 2));
  RunSummary summary = sample_summary();
  summary.time = {1.5, 900.25, 20.5, 0.75};
  summary.model_bytes = 123456789;
  summary.peak_rss = 987654321;
  require_ok(store->finish_run("r1", RunState::kDone, &summary, ""));
  auto table = store->select(
      "SELECT data_ms, network_ms, update_ms, record_ms, model_bytes, peak_rss_bytes FROM runs "
      "WHERE key = 'r1'");
  REQUIRE(table.ok());
  REQUIRE(table->rows.size() == 1);
  const std::vector<std::optional<std::string>> expected = {"1.5", "900.25", "20.5", "0.75",
                                                            "123456789", "987654321"};
  CHECK(table->rows[0] == expected);
}

// --- Machine facts (schema 3), config_json as the source of RunRow::config -----------------

namespace {

MachineFacts sample_machine() {
  MachineFacts m;
  m.cpu_model = "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz";
  m.isa = "Intel AVX-512 with Intel DL Boost";
  m.cores = 8;
  m.onednn_version = "2.6.3";
  return m;
}

// A schema 2 file as a schema 2 build left it: one finished run with its metrics, one queued.
void write_version_2_database(const std::string& path) {
  Raw raw(path);
  raw.exec(migrations()[0]);
  raw.exec(migrations()[1]);
  raw.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
  raw.exec("PRAGMA user_version = 2");
  raw.exec("INSERT INTO sweeps (name, source_hash) VALUES ('old', 'h')");
  for (const auto& [key, status] : {std::pair{"k1", "done"}, std::pair{"k2", "queued"}}) {
    const JobRecord job = sample_job(key, "old");
    raw.exec(
        "INSERT INTO runs (key, sweep, dataset, depth, width, shortcut, rule, p_L, schedule, lr, "
        "batch, epochs, iterations, seed, config_json, status) VALUES ('" + job.key +
        "', 'old', 'synthetic', 20, 2, 'B', 'uniform', 0.5, 'cosine', 0.05, 64, 3, 120, 7, '" +
        job.config_json + "', '" + status + "')");
    raw.exec("INSERT INTO sweep_runs (sweep, key) VALUES ('old', '" + job.key + "')");
  }
  raw.exec(
      "UPDATE runs SET host = 'box:41', threads = 2, wall_seconds = 3.5, network_ms = 7.25, "
      "final_test_accuracy = 0.875 WHERE key = 'k1'");
  raw.exec(
      "INSERT INTO iterations (run, iteration, epoch, lr, loss, train_accuracy, active_blocks, "
      "step_ms) VALUES ('k1', 1, 1, 0.1, 2.5, 0.25, 9, 1.5), ('k1', 2, 1, 0.1, 2.25, 0.5, 8, 1.5)");
  raw.exec(
      "INSERT INTO test_evals (run, epoch, iteration, accuracy, loss) "
      "VALUES ('k1', 1, 2, 0.75, 1)");
}

void check_version_2_rows(Store& store) {
  auto rows = store.runs(std::string("old"));
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 2);
  const RunRow& done = (*rows)[0];
  CHECK(done.key == "k1");
  CHECK(done.state == RunState::kDone);
  CHECK(canonical_config_json(done.config) == sample_job("k1", "old").config_json);
  CHECK(done.host == "box:41");
  CHECK(done.wall_seconds == 3.5);
  CHECK(done.final_test_accuracy == 0.875);
  CHECK(done.machine.host == "box");
  CHECK(done.machine.threads == 2);
  CHECK(done.machine.cpu_model.empty());
  CHECK(done.machine.isa.empty());
  CHECK(done.machine.cores == 0);
  CHECK(done.machine.onednn_version.empty());
  CHECK((*rows)[1].key == "k2");
  CHECK((*rows)[1].state == RunState::kQueued);
  CHECK(store.curve("k1")->size() == 2);
  CHECK(store.test_evals("k1")->size() == 1);
}

}  // namespace

TEST_CASE("store: a version 2 database reads as it is, and migrates with every row") {
  TempDir dir;
  const std::string path = dir.file("v2.db");
  write_version_2_database(path);
  const std::string before = read_bytes(path);

  // Read-only (query, report on a database no newer build has written): no machine facts yet.
  check_version_2_rows(*open_store(path, OpenMode::kReadOnly));
  CHECK(read_bytes(path) == before);
  CHECK(Raw(path).text("PRAGMA user_version") == "2");

  auto store = open_store(path);
  Raw raw(path);
  CHECK(raw.text("PRAGMA user_version") == std::to_string(schema_version()));
  CHECK(raw.text("SELECT network_ms FROM runs WHERE key = 'k1'") == "7.25");
  CHECK(raw.text("SELECT count(*) FROM runs WHERE cpu_model IS NULL AND isa IS NULL AND cores IS "
                 "NULL AND onednn_version IS NULL") == "2");
  check_version_2_rows(*store);
  check_version_2_rows(*open_store(path, OpenMode::kReadOnly));
}

TEST_CASE("store: record_machine stores a claimed run's machine, and a new claim clears it") {
  auto store = store_with_runs();
  REQUIRE(*store->claim_run("r1", false, "box:12", 3));
  require_ok(store->record_machine("r1", sample_machine()));
  RunRow row = run_row(*store, "r1");
  CHECK(row.machine.host == "box");
  CHECK(row.machine.threads == 3);
  CHECK(row.machine.cpu_model == sample_machine().cpu_model);
  CHECK(row.machine.isa == sample_machine().isa);
  CHECK(row.machine.cores == 8);
  CHECK(row.machine.onednn_version == "2.6.3");
  CHECK(row.host == "box:12");  // the owner id, which claims and batches check, is kept
  CHECK(run_row(*store, "r2").machine.cpu_model.empty());

  require_ok(store->finish_run("r1", RunState::kFailed, nullptr, "boom"));
  CHECK(run_row(*store, "r1").machine.isa == sample_machine().isa);  // kept with the result
  REQUIRE(*store->claim_run("r1", true, "other:7", 1));
  row = run_row(*store, "r1");
  CHECK(row.machine.host == "other");
  CHECK(row.machine.threads == 1);
  CHECK(row.machine.cpu_model.empty());
  CHECK(row.machine.cores == 0);

  MachineFacts unknown;  // what the launcher could not find out is stored as NULL
  require_ok(store->record_machine("r1", unknown));
  auto nulls = store->select(
      "SELECT count(*) FROM runs WHERE key = 'r1' AND cpu_model IS NULL AND cores IS NULL");
  CHECK(nulls->rows[0][0] == "1");

  auto not_running = store->record_machine("r2", sample_machine());
  REQUIRE_FALSE(not_running.ok());
  CHECK(contains(not_running.error().message, "run r2 is not running"));
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

// --- Cluster runs (schema 4): journal of a shard, submissions, stops ------------------------

namespace {

// Of sweep "s" (store_with_runs).
SlurmSubmission sample_submission(const std::string& job_id, std::vector<std::string> keys) {
  return SlurmSubmission{job_id,
                         "s",
                         R"({"partition":"gpu","time":"04:00:00"})",
                         "#!/bin/bash\nexec stodepth run-task\n",
                         std::move(keys),
                         6,
                         ""};
}

// Every row of the tables a submission writes, and the runs' states and holders.
std::string submission_tables(Store& store) {
  std::string out;
  for (const char* sql :
       {"SELECT group_concat(job_id) FROM slurm_submissions",
        "SELECT group_concat(run || ':' || job_id || '_' || array_index) FROM slurm_tasks",
        "SELECT group_concat(key || ':' || status || ':' || ifnull(host, '-') || ':' || "
        "ifnull(threads, '-')) FROM runs"}) {
    auto table = store.select(sql);
    REQUIRE(table.ok());
    out += table->rows[0][0].value_or("NULL") + "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("store: a database created for a shard keeps a rollback journal, reopened or not") {
  TempDir dir;
  const std::string path = dir.file("r1.db");
  {
    auto store = Store::open(path, OpenMode::kReadWrite, rollback_journal());
    REQUIRE(store.ok());
    require_ok((*store)->register_sweep(sample_sweep("s")));
    require_ok((*store)->add_jobs({sample_job("r1", "s")}));
  }
  CHECK(Raw(path).text("PRAGMA journal_mode") == "delete");

  SECTION("reopened by the task's writer") {
    auto writer = AsyncWriter::open(path, "");
    REQUIRE(writer.ok());
    (*writer)->enqueue_iterations("r1", iterations(1, 5));
    require_ok((*writer)->close());
  }
  SECTION("reopened read-write with the default options") {
    require_ok(open_store(path)->append_iterations("r1", iterations(1, 5)));
  }
  SECTION("reopened read-only: no -shm needed") {
    Raw(path).exec(
        "INSERT INTO iterations (run, iteration) VALUES ('r1', 1), ('r1', 2), "
        "('r1', 3), ('r1', 4), ('r1', 5)");
    CHECK(open_store(path, OpenMode::kReadOnly)->curve("r1")->size() == 5);
  }
  CHECK(Raw(path).text("PRAGMA journal_mode") == "delete");
  CHECK(open_store(path, OpenMode::kReadOnly)->curve("r1")->size() == 5);
  for (const char* suffix : {"-wal", "-shm", "-journal"}) CHECK_FALSE(fs::exists(path + suffix));
}

TEST_CASE("store: an existing database keeps its journal mode whatever the open asks") {
  TempDir dir;
  const std::string path = dir.file("results.db");
  store_with_runs(path);
  require_ok(Store::open(path, OpenMode::kReadWrite, rollback_journal())
                 .value()
                 ->append_iterations("r1", iterations(1, 3)));
  CHECK(Raw(path).text("PRAGMA journal_mode") == "wal");
  // :memory: has no journal file either way.
  CHECK(Store::open(":memory:", OpenMode::kReadWrite, rollback_journal()).ok());
}

TEST_CASE("store: record_submission marks each run running under its array task") {
  auto store = store_with_runs();
  require_ok(store->register_sweep(sample_sweep("t")));
  require_ok(store->add_jobs({sample_job("r9", "t")}));
  require_ok(store->add_jobs({sample_job("r1", "t")}));  // r1 is shared by s and t
  REQUIRE(*store->claim_run("r2", false, "h:1", 2));
  require_ok(store->finish_run("r2", RunState::kFailed, nullptr, "boom"));

  require_ok(store->record_submission(sample_submission("500", {"r2", "r1"})));
  RunRow r1 = run_row(*store, "r1");
  CHECK(r1.state == RunState::kRunning);
  CHECK(r1.host == "slurm:500_1");
  CHECK(r1.threads == 6);
  CHECK(run_row(*store, "r2").host == "slurm:500_0");
  CHECK(run_row(*store, "r2").state == RunState::kRunning);
  CHECK_FALSE(*store->claim_run("r1", true, "h:1", 2));  // a local launcher leaves it alone
  require_ok(store->release_stale_runs("s", "h:1"));
  CHECK(run_row(*store, "r1").state == RunState::kRunning);

  auto tasks = store->slurm_tasks(std::nullopt);
  REQUIRE(tasks.ok());
  REQUIRE(tasks->size() == 2);
  CHECK((*tasks)[0].key == "r1");  // by key
  CHECK((*tasks)[0].sweep == "s");
  CHECK((*tasks)[0].job_id == "500");
  CHECK((*tasks)[0].array_index == 1);
  CHECK((*tasks)[1].key == "r2");
  CHECK((*tasks)[1].array_index == 0);
  auto of_t = store->slurm_tasks(std::string("t"));  // the shared run counts
  REQUIRE(of_t.ok());
  REQUIRE(of_t->size() == 1);
  CHECK((*of_t)[0].key == "r1");

  auto submissions = store->submissions("s");
  REQUIRE(submissions.ok());
  REQUIRE(submissions->size() == 1);
  const SlurmSubmission& s = (*submissions)[0];
  CHECK(s.job_id == "500");
  CHECK(s.sweep == "s");
  CHECK(s.options_json == sample_submission("", {}).options_json);
  CHECK(s.script == sample_submission("", {}).script);
  CHECK(s.threads == 6);
  CHECK(s.keys == std::vector<std::string>{"r2", "r1"});
  CHECK(s.submitted_at.size() == 20);
  CHECK(store->submissions("t")->empty());

  SECTION("a resubmitted run moves to the later submission") {
    require_ok(store->finish_run("r2", RunState::kInterrupted, nullptr, ""));
    require_ok(store->add_jobs({sample_job("r4", "s", 44)}));
    require_ok(store->record_submission(sample_submission("501", {"r4", "r2"})));
    CHECK(run_row(*store, "r2").host == "slurm:501_1");
    auto later = store->submissions("s");
    REQUIRE(later->size() == 2);
    CHECK((*later)[0].job_id == "500");
    CHECK((*later)[0].keys == std::vector<std::string>{"r1"});  // r2 is 501's now
    CHECK((*later)[1].job_id == "501");
    CHECK((*later)[1].keys == std::vector<std::string>{"r4", "r2"});  // in array order
    auto all = store->slurm_tasks(std::nullopt);
    REQUIRE(all->size() == 3);
    CHECK((*all)[1].key == "r2");
    CHECK((*all)[1].job_id == "501");
    CHECK((*all)[1].array_index == 1);
  }
}

TEST_CASE("store: a submission with a run running, done or missing records nothing") {
  auto store = store_with_runs();
  require_ok(store->add_jobs({sample_job("r3", "s")}));
  std::string key = "r2", expected;
  SECTION("done") {
    REQUIRE(*store->claim_run("r2", false, "h:1", 2));
    require_ok(store->finish_run("r2", RunState::kDone, nullptr, ""));
    expected = "run r2 cannot be submitted: it is done";
  }
  SECTION("running under another holder") {
    REQUIRE(*store->claim_run("r2", false, "h:1", 2));
    expected = "run r2 cannot be submitted: it is running, held by h:1";
  }
  SECTION("missing") {
    key = "ghost";
    expected = "run ghost cannot be submitted: there is no such run";
  }
  const std::string before = submission_tables(*store);
  auto refused = store->record_submission(sample_submission("600", {"r1", key, "r3"}));
  REQUIRE_FALSE(refused.ok());
  INFO(refused.error().message);
  CHECK(refused.error().kind == ErrorKind::kBadInput);
  CHECK(contains(refused.error().message, expected));
  CHECK(submission_tables(*store) == before);  // r1 not marked, no submission, no task
  CHECK(run_row(*store, "r1").state == RunState::kQueued);
  CHECK(store->submissions("s")->empty());
}

TEST_CASE("store: a run's stops are kept oldest first, across a new claim") {
  auto store = store_with_runs();
  REQUIRE(*store->claim_run("r1", false, "h:1", 2));
  require_ok(store->append_iterations("r1", iterations(1, 20)));
  require_ok(store->record_stop("r1", {"ignored", 20, "time-limit", "900_3", true}));
  require_ok(store->finish_run("r1", RunState::kInterrupted, nullptr, ""));
  REQUIRE(*store->claim_run("r1", false, "h:2", 2));  // starts over: iterations deleted
  CHECK(store->curve("r1")->empty());
  require_ok(store->record_stop("r1", {"", 7, "interrupted", "", false}));

  auto stops = store->stops("r1");
  REQUIRE(stops.ok());
  REQUIRE(stops->size() == 2);
  const RunStop& first = (*stops)[0];
  CHECK(first.at.size() == 20);  // the store's clock, not the caller's
  CHECK(first.iteration == 20);
  CHECK(first.cause == "time-limit");
  CHECK(first.slurm_job == "900_3");
  CHECK(first.requeued);
  const RunStop& second = (*stops)[1];
  CHECK(second.iteration == 7);
  CHECK(second.cause == "interrupted");
  CHECK(second.slurm_job.empty());
  CHECK_FALSE(second.requeued);
  CHECK(store->select("SELECT count(*) FROM run_stops WHERE slurm_job IS NULL")->rows[0][0] == "1");
  CHECK(store->stops("r2")->empty());
  CHECK_FALSE(store->record_stop("ghost", {"", 1, "terminated", "", false}).ok());
}

TEST_CASE("store: a version 3 database reads as it is, and migrates with every row") {
  TempDir dir;
  const std::string path = dir.file("v3.db");
  write_version_2_database(path);
  {
    Raw raw(path);
    raw.exec(migrations()[2]);
    raw.exec("PRAGMA user_version = 3");
  }
  const std::string before = read_bytes(path);
  {
    auto read_only = open_store(path, OpenMode::kReadOnly);
    check_version_2_rows(*read_only);
    // What schema 4 added reads as none.
    CHECK(read_only->stops("k1")->empty());
    CHECK(read_only->slurm_tasks(std::nullopt)->empty());
    CHECK(read_only->submissions("old")->empty());
  }
  CHECK(read_bytes(path) == before);

  auto store = open_store(path);
  CHECK(Raw(path).text("PRAGMA user_version") == std::to_string(schema_version()));
  check_version_2_rows(*store);
  CHECK(store->stops("k1")->empty());
  SlurmSubmission submission = sample_submission("1", {"k2"});
  submission.sweep = "old";
  require_ok(store->record_submission(submission));
  CHECK(run_row(*store, "k2").host == "slurm:1_0");
}

TEST_CASE("store: validation evaluations round-trip and give the test accuracy at the best one") {
  auto store = store_with_runs();
  // Validation peaks at epoch 2 (a tie with epoch 4 goes to the earlier); the test accuracy
  // keeps rising, so the final one and the paper's one differ.
  std::vector<TestEvalRecord> evals;
  const double validation[] = {0.60, 0.70, 0.65, 0.70};
  for (int epoch = 1; epoch <= 4; ++epoch) {
    TestEvalRecord r = test_eval(epoch);
    r.validation_accuracy = validation[epoch - 1];
    r.validation_loss = 2.0 - validation[epoch - 1];
    evals.push_back(r);
  }
  require_ok(store->append_test_evals("r1", evals));
  require_ok(store->append_test_evals("r2", {test_eval(1)}));  // no validation split

  auto read = store->test_evals("r1");
  REQUIRE(read.ok());
  REQUIRE(read->size() == 4);
  CHECK((*read)[2].validation_accuracy == 0.65);
  CHECK((*read)[2].validation_loss == 2.0 - 0.65);
  CHECK_FALSE((*store->test_evals("r2"))[0].validation_accuracy);

  auto runs = store->runs(std::nullopt);
  REQUIRE(runs.ok());
  REQUIRE(runs->size() == 2);
  const RunRow& r1 = (*runs)[0].key == "r1" ? (*runs)[0] : (*runs)[1];
  const RunRow& r2 = (*runs)[0].key == "r1" ? (*runs)[1] : (*runs)[0];
  REQUIRE(r1.best_validation);
  CHECK(r1.best_validation->epoch == 2);
  CHECK(r1.best_validation->validation_accuracy == 0.70);
  CHECK(r1.best_validation->test_accuracy == test_eval(2).accuracy);
  CHECK_FALSE(r2.best_validation);
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

TEST_CASE("store: run_progress gives each running run's last iteration and recent step time") {
  auto store = store_with_runs();  // sweep "s": r1, r2
  require_ok(store->register_sweep(sample_sweep("t", "h2")));
  require_ok(store->add_jobs({sample_job("r3", "t", 44), sample_job("r4", "s", 56)}));
  for (const char* key : {"r1", "r2", "r3", "r4"}) REQUIRE(*store->claim_run(key, false, "h", 2));
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
  REQUIRE(all->size() == 3);
  check((*all)[0], "r1", 60, 37.0);
  check((*all)[1], "r2", 0, 0);
  check((*all)[2], "r3", 3, 3.5);

  auto of_s = store->run_progress("s");
  REQUIRE(of_s.ok());
  REQUIRE(of_s->size() == 2);
  check((*of_s)[0], "r1", 60, 37.0);
  check((*of_s)[1], "r2", 0, 0);

  auto of_t = store->run_progress("t");
  REQUIRE(of_t.ok());
  REQUIRE(of_t->size() == 1);
  check((*of_t)[0], "r3", 3, 3.5);

  CHECK(store->run_progress("no such sweep")->empty());
}
