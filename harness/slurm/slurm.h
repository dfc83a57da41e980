// Talking to Slurm through its client commands: the sbatch options a sweep is submitted
// with, the batch script of a job array, submitting it, and reading the queue. Nothing here
// depends on Slurm's accounting (sacct): clusters may run without it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/base/result.h"

namespace stodepth::harness {

// The sbatch options of a launch; empty strings and zeros leave Slurm's (the partition's)
// defaults. Recorded with each submission (to_json).
struct SlurmOptions {
  std::string partition, time, mem, account, qos;
  int cpus_per_task = 1;            // = OpenMP threads per task
  int max_running = 0;              // array tasks running at once (--array=…%N); 0: no limit
  std::vector<std::string> sbatch_lines;  // extra options, each becomes "#SBATCH <line>"
  std::string prelude_file;         // shell lines run before the task (module load …)
  int signal_seconds = 120;         // USR1 this long before the time limit (--signal=B:USR1@N)
  int max_timeout_requeues = 3;     // self-requeues after a time-limit warning, per Slurm job
                                    // id (one array task; a requeue keeps its id)
};

std::string to_json(const SlurmOptions& options);

// Checks the options on their own (values in range, nothing sbatch would misread, no
// --sbatch line for an option the executor sets): kBadInput.
Status check_options(const SlurmOptions& options);

// What a job array's script needs besides the options.
struct ArrayScript {
  std::string sweep;
  std::string stodepth;    // absolute path of the stodepth executable the tasks run
  std::string shard_dir;   // absolute; task i runs the job of shard <shard_dir>/<keys[i]>.db
  std::string work_dir;    // the tasks' working directory (relative dataset.dir resolves there)
  std::vector<std::string> keys;
  int64_t checkpoint_every = 100;
};

// The batch script of one job array of `script.keys.size()` tasks. Fails (kBadInput) when a
// path cannot be written into it or the prelude file cannot be read.
Result<std::string> batch_script(const SlurmOptions& options, const ArrayScript& script);

// Checks that Slurm can take a submission before anything is written: sbatch and squeue
// are found, the partition exists (scontrol), and sbatch --test-only accepts `script_path`.
// Each failure is one kBadInput line naming the problem.
Status check_submission(const SlurmOptions& options, const std::string& script_path);

// Submits the batch script at `script_path`; returns the job id. A rejection is a
// kBadInput Error with sbatch's own message.
Result<std::string> submit(const std::string& script_path);

// An array task ("123_4") as squeue shows it.
struct QueuedTask {
  std::string state;   // PENDING, RUNNING, COMPLETED, TIMEOUT, …
  std::string reason;  // squeue's %r: why pending, or why it ended ("None")
};

// True for the states of a task that is still pending, running or held: one that must not
// be submitted again.
bool is_active(const std::string& state);

// The tasks of the given array jobs that squeue still knows (recently ended ones included),
// by "jobid_index". Jobs Slurm has forgotten are absent.
Result<std::map<std::string, QueuedTask>> queued_tasks(const std::vector<std::string>& job_ids);

// Asks Slurm to requeue array task `slurm_job_id` (the task's SLURM_JOB_ID); the job must
// have been submitted with --requeue.
Status requeue(const std::string& slurm_job_id);

}  // namespace stodepth::harness
