// The SQLite results store. This module alone owns database handles. See README "Results
// database" for the schema.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "model/base/result.h"
#include "model/config/config.h"
#include "model/config/records.h"

namespace stodepth::results {

enum class RunState { kQueued, kRunning, kDone, kFailed, kDiverged, kInterrupted };
const char* to_string(RunState s);
std::optional<RunState> parse_run_state(std::string_view s);

// What the store keeps of a sweep definition.
struct SweepRecord {
  std::string name, description, source_text, source_hash;
};

// A job to run: its key, its parameters as columns, the full config as JSON.
struct JobRecord {
  std::string key;
  std::string sweep;
  TrainConfig config;
  std::string config_json;
};

struct RunRow {
  std::string key, sweep;
  RunState state = RunState::kQueued;
  // Decoded from config_json: every setting (dataset.dir and train.threads, the machine's,
  // at their defaults). A config_json that does not read as a whole config, or that its
  // parameter columns disagree with (a database edited by hand), makes runs() an Error.
  TrainConfig config;
  std::string config_json, error;
  std::string host;  // the claiming launcher's id, "hostname:pid" (empty until claimed)
  int threads = 0;
  // The machine of the latest claim: its host name (host without ":pid") and threads, and
  // what the launcher recorded (record_machine); empty for runs claimed before schema 3.
  MachineFacts machine;
  std::optional<double> wall_seconds, mean_step_ms, images_per_second, expected_active_blocks,
      mean_active_blocks, final_test_accuracy, final_test_loss;
  std::string started_at, ended_at;  // ISO 8601 UTC, empty if not yet
  // The paper's measure, for runs that hold out a validation set: the test accuracy at the
  // whole-set evaluation of best validation accuracy so far (iteration not read: 0).
  std::optional<BestValidation> best_validation;
};

enum class OpenMode { kReadWrite, kReadOnly };

// One sbatch submission of a sweep's jobs: a job array whose task i runs keys[i].
struct SlurmSubmission {
  std::string job_id;        // Slurm's id of the array job
  std::string sweep;
  std::string options_json;  // the sbatch options as the user gave them
  std::string script;        // the batch script as submitted
  std::vector<std::string> keys;
  int threads = 0;           // OpenMP threads per task
  std::string submitted_at;  // ISO 8601 UTC; set by the store
};

// A run's latest submission: array task `job_id`_`array_index`.
struct SlurmTask {
  std::string key, sweep, job_id;
  int array_index = 0;
};

// Why a run stopped before its end, as the task that ran it saw it.
struct RunStop {
  std::string at;       // ISO 8601 UTC; set by the store
  int64_t iteration = 0;  // the last iteration trained (the checkpoint's)
  std::string cause;    // "time-limit" (the warning signal), "terminated" (SIGTERM: cancel,
                        // preemption or the limit itself), "interrupted" (SIGINT)
  std::string slurm_job;  // the task's SLURM_JOB_ID (empty outside Slurm)
  bool requeued = false;  // the task requeued itself
};

// How far a `running` (or `interrupted`) run has got, from its recorded iterations.
struct RunProgress {
  std::string key;
  int64_t iteration = 0;      // the last recorded (0: none yet)
  double recent_step_ms = 0;  // the mean step time of the last (up to) 50 recorded (0: none)
};

// A run's latest records, for a live view: its last iteration, its last test mini-batch
// accuracy and its last whole-test-set evaluation (each none before the first).
struct RunLatest {
  std::optional<IterationRecord> iteration;
  std::optional<double> test_batch_accuracy;
  std::optional<TestEvalRecord> test_eval;  // validation not read
};

enum class MergeResult { kMerged, kAlreadyMerged, kNotFinished };
struct ShardMerge {
  MergeResult result = MergeResult::kNotFinished;
  std::string key;  // the shard's run
  RunState state = RunState::kQueued;  // the shard's run's state
};

enum class Journal { kWal, kRollback };

// Options of Store::open.
struct OpenOptions {
  // The journal mode of a database this open creates (an existing file keeps its own):
  // WAL for the main database; a rollback journal for a store shard, which one host writes
  // while others (the launcher's `status`) read it over a network filesystem, where WAL's
  // shared-memory index does not work across hosts.
  Journal journal = Journal::kWal;
};

// Records of several runs, committed in one transaction in order (AsyncWriter's unit of work).
//
// With an owner (a launcher's host id), every operation's run must still be `running` under
// that owner, or the whole batch is refused: a launcher never writes into a run that another
// launcher has taken over.
struct Batch {
  std::string owner;  // empty: no ownership check (tests, tools)
  struct Iterations {
    std::string key;
    std::vector<IterationRecord> rows;
  };
  struct TestEvals {
    std::string key;
    std::vector<TestEvalRecord> rows;
  };
  struct Finish {  // as Store::finish_run
    std::string key;
    RunState state = RunState::kDone;
    std::optional<RunSummary> summary;
    std::string error;
  };
  using Operation = std::variant<Iterations, TestEvals, Finish>;
  std::vector<Operation> ops;
};

// The database at `path` holds a sweep named `sweep` with another definition: one line
// with the fix, the same whether a launch's plan or register_sweep finds it. `lost`, if
// known: what the new definition changes or removes of the stored jobs.
Error redefined_sweep_error(const std::string& path, const std::string& sweep,
                            const std::string& lost = "");

// One connection to the results database. A Store is used from one thread at a time (it
// caches prepared statements on its connection); concurrent users each open their own Store,
// in this process or another: WAL lets readers proceed while one writer commits, and writers
// wait for each other up to the busy timeout (10 s).
//
// Its methods are defined by concern: opening and snapshots in store.cpp, sweeps, jobs and
// claims in runs.cpp, metrics in metrics.cpp, Slurm submissions and stops in cluster.cpp,
// merge_shard in shard_merge.cpp, queries in reads.cpp.
class Store {
 public:
  // Opens (creating and migrating in kReadWrite) the database at `path` (":memory:" works).
  // kReadOnly reads a database of an older schema as it is: what later versions added reads
  // as unknown (a schema 2 run has no machine facts).
  // A file that is not a stodepth database (another application's SQLite file, a text file,
  // a newer schema) is refused with an Error and left untouched. A database is created or
  // migrated in one transaction: other connections see it as it was or at this build's
  // schema version, never at one in between.
  static Result<std::unique_ptr<Store>> open(const std::string& path, OpenMode mode,
                                             const OpenOptions& options = {});
  ~Store();

