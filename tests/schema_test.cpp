// Tests for the results database's schema and migrations (results/store/schema.h): databases
// of every earlier schema read as they are and migrate with their rows, and a new database is
// never seen half-migrated.
#include "results/store/schema.h"

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

#include "model/config/config_codec.h"
#include "results/store/sqlite.h"
#include "results/store/store.h"
#include "tests/store_fixtures.h"
#include "tests/temp_dir.h"

using namespace stodepth;
using namespace stodepth::results;
using namespace stodepth::testing;

namespace {

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
        "batch, epochs, iterations, seed, config_json, status) VALUES ('" +
        job.key +
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

TEST_CASE("store: a version 1 database migrates to the current schema with its data") {
  TempDir dir;
  const std::string path = dir.file("v1.db");
  {
    Raw raw(path);
    raw.exec(migrations()[0]);
    raw.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
    raw.exec("PRAGMA user_version = 1");
    raw.exec("INSERT INTO sweeps (name) VALUES ('old')");
    raw.exec(
        "INSERT INTO runs (key, sweep, status, wall_seconds) VALUES ('k', 'old', 'done', 3.5)");
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
