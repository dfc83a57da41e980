#include "harness/slurm/launch_preparation.h"

#include <utility>

#include "harness/slurm/shards.h"

namespace stodepth::harness {

Result<SlurmLaunchPlan> prepare_slurm_launch(const sweeps::Sweep& sweep,
                                             const LaunchOptions& options, const SlurmLaunch& slurm,
                                             SlurmChecks checks) {
  if (auto checked = check_options(slurm.options); !checked) return checked.error();
  // Each task checks its node's CPU (bf16) before training: this machine may not be one.
  LaunchOptions on_nodes = options;
  on_nodes.trains_here = false;
  auto plan = plan_dry_run(sweep, on_nodes);
  if (!plan) return plan.error();
  if (plan->refusal) return *plan->refusal;
  const std::string dir = shard_dir(options.db_path);
  auto submission = plan_submission(*plan, plan->stored, options.retry_failed, dir);
  if (!submission) return submission.error();
  auto arrays =
      submission_scripts(slurm, sweep, submission->to_submit, dir, options.checkpoint_every);
  if (!arrays) return arrays.error();
  if (checks == SlurmChecks::kWithSlurm)
    if (auto checked = check_slurm_launch(slurm, dir, *arrays); !checked) return checked.error();
  return SlurmLaunchPlan{std::move(*plan), std::move(*submission), std::move(*arrays), dir};
}

}  // namespace stodepth::harness
