// The seam between deciding what runs (a Plan) and where it runs. An executor takes a
// registered plan and runs its jobs through job runners: the TBB executor in this process
// through one shared runner; a cluster executor would submit them as tasks, each task
// process building its own JobRunner from the RunnerSetup (pointing at a store shard of its
// own) — which is why a runner is made from plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harness/job_runner.h"
#include "harness/plan.h"
#include "model/base/result.h"
#include "model/config/records.h"

namespace stodepth::harness {

// What a launch came to.
struct LaunchSummary {
  int ran = 0, done = 0, failed = 0, diverged = 0, interrupted = 0;
  int skipped = 0;      // already finished (Plan::finished)
  int not_claimed = 0;  // held, or already finished, by another live launcher
  int resumed = 0;      // runs that continued from a checkpoint
  // A cluster executor's: jobs submitted, in the Slurm job arrays listed; jobs already
  // pending or running in Slurm; ended store shards merged into the database.
  int submitted = 0, in_slurm = 0, merged = 0;
  std::vector<std::string> slurm_jobs;
  // The database or the checkpoint storage failed (disk full, file deleted, …): no job
  // started after it.
  std::optional<Error> storage_error;
  // Costs of the runs of this launch: training time summed over their iterations, the
  // database writer thread's commit time, and the images trained.
  RunSummary::Time time;
  double writer_busy_ms = 0;
  int64_t writer_transactions = 0, images = 0;

  // Counts one job's outcome; the first storage error is kept.
  void add(const JobOutcome& job) {
    if (job.storage_error && !storage_error) storage_error = job.storage_error;
    if (!job.state) {
      if (!job.storage_error) ++not_claimed;
      return;
    }
    ++ran;
    if (job.resumed) ++resumed;
    time.data_ms += job.summary.time.data_ms;
    time.network_ms += job.summary.time.network_ms;
    time.update_ms += job.summary.time.update_ms;
    time.record_ms += job.summary.time.record_ms;
    images += job.images;
    switch (*job.state) {
      case results::RunState::kDone: ++done; break;
      case results::RunState::kDiverged: ++diverged; break;
      case results::RunState::kInterrupted: ++interrupted; break;
      default: ++failed; break;
    }
  }
};

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs `plan.to_run` (registered in the database, not refused) in plan order, with
  // plan.layout.jobs concurrent trainings, through runners set up from `setup`. After
  // Ctrl-C (stop_requested()) or a storage failure no job starts. An Error means no job
  // could start (e.g. the store would not open).
  virtual Result<LaunchSummary> execute(const Plan& plan, const RunnerSetup& setup,
                                        JobObserver& observer) = 0;
};

}  // namespace stodepth::harness