  // Records the sweep; an existing sweep of the same name with another source_hash is
  // redefined_sweep_error.
  Status register_sweep(const SweepRecord& sweep);
  // Replaces the stored description, text and hash of sweep `sweep.name`: for a sweep file
  // edited without changing or removing its jobs (the caller checks that: one that adds
  // jobs grows the sweep), so that it stays launchable.
  Status update_sweep_text(const SweepRecord& sweep);
  // Inserts the jobs not yet present as `queued` (existing runs are left as they are).
  Status add_jobs(const std::vector<JobRecord>& jobs);

  // Atomically moves run `key` from a claimable state to `running` (claimable: queued and
  // interrupted; failed and diverged too when retry_failed), owned by `host`. Within the same
  // transaction, once the run is ours, `resume_point` (if given) says from which iteration
  // the caller's checkpoint resumes (0: none) — read there, no other launcher can still be
  // writing one — and the metrics of earlier attempts after it are deleted. If the rows
  // through it are not all there, everything is deleted and the run starts over
  // (resume_after 0). An Error from resume_point rolls the claim back. Not claimed: the run
  // was not claimable (e.g. another process has it).
  struct Claim {
    bool claimed = false;
    int64_t resume_after = 0;
    explicit operator bool() const { return claimed; }
  };
  Result<Claim> claim_run(const std::string& key, bool retry_failed, const std::string& host,
                          int threads,
                          const std::function<Result<int64_t>()>& resume_point = {});
  // Records the machine run `key`, claimed and `running`, trains on: the CPU model, ISA,
  // cores and oneDNN version of `facts` (its host and threads are the claim's `host` and
  // `threads`, already stored). A claim clears what an earlier attempt recorded.
  Status record_machine(const std::string& key, const MachineFacts& facts);
  // The sweep's runs left `running` by `host` (a launcher that died: the caller decides
  // which) are moved back to `interrupted`; other launchers' runs are left alone.
  Status release_stale_runs(const std::string& sweep, const std::string& host);

  // Per-iteration and test-set records of a running run; callers batch them (one
  // transaction per call).
  Status append_iterations(const std::string& key, const std::vector<IterationRecord>& rows);
  Status append_test_evals(const std::string& key, const std::vector<TestEvalRecord>& rows);
  // Final state: done/diverged/interrupted from a summary, or failed with an error text.
  // The error column gets `error`, or else the summary's message (e.g. why it diverged).
  // An unknown key, or a non-final state (queued, running), is an Error.
  Status finish_run(const std::string& key, RunState state, const RunSummary* summary,
                    const std::string& error);
  // All of a batch's operations in one transaction: all committed, or none.
  Status write_batch(const Batch& batch);

