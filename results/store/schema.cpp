#include "results/store/schema.h"

#include <fmt/format.h>

#include <initializer_list>
#include <string_view>
#include <vector>

#include "results/store/file_check.h"

namespace stodepth::results {
namespace {

// Version 0 → 1: the initial schema (documented in schema.h). NOT NULL on TEXT primary keys
// because SQLite otherwise accepts NULL keys in rowid tables.
constexpr const char* kCreateSchemaV1 = R"sql(
CREATE TABLE sweeps (
  name TEXT NOT NULL PRIMARY KEY,
  description TEXT,
  source_text TEXT,
  source_hash TEXT,
  created_at TEXT
);
CREATE TABLE runs (
  key TEXT NOT NULL PRIMARY KEY,
  sweep TEXT NOT NULL REFERENCES sweeps(name),
  dataset TEXT,
  depth INTEGER,
  width INTEGER,
  shortcut TEXT,
  rule TEXT,
  p_L REAL,
  schedule TEXT,
  lr REAL,
  batch INTEGER,
  epochs INTEGER,
  iterations INTEGER,
  seed INTEGER,
  config_json TEXT,
  status TEXT NOT NULL DEFAULT 'queued'
    CHECK (status IN ('queued', 'running', 'done', 'failed', 'diverged', 'interrupted')),
  error TEXT,
  host TEXT,
  threads INTEGER,
  started_at TEXT,
  ended_at TEXT,
  wall_seconds REAL,
  mean_step_ms REAL,
  images_per_second REAL,
  expected_active_blocks REAL,
  mean_active_blocks REAL,
  final_test_accuracy REAL,
  final_test_loss REAL
);
CREATE INDEX runs_by_sweep ON runs(sweep);
CREATE TABLE sweep_runs (
  sweep TEXT NOT NULL REFERENCES sweeps(name),
  key TEXT NOT NULL REFERENCES runs(key) ON DELETE CASCADE,
  UNIQUE (sweep, key)
);
CREATE INDEX sweep_runs_by_key ON sweep_runs(key);
CREATE TABLE iterations (
  run TEXT NOT NULL REFERENCES runs(key) ON DELETE CASCADE,
  iteration INTEGER NOT NULL,
  epoch INTEGER,
  lr REAL,
  loss REAL,
  train_accuracy REAL,
  test_accuracy REAL NULL,
  test_loss REAL NULL,
  active_blocks INTEGER,
  step_ms REAL,
  PRIMARY KEY (run, iteration)
) WITHOUT ROWID;
CREATE TABLE test_evals (
  run TEXT NOT NULL REFERENCES runs(key) ON DELETE CASCADE,
  epoch INTEGER,
  iteration INTEGER NOT NULL,
  accuracy REAL,
  loss REAL,
  PRIMARY KEY (run, iteration)
) WITHOUT ROWID;
)sql";

// "ALTER TABLE <table> ADD COLUMN <column>;" a line, for each column ("name TYPE").
std::string add_columns(std::string_view table, std::initializer_list<std::string_view> columns) {
  std::string sql = "\n";
  for (const std::string_view column : columns)
    sql += fmt::format("ALTER TABLE {} ADD COLUMN {};\n", table, column);
  return sql;
}

// Version 3 → 4: the Slurm executor: its submissions, the stops its tasks saw, and the store
// shards merged in. The indexes serve submissions() (tasks by job) and stops() and the merge
// (stops by run).
constexpr const char* kSlurmV4 = R"sql(
CREATE TABLE slurm_submissions (
  job_id TEXT NOT NULL PRIMARY KEY,
  sweep TEXT NOT NULL REFERENCES sweeps(name),
  options_json TEXT,
  script TEXT,
  threads INTEGER,
  submitted_at TEXT
);
CREATE TABLE slurm_tasks (
  run TEXT NOT NULL PRIMARY KEY REFERENCES runs(key) ON DELETE CASCADE,
  job_id TEXT NOT NULL REFERENCES slurm_submissions(job_id),
  array_index INTEGER NOT NULL
);
CREATE INDEX slurm_tasks_by_job ON slurm_tasks(job_id);
CREATE TABLE run_stops (
  run TEXT NOT NULL REFERENCES runs(key) ON DELETE CASCADE,
  at TEXT,
  iteration INTEGER,
  cause TEXT,
  slurm_job TEXT,
  requeued INTEGER
);
CREATE INDEX run_stops_by_run ON run_stops(run);
CREATE TABLE merged_shards (
  run TEXT NOT NULL PRIMARY KEY REFERENCES runs(key) ON DELETE CASCADE,
  started_at TEXT,
  ended_at TEXT,
  merged_at TEXT
);
)sql";

const std::vector<std::string>& all_migrations() {
  static const std::vector<std::string> all = {
      kCreateSchemaV1,
      // Version 1 → 2: where each run's training time went and the memory it used.
      add_columns("runs", {"data_ms REAL", "network_ms REAL", "update_ms REAL", "record_ms REAL",
                           "model_bytes INTEGER", "peak_rss_bytes INTEGER"}),
      // Version 2 → 3: the machine each run trains on, so that a report names the hardware
      // that produced each figure rather than the one that renders it.
      add_columns("runs", {"cpu_model TEXT", "isa TEXT", "cores INTEGER", "onednn_version TEXT"}),
      kSlurmV4,
      // Version 4 → 5: the validation split of the paper's protocol: each whole-set
      // evaluation of a run that holds out validation examples records them beside the test
      // set.
      add_columns("test_evals", {"validation_accuracy REAL", "validation_loss REAL"}),
  };
  return all;
}

}  // namespace

std::span<const std::string> migrations() { return all_migrations(); }

int schema_version() { return int(all_migrations().size()); }

Result<int64_t> check_identity(Database& db) {
  auto application_id = db.query_int("PRAGMA application_id");
  if (!application_id) return application_id.error();
  auto version = db.query_int("PRAGMA user_version");
  if (!version) return version.error();
  if (*application_id == kApplicationId) {
    if (*version > schema_version()) return newer_schema_error(db.label(), *version);
    return *version;
  }
  if (*application_id != 0) {
    return foreign_database_error(
        db.label(), fmt::format("application_id 0x{:08X}", uint32_t(*application_id)));
  }
  auto tables = db.query_int("SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'");
  if (!tables) return tables.error();
  if (*tables > 0 || *version != 0) {
    return foreign_database_error(db.label(), "application_id 0 and its own tables");
  }
  return int64_t{0};
}

Result<int64_t> migrate(Database& db, int64_t version) {
  if (version >= schema_version()) return version;
  Transaction transaction(db);
  if (auto begun = transaction.begin(); !begun) return begun.error();
  auto current = check_identity(db);
  if (!current) return current.error();
  if (*current >= schema_version()) return *current;  // another process migrated it
  version = *current;
  if (version == 0) {
    if (auto set = db.exec(fmt::format("PRAGMA application_id = {}", kApplicationId)); !set) {
      return set.error();
    }
  }
  for (int64_t v = version; v < schema_version(); ++v) {
    if (auto applied = db.exec(migrations()[size_t(v)]); !applied) return applied.error();
    if (auto set = db.exec(fmt::format("PRAGMA user_version = {}", v + 1)); !set)
      return set.error();
  }
  if (auto committed = transaction.commit(); !committed) return committed.error();
  return version;
}

}  // namespace stodepth::results
