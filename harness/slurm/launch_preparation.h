// The pre-flight of a Slurm launch, written once for `launch --executor slurm` and its dry
// run: the read-only plan (refused as a local launch would refuse it), which of its jobs are
// submitted and in which job arrays, and — for a real launch — whether Slurm and the shard
// directory would take them. Nothing is written.
#pragma once

#include <string>
#include <vector>

#include "harness/plan.h"
#include "harness/slurm/slurm_executor.h"
#include "model/base/result.h"
#include "sweeps/sweep.h"

namespace stodepth::harness {

// What a Slurm launch of a sweep would submit.
struct SlurmLaunchPlan {
  Plan plan;                            // plan_dry_run's, accepted
  SubmissionPlan submission;            // which of its jobs go to Slurm
  std::vector<ArraySubmission> arrays;  // their job arrays and batch scripts
  std::string shard_dir;
};

enum class SlurmChecks {
  kOffline,   // the options, the plan and the scripts only (a dry run needs no Slurm)
  kWithSlurm  // also the shard directory and Slurm itself (check_slurm_launch)
};

// Checks the options, makes the read-only plan (its refusal is the Error), decides the
// submission and writes the batch scripts, then, with kWithSlurm, asks Slurm whether it would
// take them. The first problem is the Error, one line.
Result<SlurmLaunchPlan> prepare_slurm_launch(const sweeps::Sweep& sweep,
                                             const LaunchOptions& options, const SlurmLaunch& slurm,
                                             SlurmChecks checks);

}  // namespace stodepth::harness
