#include "harness/tbb_executor.h"

#include <atomic>
#include <mutex>

#include <tbb/task_arena.h>
#include <tbb/task_group.h>

namespace stodepth::harness {

Result<LaunchSummary> TbbExecutor::execute(const Plan& plan, const RunnerSetup& setup,
                                           JobObserver& observer) {
  LaunchSummary summary;
  summary.skipped = plan.finished;
  auto opened = JobRunner::open(setup);
  if (!opened) {
    if (opened.error().kind != ErrorKind::kStorage) return opened.error();
    summary.storage_error = opened.error();
    return summary;
  }
  JobRunner& runner = **opened;
  std::mutex summary_mutex;
  auto storage_failed = [&] {
    std::lock_guard lock(summary_mutex);
    return summary.storage_error.has_value() || !runner.healthy();
  };

  // `jobs` workers take jobs from the plan's list in order (a task_group alone would run
  // its most recently spawned task first and lose the longest-first order).
  const int workers = plan.layout.jobs;
  std::atomic<size_t> next{0};
  tbb::task_arena arena(workers);
  tbb::task_group group;
  arena.execute([&] {
    for (int w = 0; w < workers; ++w)
      group.run([&] {
        for (size_t i = next++; i < plan.to_run.size(); i = next++) {
          if (stop_requested() || storage_failed()) continue;  // no new work on a failing disk
          const sweeps::Job& job = *plan.to_run[i].job;
          const JobOutcome outcome = runner.run(job, plan.to_run[i].previous_threads,
                                                plan.dataset_of(job), observer);
          std::lock_guard lock(summary_mutex);
          summary.add(outcome);
        }
      });
    group.wait();
  });
  const Status closed = runner.close();
  const auto writer_stats = runner.writer_stats();
  // TBB's wait() orders the workers' writes before this, but TSan cannot see that in the
  // uninstrumented TBB library; the lock makes it visible.
  std::lock_guard lock(summary_mutex);
  if (!closed && !summary.storage_error) summary.storage_error = closed.error();
  summary.writer_busy_ms = writer_stats.busy_ms;
  summary.writer_transactions = writer_stats.transactions;
  return summary;
}

}  // namespace stodepth::harness
