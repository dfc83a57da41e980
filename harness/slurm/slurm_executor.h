// The cluster executor: submits a plan's jobs to Slurm as one job array whose task i runs
// job i into its store shard (harness/slurm/shards.h) through `stodepth run-task`
// (harness/run_task.h). Before submitting, every ended shard is merged into the database and
// the runs whose task Slurm no longer knows are released, so that a launch resubmits exactly
// the jobs that are neither finished nor pending or running in Slurm.
#pragma once

#include <string>
#include <vector>

#include "harness/executor.h"
#include "harness/plan.h"
#include "harness/slurm/slurm.h"
#include "sweeps/sweep.h"

namespace stodepth::harness {

// Slurm allows 1001 array indices by default (MaxArraySize): larger submissions are split.
inline constexpr size_t kMaxArrayTasks = 1000;

struct SlurmLaunch {
  SlurmOptions options;
  std::string stodepth;  // absolute path of this executable (on the shared filesystem)
  std::string work_dir;  // where the tasks start (relative dataset.dir resolves there)
};

// Which of a plan's jobs a Slurm launch submits, from the database's `view` of them.
struct SubmissionPlan {
  std::vector<const sweeps::Job*> to_submit;  // in plan order (longest first)
  int finished = 0;        // finished in the database (merged)
  int active = 0;          // pending, running or held in Slurm: never submitted twice
  int ended_in_shard = 0;  // ended in their shard, merged by the launch
  int held_locally = 0;    // running under a local launcher
  std::vector<std::string> gone;  // "slurm:<job>_<i>" holders Slurm no longer runs
};
Result<SubmissionPlan> plan_submission(const Plan& plan, const DatabaseView& view,
                                       bool retry_failed, const std::string& shard_dir);

// One job array to submit: its jobs (task i runs jobs[i]) and its batch script.
struct ArraySubmission {
  std::vector<const sweeps::Job*> jobs;
  std::string script;
};
// The job arrays that would submit `jobs`, each of at most kMaxArrayTasks.
Result<std::vector<ArraySubmission>> submission_scripts(
    const SlurmLaunch& launch, const sweeps::Sweep& sweep,
    const std::vector<const sweeps::Job*>& jobs, const std::string& shard_dir,
    int64_t checkpoint_every);

// Everything a launch checks before it writes: the options, that the shard directory can be
// written, that Slurm's commands answer, the partition exists and sbatch --test-only accepts
// the first array's script. One kBadInput line per problem.
Status check_slurm_launch(const SlurmLaunch& launch, const std::string& shard_dir,
                          const std::vector<ArraySubmission>& arrays);

class SlurmExecutor : public Executor {
 public:
  explicit SlurmExecutor(SlurmLaunch launch) : launch_(std::move(launch)) {}
  // Under a lock on the shard directory (one Slurm launch of a database at a time): merges
  // ended shards, releases runs Slurm has forgotten, then creates the shards of the jobs to
  // submit, submits them and records each submission. A rejected submission removes the
  // shards it created and records nothing; after Ctrl-C no further array is submitted.
  Result<LaunchSummary> execute(const Plan& plan, const RunnerSetup& setup,
                                JobObserver& observer) override;

 private:
  SlurmLaunch launch_;
};

}  // namespace stodepth::harness
