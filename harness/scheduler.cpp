#include "harness/scheduler.h"

#include "harness/machine.h"

namespace stodepth::harness {

Result<LaunchSummary> launch(const sweeps::Sweep& sweep, const LaunchOptions& options,
                             Executor& executor, LaunchObserver& observer) {
  auto plan = plan_launch(sweep, options);
  if (!plan) return plan.error();
  if (plan->refusal) return *plan->refusal;
  const std::string checkpoints = checkpoint_dir(options.db_path);
  // Finished runs whose checkpoint a crash left behind (killed between the final commit
  // and the deletion).
  if (!options.keep_checkpoints)
    for (const auto& [key, run] : plan->stored.runs)
      if (run.state == results::RunState::kDone || run.state == results::RunState::kDiverged)
        remove_checkpoint(checkpoint_path(checkpoints, key));
  observer.on_plan(*plan);
  const RunnerSetup setup{options.db_path,
                          checkpoints,
                          launcher_id(),
                          collect_machine_facts(plan->layout.threads_per_job),
                          options.retry_failed,
                          options.checkpoint_every,
                          options.keep_checkpoints};
  return executor.execute(*plan, setup, observer);
}

}  // namespace stodepth::harness
