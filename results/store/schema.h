// The results database schema and its migrations.
//
// Schema (version 1), as created by migration 0 → 1:
//
//   sweeps       one row per sweep definition seen
//     name TEXT PRIMARY KEY, description TEXT, source_text TEXT (the file as read),
//     source_hash TEXT (hash of the normalised definition), created_at TEXT (ISO 8601 UTC)
//
//   runs         one row per training run (job), keyed by the hash of its full config
//     key TEXT PRIMARY KEY,
//     sweep TEXT → sweeps(name)          the first sweep that registered the run
//     dataset TEXT, depth INTEGER, width INTEGER, shortcut TEXT ('A'|'B'|'C'),
//     rule TEXT ('linear'|'uniform'), p_L REAL, schedule TEXT ('constant'|'step'|'cosine'),
//     lr REAL (base rate), batch INTEGER, epochs INTEGER, iterations INTEGER (0: from epochs),
//     seed INTEGER, config_json TEXT (the complete config, canonical JSON),
//     status TEXT: queued | running | done | failed | diverged | interrupted,
//     error TEXT (failure or divergence message), host TEXT, threads INTEGER,
//     started_at TEXT, ended_at TEXT (ISO 8601 UTC), wall_seconds REAL, mean_step_ms REAL,
//     images_per_second REAL, expected_active_blocks REAL, mean_active_blocks REAL,
//     final_test_accuracy REAL, final_test_loss REAL   (NULL until the run ends)
//     index runs_by_sweep(sweep)
//
//   sweep_runs   every (sweep, run) membership, in insertion order (rowid); a run shared by
//                two sweeps has two rows here and one in runs
//     sweep TEXT → sweeps(name), key TEXT → runs(key), UNIQUE(sweep, key)
//
//   iterations   one row per training iteration of a run (the latest attempt only)
//     run TEXT → runs(key), iteration INTEGER (1-based), epoch INTEGER (1-based), lr REAL,
//     loss REAL, train_accuracy REAL (mini-batch, before the update),
//     test_accuracy REAL, test_loss REAL (test mini-batch; NULL except every eval.every),
//     active_blocks INTEGER, step_ms REAL;  PRIMARY KEY(run, iteration)
//
//   test_evals   whole-test-set evaluations (end of each epoch, and of the run)
//     run TEXT → runs(key), epoch INTEGER, iteration INTEGER, accuracy REAL, loss REAL;
//     PRIMARY KEY(run, iteration)
//
// Version 2 adds to runs (NULL until the run ends, and for runs finished before):
//     data_ms, network_ms, update_ms, record_ms REAL   training time summed over iterations:
//       batch assembly + gate draws, the network (forward, loss, backward), the SGD update,
//       handing records to the database writer
//     model_bytes INTEGER (activations, gradients, parameters, momentum of the training
//     graph), peak_rss_bytes INTEGER (the launcher process's peak resident set when the run
//     ended)
//
// Version 3 adds to runs the machine a run trains on, recorded by the launcher that claims it
// (NULL for runs claimed before, and until the launcher records them):
//     cpu_model TEXT (/proc/cpuinfo "model name"), isa TEXT (the ISA oneDNN dispatches to),
//     cores INTEGER (online logical cores), onednn_version TEXT ("2.6.3")
//   (host and threads hold the claiming launcher's "hostname:pid" and thread count since v1)
//
// Version 4 adds the Slurm executor's tables:
//
//   slurm_submissions   one row per sbatch submission (a job array), in submission order (rowid)
//     job_id TEXT PRIMARY KEY (Slurm's array job id), sweep TEXT → sweeps(name),
//     options_json TEXT (the sbatch options as given), script TEXT (the batch script),
//     threads INTEGER (per task), submitted_at TEXT (ISO 8601 UTC)
//
//   slurm_tasks   the latest submission of each run (a resubmission replaces the row, so an
//                 older submission keeps only the tasks of its runs not submitted since)
//     run TEXT PRIMARY KEY → runs(key), job_id TEXT → slurm_submissions(job_id),
//     array_index INTEGER (the run is array task job_id_array_index);  index by job_id
//
//   run_stops     why a run stopped before its end, as the task running it saw it; oldest first
//                 (rowid), kept across resumes
//     run TEXT → runs(key), at TEXT (ISO 8601 UTC), iteration INTEGER (the last trained),
//     cause TEXT ('time-limit' | 'terminated' | 'interrupted'), slurm_job TEXT (the task's
//     SLURM_JOB_ID, NULL outside Slurm), requeued INTEGER (0 | 1);  index by run
//
//   merged_shards  which attempt of each run was merged from its store shard
//     run TEXT PRIMARY KEY → runs(key), started_at TEXT, ended_at TEXT (the shard run's, which
//     tell its attempt), merged_at TEXT (ISO 8601 UTC)
//
// Version 5 adds to test_evals, for runs that hold out a validation set (dataset.validation;
// NULL otherwise, and for evaluations stored before):
//     validation_accuracy REAL, validation_loss REAL (the whole validation set, at the same
//     evaluation as the test set: the paper reports the test error at the best validation one)
//
//   A store shard is a database of this schema holding one sweep and one run of the main
//   database, written by the Slurm task that runs it (Store::merge_shard folds it in).
//
// Deleting a run deletes its sweep_runs, iterations, test_evals, slurm_tasks, run_stops and
// merged_shards rows (ON DELETE CASCADE).
// PRAGMA application_id is kApplicationId ('SDEP'); PRAGMA user_version is the schema version.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "model/base/result.h"
#include "results/store/sqlite.h"

namespace stodepth::results {

inline constexpr int32_t kApplicationId = 0x53444550;  // 'SDEP'

// Migration i takes a database from user_version i to i + 1. Store::open applies all the
// pending ones in a single transaction (so no reader sees an intermediate version): a
// migration must be valid inside a transaction (no VACUUM, no journal_mode change). Append
// only: a released migration is never edited.
std::span<const std::string> migrations();

// The version this build creates and understands: the number of migrations. Read-only
// Stores also read older versions as they are.
int schema_version();

// The schema version of the database open on `db`, or why it is not a stodepth database:
// the checks of inspect_database_file, repeated on the open connection where they are
// authoritative (the header can lag behind an uncheckpointed WAL) and where ":memory:" and a
// file created since the inspection are covered. 0: an empty database, ours to take.
Result<int64_t> check_identity(Database& db);

// Applies the pending migrations of a database found at `version`, with its application_id
// and user_version, in one transaction: a reader sees the file as it was or at this build's
// version, never at an intermediate one (which a read-only open refuses as too old). The
// version is re-read under the write lock: another process may have migrated the file in
// the meantime. Returns the version the file had under that lock (0: this connection created
// the database).
Result<int64_t> migrate(Database& db, int64_t version);

}  // namespace stodepth::results
