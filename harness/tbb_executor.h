// Runs a plan's jobs in this process: a TBB pool of plan.layout.jobs workers sharing one
// JobRunner, each training with its own oneDNN primitives and OpenMP threads while one
// writer thread streams every job's records to the store. Failures are isolated per job.
#pragma once

#include "harness/executor.h"

namespace stodepth::harness {

class TbbExecutor : public Executor {
 public:
  Result<LaunchSummary> execute(const Plan& plan, const RunnerSetup& setup,
                                JobObserver& observer) override;
};

}  // namespace stodepth::harness
