// The job scheduler: runs a sweep's jobs in a TBB pool, longest first, each training with
// its own oneDNN primitives and OpenMP thread count, streaming metrics to the results
// store through one writer thread. Failures are isolated per job.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "model/base/result.h"
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
};

// How many trainings run at once and with how many threads each, for a sweep of
// `sweep_jobs` jobs on `cores` cores: the options' choice, or the default described at
// LaunchOptions::jobs.
struct Layout {
  int jobs = 1, threads_per_job = 1;
};
Layout choose_layout(const LaunchOptions& options, int sweep_jobs, int cores);

// Where the runs of the database at `db_path` keep their checkpoints: "<db_path>.checkpoints".
std::string checkpoint_dir(const std::string& db_path);
// The checkpoint of run `key` in `dir`.
std::string checkpoint_path(const std::string& dir, const std::string& key);

// What the launcher shows while jobs run (implemented by the CLI's progress display).
class LaunchObserver {
 public:
  virtual ~LaunchObserver() = default;
  // Before the first job starts: how many will run, in how many concurrent trainings of
  // how many threads each.
  virtual void on_plan(int to_run, int already_done, int jobs, int threads_per_job) {}
  virtual void on_job_start(const sweeps::Job& job) {}
  virtual void on_job_iteration(const sweeps::Job& job, const IterationRecord& r,
                                int64_t total_iterations) {}
  virtual void on_job_end(const sweeps::Job& job, results::RunState state,
                          const std::string& message) {}
  // Something the user should know that is not a job's end (e.g. a damaged checkpoint).
  virtual void on_notice(const std::string& message) {}
};

struct LaunchSummary {
  int ran = 0, done = 0, failed = 0, diverged = 0, interrupted = 0, skipped = 0;
  int not_claimed = 0;  // held, or already finished, by another live launcher
  int resumed = 0;      // runs that continued from a checkpoint
  // Set when the database or the checkpoint directory failed (disk full, file deleted, …):
  // no job started after it; the message says what happened.
  std::string storage_error;
  // Costs of the runs of this launch: training time summed over their iterations, the
  // database writer thread's commit time, and the images trained.
  RunSummary::Time time;
  double writer_busy_ms = 0;
  int64_t writer_transactions = 0, images = 0;
};

// Set by the first Ctrl-C: no job starts after it and running ones stop at the next
// iteration boundary (marked interrupted).
std::atomic<bool>& stop_requested();

// Estimated cost of a job, for longest-first ordering: expected convolution FLOPs of all
// its training steps.
double estimated_cost(const TrainConfig& config, int64_t train_examples);

Result<LaunchSummary> launch(const sweeps::Sweep& sweep, const LaunchOptions& options,
                             LaunchObserver& observer);

}  // namespace stodepth::harness
