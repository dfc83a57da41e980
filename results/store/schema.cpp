#include "results/store/schema.h"

#include <array>

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

// Version 1 → 2: where each run's training time went and the memory it used (issue 5).
constexpr const char* kRunCostsV2 = R"sql(
ALTER TABLE runs ADD COLUMN data_ms REAL;
ALTER TABLE runs ADD COLUMN network_ms REAL;
ALTER TABLE runs ADD COLUMN update_ms REAL;
ALTER TABLE runs ADD COLUMN record_ms REAL;
ALTER TABLE runs ADD COLUMN model_bytes INTEGER;
ALTER TABLE runs ADD COLUMN peak_rss_bytes INTEGER;
)sql";

// Version 2 → 3: the machine each run trains on, so that a report names the hardware that
// produced each figure rather than the one that renders it.
constexpr const char* kRunMachineV3 = R"sql(
ALTER TABLE runs ADD COLUMN cpu_model TEXT;
ALTER TABLE runs ADD COLUMN isa TEXT;
ALTER TABLE runs ADD COLUMN cores INTEGER;
ALTER TABLE runs ADD COLUMN onednn_version TEXT;
)sql";

// Version 3 → 4: the Slurm executor (issue 13): its submissions, the stops its tasks saw, and
// the store shards merged in. The indexes serve submissions() (tasks by job) and stops() and
// the merge (stops by run).
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

// Version 4 → 5: the validation split of the paper's protocol (issue 14): each whole-set
// evaluation of a run that holds out validation examples records them beside the test set.
constexpr const char* kValidationV5 = R"sql(
ALTER TABLE test_evals ADD COLUMN validation_accuracy REAL;
ALTER TABLE test_evals ADD COLUMN validation_loss REAL;
)sql";

constexpr std::array<const char*, 5> kMigrations = {kCreateSchemaV1, kRunCostsV2, kRunMachineV3,
                                                    kSlurmV4, kValidationV5};

}  // namespace

std::span<const char* const> migrations() { return kMigrations; }

int schema_version() { return int(kMigrations.size()); }

}  // namespace stodepth::results