  // --- Cluster runs (the Slurm executor) ---------------------------------------------------

  // Records a submitted job array and marks each of its runs `running`, held by
  // "slurm:<job_id>_<index>" (a local launcher leaves such runs alone), with `threads`, in one
  // transaction. A run that is `running` under another holder, or done, is an Error and
  // nothing is recorded.
  Status record_submission(const SlurmSubmission& submission);
  // The latest submission of each run of `sweep` (every sweep if none; a run shared by sweeps
  // counts for each), by run key order. A task's `sweep` is its submission's.
  Result<std::vector<SlurmTask>> slurm_tasks(const std::optional<std::string>& sweep);
  // The submissions of `sweep`, oldest first. Each lists the keys it still holds, in array
  // order: a run submitted again since is listed under its latest submission only (so an
  // older submission may list fewer keys than it had).
  Result<std::vector<SlurmSubmission>> submissions(const std::string& sweep);

  // Appends why run `key` stopped before its end; kept across resumes and merged with it.
  Status record_stop(const std::string& key, const RunStop& stop);
  // Every stop of run `key`, oldest first.
  Result<std::vector<RunStop>> stops(const std::string& key);

  // Folds the run of the store shard at `shard_path` into this database, in one transaction:
  // the run's row (state, timings, machine, error), its iterations, test evaluations and
  // stops replace what this database holds of that run, and the merge is recorded
  // (merged_shards). A shard is a database of this schema holding one sweep and one run, the
  // run of a job of this database (same key and config_json).
  //  - kNotFinished: the shard's run is not done, failed or diverged (or the shard holds no
  //    run yet: its task is setting it up); nothing is written.
  //  - kAlreadyMerged: this database already holds exactly the shard's results (a merge
  //    that was interrupted before the shard was retired); nothing is written.
  //  - kMerged: folded in.
  // A run whose final results this database holds (done, failed or diverged here, or merged
  // from a shard of the same attempt: started_at and ended_at) is compared, else replaced.
  // Refused with a kDamaged Error naming the shard and the fix, nothing written: a file that
  // is not a stodepth shard of this schema, a run this database does not have or has with
  // another config, and a run whose stored final results differ from the shard's.
  // The caller retires (deletes) a shard merged or already merged.
  Result<ShardMerge> merge_shard(const std::string& shard_path);

  // Read-only Stores: from now until the Store is closed every query reads the database as
  // committed at this moment (one WAL read transaction), so a report or query made while a
  // sweep writes is consistent across its statements.
  Status hold_snapshot();

  // Queries. runs(): every run ordered by sweep then insertion, or the runs of one sweep
  // (shared runs included; RunRow::sweep is still the owning sweep) in insertion order. A run
  // whose parameter columns disagree with its config_json, or cannot be read (the database
  // was edited by hand), is an Error naming it.
  Result<std::vector<RunRow>> runs(const std::optional<std::string>& sweep);
  Result<std::vector<IterationRecord>> curve(const std::string& key);
  Result<std::vector<TestEvalRecord>> test_evals(const std::string& key);
  Result<std::vector<SweepRecord>> sweeps();
  // The progress of each `running` or `interrupted` run of `sweep` (every sweep if none), by
  // key: its last recorded iteration and the mean step time of its last (up to) 50 recorded
  // iterations (an interrupted run's pace is its last one's, not a current one).
  // When an iteration was recorded is not stored: rates and ETAs are the caller's to derive
  // from these.
  Result<std::vector<RunProgress>> run_progress(const std::optional<std::string>& sweep);
  // The latest records of run `key` (all none for a run without rows or an unknown key).
  Result<RunLatest> latest(const std::string& key);
  // The iterations of run `key` after `after_iteration`, in order: what curve() would add to
  // the rows a reader already holds.
  Result<std::vector<IterationRecord>> curve_after(const std::string& key, int64_t after_iteration);

  // A read-only SELECT for `query sql`: column names then rows as text (NULL as empty
  // optional). Statements that write, ATTACH or change pragmas are refused, as is more than
  // one statement: the query runs on a read-only connection under an authorizer that allows
  // only reads (and on this connection, under the authorizer, for ":memory:"). REAL values
  // are written as the shortest text that reads back as them (fmt's "{}": 1 for 1.0,
  // 150.975938819743 in full), not SQLite's own 15 digits.
  struct Table {
    std::vector<std::string> columns;
    std::vector<std::vector<std::optional<std::string>>> rows;
  };
  Result<Table> select(const std::string& sql);

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace stodepth::results
