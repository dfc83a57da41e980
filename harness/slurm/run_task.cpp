#include "harness/slurm/run_task.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "harness/machine.h"
#include "harness/slurm/slurm.h"
#include "model/checkpoint.h"
#include "sweeps/sweep.h"

namespace stodepth::harness {

std::atomic<StopCause>& stop_cause() {
  static std::atomic<StopCause> cause{StopCause::kNone};
  return cause;
}

const char* to_string(StopCause cause) {
  switch (cause) {
    case StopCause::kNone: return "none";
    case StopCause::kTimeLimit: return "time-limit";
    case StopCause::kTerminated: return "terminated";
    case StopCause::kInterrupted: return "interrupted";
  }
  return "?";
}

namespace {

// The shard's job, rebuilt from the sweep the shard holds (its source text expands to the
// same jobs, dataset.dir included, which the stored config leaves out).
struct ShardJob {
  sweeps::Sweep sweep;
  results::RunRow run;
  const sweeps::Job* job = nullptr;
};

Result<ShardJob> read_shard_job(results::Store& shard, const std::string& path,
                                const std::string& key) {
  auto sweeps = shard.sweeps();
  if (!sweeps) return sweeps.error();
  auto runs = shard.runs(std::nullopt);
  if (!runs) return runs.error();
  const auto run = std::find_if(runs->begin(), runs->end(),
                                [&](const results::RunRow& r) { return r.key == key; });
  const auto not_a_shard = [&](const std::string& why) {
    return damaged_file(fmt::format("{}: not a store shard of job {}: {} (delete it; launch "
                                    "creates it again)",
                                    path, key, why));
  };
  if (sweeps->size() != 1 || run == runs->end()) return not_a_shard("no such run");
  ShardJob shard_job;
  auto sweep = sweeps::parse_sweep(sweeps->front().source_text, path);
  if (!sweep) return not_a_shard(sweep.error().message);
  shard_job.sweep = std::move(*sweep);
  shard_job.run = *run;
  for (const auto& job : shard_job.sweep.jobs)
    if (job.key == key) shard_job.job = &job;
  if (!shard_job.job) return not_a_shard("its sweep has no such job");
  return shard_job;
}

}  // namespace

Result<TaskOutcome> run_task(const TaskOptions& options, JobObserver& observer) {
  namespace fs = std::filesystem;
  const std::string dir = fs::absolute(options.shard).parent_path().string();
  const std::string key = fs::path(options.shard).stem().string();
  if (!fs::exists(options.shard))
    return bad_input(fmt::format("{}: no store shard there (launch --executor slurm creates "
                                 "it; was the shard directory moved?)",
                                 options.shard));
  auto store = results::Store::open(options.shard, results::OpenMode::kReadWrite);
  if (!store) return store.error();
  auto shard_job = read_shard_job(**store, options.shard, key);
  if (!shard_job) return shard_job.error();
  const sweeps::Job& job = *shard_job->job;
  const results::RunRow& run = shard_job->run;
  TaskOutcome outcome;
  switch (run.state) {
    case results::RunState::kDone:
    case results::RunState::kFailed:
    case results::RunState::kDiverged:
      outcome.state = run.state;
      outcome.message = "already ended; launch or merge folds it into the database";
      return outcome;
    case results::RunState::kRunning:
      // One task at a time runs a shard's job: one still `running` was killed (SIGKILL, a
      // node failure) and resumes from its checkpoint.
      observer.on_notice(fmt::format("{}: taken over from {}, which left it running", key,
                                     run.host));
      if (auto s = (*store)->release_stale_runs(shard_job->sweep.name, run.host); !s)
        return s.error();
      break;
    default: break;
  }
  auto dataset = data::load_dataset(job.config.data);
  if (!dataset) {
    // Stored with the run, so that status and the merged database say why it failed.
    const std::string why = fmt::format("dataset {}: {}", job.config.data.name,
                                        dataset.error().message);
    if (auto claimed = (*store)->claim_run(key, true, launcher_id(), options.threads); !claimed)
      return claimed.error();
    if (auto s = (*store)->finish_run(key, results::RunState::kFailed, nullptr, why); !s)
      return s.error();
    outcome.state = results::RunState::kFailed;
    outcome.message = why;
    return outcome;
  }

  RunnerSetup setup;
  setup.db_path = options.shard;
  setup.checkpoint_dir = dir;
  setup.host = launcher_id();
  setup.machine = collect_machine_facts(options.threads);
  setup.checkpoint_every = options.checkpoint_every;
  auto runner = JobRunner::open(setup);
  if (!runner) return runner.error();
  const JobOutcome ran = (*runner)->run(job, run.threads, *dataset, observer);
  if (auto closed = (*runner)->close(); !closed) return closed.error();
  if (ran.storage_error) return *ran.storage_error;
  if (!ran.state) return internal_error(fmt::format("{}: the shard's run could not be claimed",
                                                    options.shard));
  outcome.state = *ran.state;
  outcome.message = ran.message;
  const StopCause cause = stop_cause().load();
  if (outcome.state != results::RunState::kInterrupted || cause == StopCause::kNone)
    return outcome;

  // Stopped by a signal, checkpointed: record why, and requeue after a time-limit warning
  // unless this task has already done so max_timeout_requeues times.
  results::RunStop stop;
  stop.cause = to_string(cause);
  stop.slurm_job = options.slurm_job_id;
  if (auto checkpoint = read_checkpoint(checkpoint_path(dir, key)); checkpoint)
    stop.iteration = checkpoint->iteration;
  bool requeue_now = false;
  if (cause == StopCause::kTimeLimit && !options.slurm_job_id.empty()) {
    auto stops = (*store)->stops(key);
    if (!stops) return stops.error();
    const auto requeues = std::count_if(stops->begin(), stops->end(), [&](const auto& s) {
      return s.cause == stop.cause && s.slurm_job == stop.slurm_job && s.requeued;
    });
    requeue_now = requeues < options.max_timeout_requeues;
    if (!requeue_now)
      observer.on_notice(fmt::format("{}: not requeued: {} time-limit requeues already "
                                     "(--max-timeout-requeues); launch resubmits it",
                                     key, requeues));
  }
  // Recorded before the requeue: Slurm kills a requeued task after its grace time, and the
  // requeue bound counts the stops stored.
  stop.requeued = requeue_now;
  if (auto s = (*store)->record_stop(key, stop); !s) return s.error();
  if (requeue_now) {
    if (auto requeued = requeue(options.slurm_job_id); requeued) {
      outcome.requeued = true;
    } else {
      observer.on_notice(requeued.error().message + " (the task exits; launch resubmits it)");
    }
  }
  return outcome;
}

}  // namespace stodepth::harness
