// Tests for opening the results store (results/store/store.cpp): a new file's schema and
// journal mode, refusal of files that are not ours, two connections on one file, snapshots,
// a file deleted underneath.
#include "results/store/store.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "results/store/schema.h"
#include "results/store/writer.h"
#include "tests/store_fixtures.h"
#include "tests/temp_dir.h"

namespace fs = std::filesystem;
using namespace stodepth;
using namespace stodepth::results;
using namespace stodepth::testing;

namespace {

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
  REQUIRE(out.good());
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

}  // namespace

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

TEST_CASE("store: writes stop when the database file is deleted or replaced") {
  TempDir dir;
  const std::string path = dir.file("results.db");
  auto store = store_with_runs(path);
  REQUIRE(*store->claim_run("r1", false, "h", 2));
  Batch batch;
  batch.ops.push_back(Batch::Iterations{"r1", iterations(1, 3)});
  require_ok(store->write_batch(batch));
  SECTION("deleted") { fs::remove(path); }
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
