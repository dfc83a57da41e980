// The body of one cluster task (`stodepth run-task`, the command a Slurm batch script
// execs): run the job of one store shard through a JobRunner, and when a signal stops it,
// leave it resumable — checkpointed, the stop recorded in the shard — and requeue the task
// after a time-limit warning, at most a bounded number of times.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "harness/job_runner.h"
#include "model/base/result.h"
#include "results/store/store.h"

namespace stodepth::harness {

// Why a task was asked to stop; the CLI's signal handlers set it (the first signal wins)
// together with stop_requested().
enum class StopCause : int {
  kNone = 0,
  kTimeLimit,    // SIGUSR1: the warning sbatch --signal asked for before the time limit
  kTerminated,   // SIGTERM: scancel, preemption, or the time limit itself
  kInterrupted,  // SIGINT
};
std::atomic<StopCause>& stop_cause();
// The run_stops cause text of a stop cause ("time-limit", …).
const char* to_string(StopCause cause);

struct TaskOptions {
  std::string shard;          // <dir>/<key>.db; the checkpoint is <dir>/<key>.ckpt
  int threads = 1;            // OpenMP threads of the training
  int64_t checkpoint_every = 100;
  int max_timeout_requeues = 3;  // per Slurm job id (one array task; a requeue keeps its id)
  std::string slurm_job_id;   // SLURM_JOB_ID of the task; empty: not under Slurm (no requeue)
};

struct TaskOutcome {
  results::RunState state = results::RunState::kQueued;
  std::string message;
  bool requeued = false;
};

// Runs the shard's job (resuming from its checkpoint; a run an earlier task left `running`
// — killed by SIGKILL or a node failure — is taken over). A job already ended in the shard
// is left as it is. A dataset that does not load fails the run, with the reason stored.
Result<TaskOutcome> run_task(const TaskOptions& options, JobObserver& observer);

}  // namespace stodepth::harness
