// Launching a sweep: make its plan (refused before anything is written), register it, and
// run its jobs through an executor. The CLI's `launch` is this plus a progress display.
#pragma once

#include "harness/executor.h"
#include "harness/job_runner.h"
#include "harness/plan.h"
#include "model/base/result.h"
#include "sweeps/sweep.h"

namespace stodepth::harness {

// What the launcher shows while jobs run (implemented by the CLI's progress display).
class LaunchObserver : public JobObserver {
 public:
  // Before the first job starts: the registered plan (see describe()).
  virtual void on_plan(const Plan& plan) {}
};

// Plans the sweep (plan_launch), runs the plan's jobs through `executor` and returns what
// they came to; a refused plan is its refusal, as an Error.
Result<LaunchSummary> launch(const sweeps::Sweep& sweep, const LaunchOptions& options,
                             Executor& executor, LaunchObserver& observer);

}  // namespace stodepth::harness
