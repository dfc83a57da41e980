// The plan of a launch: which of a sweep's jobs run, in which order, as how many concurrent
// trainings of how many threads, or why the launch is refused. Everything a plan checks is
// checked before anything is written, and `launch --dry-run` makes the same plan as `launch`
// (read-only), so it shows exactly what a launch would run or refuse.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/base/result.h"
#include "model/config/config.h"
#include "model/data/dataset.h"
#include "results/store/store.h"
#include "sweeps/sweep.h"

namespace stodepth::harness {

struct LaunchOptions {
  std::string db_path = "out/results.db";
  // Concurrent trainings; 0: one per core (at most one per job of the sweep), which
  // measured faster than one training using all cores (README, "Performance").
  int jobs = 0;
  int threads_per_job = 0;  // 0: cores / jobs
  bool retry_failed = false;
  std::vector<std::string> only;  // job keys (prefixes) to run; empty: all
  // Each run saves its state every this many iterations (and when interrupted) to
  // checkpoint_dir(db_path)/<key>.ckpt and resumes from it; 0: runs restart from zero.
  int64_t checkpoint_every = 100;
  bool keep_checkpoints = false;  // else a run's checkpoint is deleted when it ends
  // The jobs train on this machine, so the plan refuses those its CPU cannot train (bf16
  // without bf16 arithmetic). false: they train elsewhere (Slurm nodes), each checking its own.
  bool trains_here = true;
};

// How many trainings run at once and with how many threads each, for a sweep of
// `sweep_jobs` jobs on `cores` cores: the options' choice, or the default described at
// LaunchOptions::jobs.
struct Layout {
  int jobs = 1, threads_per_job = 1;
};
Layout choose_layout(const LaunchOptions& options, int sweep_jobs, int cores);

// Estimated cost of a job, for longest-first ordering: expected convolution FLOPs of all
// its training steps.
double estimated_cost(const TrainConfig& config, int64_t train_examples);
// The same for one training step: expected convolution FLOPs of a batch.
double estimated_step_cost(const TrainConfig& config);

// True if a run in `state` is not run again: done, and failed or diverged unless retrying.
bool is_finished(results::RunState state, bool retry_failed);

// What the database holds of one job's run.
struct StoredRun {
  results::RunState state = results::RunState::kQueued;
  int threads = 0;   // of the launch that last ran it; 0: none yet
  std::string host;  // the launcher that holds (or last held) it
};

// A sweep file that adds jobs to the stored sweep of its name, every stored job kept.
struct Extension {
  int jobs = 0;            // added
  std::string new_values;  // what is new in them, e.g. "seeds 3–4" (JobChanges::new_values)
};

// What the database holds of a sweep: all a plan needs from it.
struct DatabaseView {
  std::optional<std::string> definition_hash;  // of the stored sweep of this name, if any
  // The file has every job of the stored sweep: it differs only where the jobs do not (its
  // description, comments, spelling, order) or by adding jobs. The same experiment, grown:
  // a launch updates the stored text and adds the new jobs. definition_hash is then the
  // file's.
  bool stored_text_outdated = false;
  std::optional<Extension> extension;  // when the file adds jobs to the stored sweep
  // When the file changes or removes stored jobs (definition_hash is then the stored one):
  // which, on one line (JobChanges::lost), for the refusal.
  std::string lost_jobs;
  std::map<std::string, StoredRun> runs;  // by job key; a job not here is new
  // The file's jobs that are done runs of other sweeps (a renamed or overlapping sweep's),
  // counted by the sweep that first recorded them: reused, not run again.
  std::map<std::string, int> reused;
};
// The view of `sweep` in an open store (a job shared with another sweep counts as stored).
Result<DatabaseView> read_database_view(results::Store& store, const sweeps::Sweep& sweep);

// What the store keeps of `sweep`, and of its job `job`.
results::SweepRecord sweep_record(const sweeps::Sweep& sweep);
results::JobRecord job_record(const sweeps::Sweep& sweep, const sweeps::Job& job);
// Records `sweep` and adds its jobs not yet stored, as `queued` (Store::register_sweep and
// add_jobs): what a launch writes before it runs anything.
Status record_sweep(results::Store& store, const sweeps::Sweep& sweep);

struct PlannedJob {
  const sweeps::Job* job = nullptr;          // one of the plan's sweep's jobs
  std::optional<results::RunState> state;    // in the database; none: new
  int previous_threads = 0;                  // StoredRun::threads
};

// Orders DataOptions so that each distinct dataset is loaded once.
struct DataOptionsLess {
  bool operator()(const data::DataOptions& a, const data::DataOptions& b) const;
};
using Datasets =
    std::map<data::DataOptions, std::shared_ptr<const data::Dataset>, DataOptionsLess>;

struct Plan {
  const sweeps::Sweep* sweep = nullptr;  // not owned: the sweep outlives its plan
  Layout layout;                         // from the sweep's size, not from what is left
  std::vector<PlannedJob> to_run;        // longest first; empty when refused
  int finished = 0;      // selected but already finished (done; failed or diverged unless
                         // retry_failed): skipped
  int not_selected = 0;  // left out by --only
  // Set when nothing may run: the one-line reason, as launch prints it.
  std::optional<Error> refusal;
  DatabaseView stored;  // what the plan was made from
  Datasets datasets;    // the datasets of the jobs to run, loaded

  // The loaded dataset of a job of to_run.
  const data::Dataset& dataset_of(const sweeps::Job& job) const;
};

// Decides the plan from what the database holds, checking in this order that --only
// selects a job, that the sweep's definition is the stored one, that this CPU can train the
// jobs to run at their precision (when they train here), and that every dataset the jobs to
// run need loads (each distinct one once; those already in `datasets` are
// reused). Writes nothing. `cores` decides the default layout.
Plan make_plan(const sweeps::Sweep& sweep, const LaunchOptions& options,
               const DatabaseView& stored, int cores, Datasets datasets = {});

// What launching the plan does to the database beyond running jobs, one line each: the
// stored sweep it extends ("extends sweep 'x': +4 jobs (seeds 3–4)"), the done runs of other
// sweeps it reuses ("3 jobs are already done under sweep 'y' and are reused"). None when
// refused.
std::vector<std::string> plan_notes(const Plan& plan);

// plan_notes' lines, then "4 jobs to run, 0 already finished; 2 at a time, 1 thread each";
// or the refusal.
std::string describe(const Plan& plan);

// The plan of `launch --dry-run`: the database is opened read-only (no file there: every
// job is new), nothing is written.
Result<Plan> plan_dry_run(const sweeps::Sweep& sweep, const LaunchOptions& options);

// The plan of a real launch: the same plan as plan_dry_run, refused the same way without
// writing anything (no database is created); an accepted plan is then registered — sweep
// and jobs recorded, runs left `running` by launchers that died released — and made again
// from the database as it now is (other launchers may have run jobs meanwhile).
Result<Plan> plan_launch(const sweeps::Sweep& sweep, const LaunchOptions& options);

}  // namespace stodepth::harness
