#include "harness/status.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <set>

#include "harness/plan.h"
#include "harness/slurm/shards.h"
#include "harness/slurm/slurm.h"
#include "model/base/did_you_mean.h"
#include "model/config/distinguishing.h"
#include "model/data/dataset.h"

namespace stodepth::harness {

namespace {

using results::RunState;

// The settings that differ among `runs`, and bf16 precision (settings_to_show).
std::vector<const Setting*> varying_among(const std::vector<results::RunRow>& runs) {
  std::vector<const TrainConfig*> configs;
  for (const auto& run : runs) configs.push_back(&run.config);
  return configs.empty() ? std::vector<const Setting*>{} : settings_to_show(configs);
}

std::string describe_stop(const results::RunStop& stop) {
  const std::string why = stop.cause == "time-limit" ? "time-limit warning"
                          : stop.cause == "terminated"
                              ? "SIGTERM (cancelled, preempted or out of time)"
                              : stop.cause;
  return fmt::format("{} at iteration {}, {}", why, stop.iteration,
                     stop.requeued ? "requeued itself" : "exited (launch resubmits it)");
}

// The iterations a config trains: fixed by it, or from its training set's size (each distinct
// dataset loaded once per process, so that a server asking every second reads it once; a
// dataset that did not load is tried again); 0 when that dataset does not load.
class IterationTotals {
 public:
  int64_t of(const TrainConfig& c) {
    if (c.train.iterations > 0) return c.train.iterations;
    const int64_t size = train_size(c.data);
    if (size == 0) return 0;
    return total_iterations(c, size / std::max(c.train.batch, 1));
  }

 private:
  static int64_t train_size(const data::DataOptions& options) {
    static std::mutex mutex;
    static std::map<data::DataOptions, int64_t, DataOptionsLess> sizes;
    std::lock_guard lock(mutex);
    auto it = sizes.find(options);
    if (it != sizes.end()) return it->second;
    auto loaded = data::load_dataset(options);
    if (!loaded) return 0;
    return sizes.emplace(options, int64_t(loaded->train.size())).first->second;
  }
};

// What the database and Slurm's queue hold of the runs asked for.
struct Sources {
  std::string shard_dir;
  std::vector<results::RunRow> runs;
  std::map<std::string, results::SlurmTask> task_of;        // by run key
  std::map<std::string, QueuedTask> queue;                  // by "jobid_index"
  std::map<std::string, results::RunProgress> progress_of;  // running, interrupted runs
  std::vector<const Setting*> varying;                      // settings that differ among runs
};

Status check_sweep_exists(results::Store& store, const std::string& db_path,
                          const std::string& sweep) {
  auto sweeps = store.sweeps();
  if (!sweeps) return sweeps.error();
  std::vector<std::string> names;
  for (const auto& s : *sweeps) names.push_back(s.name);
  if (std::find(names.begin(), names.end(), sweep) != names.end()) return ok_status();
  const std::string hint = closest_match(sweep, names);
  return bad_input(fmt::format("{}: no sweep '{}'{} (stodepth query sweeps lists them)", db_path,
                               sweep,
                               hint.empty() ? "" : fmt::format(", did you mean '{}'?", hint)));
}

Result<Sources> read_sources(results::Store& store, const std::string& db_path,
                             const std::optional<std::string>& sweep) {
  Sources sources;
  sources.shard_dir = shard_dir(db_path);
  auto runs = store.runs(sweep);
  if (!runs) return runs.error();
  sources.runs = std::move(*runs);
  sources.varying = varying_among(sources.runs);
  auto tasks = store.slurm_tasks(sweep);
  if (!tasks) return tasks.error();
  std::set<std::string> job_ids;
  for (const auto& t : *tasks) {
    sources.task_of[t.key] = t;
    job_ids.insert(t.job_id);
  }
  auto queue = queued_tasks({job_ids.begin(), job_ids.end()});
  if (!queue) return queue.error();
  sources.queue = std::move(*queue);
  auto progress = store.run_progress(sweep);
  if (!progress) return progress.error();
  for (auto& p : *progress) sources.progress_of[p.key] = std::move(p);
  return sources;
}

// The job's array task and its state in Slurm; true if Slurm still runs (or holds) it.
bool read_slurm_task(JobStatus& job, const Sources& sources) {
  const auto t = sources.task_of.find(job.key);
  if (t == sources.task_of.end()) return false;
  const std::string id = fmt::format("{}_{}", t->second.job_id, t->second.array_index);
  const auto q = sources.queue.find(id);
  if (q == sources.queue.end()) {
    job.slurm = id + " gone";
    return false;
  }
  job.slurm = fmt::format("{} {}{}", id, q->second.state,
                          q->second.reason == "None" ? "" : " (" + q->second.reason + ")");
  return is_active(q->second.state);
}

// Iteration, pace and note of a job whose store shard exists (a Slurm run not yet merged).
void read_shard_progress(JobStatus& job, const std::string& dir, bool slurm_active) {
  auto shard = read_shard(dir, job.key);
  if (!shard) {
    job.note = shard.error().message;
    return;
  }
  job.shard_state = shard->state;
  job.iteration = shard->iteration;
  job.stops = std::move(shard->stops);
  if (!job.stops.empty()) job.note = describe_stop(job.stops.back());
  if (shard->state != RunState::kRunning) return;
  if (!slurm_active) {
    job.note =
        "its task died without stopping it (SIGKILL, node failure): launch resubmits it, "
        "resuming from its checkpoint";
    return;
  }
  job.step_ms = shard->recent_step_ms;
}

JobStatus job_status(const results::RunRow& run, const Sources& sources, IterationTotals& totals) {
  JobStatus job;
  job.key = run.key;
  job.sweep = run.sweep;
  job.label = job_label(run.config, sources.varying);
  for (const Setting* setting : sources.varying)
    job.settings.emplace_back(setting->key, value_text(*setting, run.config));
  job.state = run.state;
  job.ended = is_finished(run.state, false);
  const bool slurm_active = read_slurm_task(job, sources);
  std::error_code ec;
  if (std::filesystem::exists(shard_path(sources.shard_dir, run.key), ec)) {
    read_shard_progress(job, sources.shard_dir, slurm_active);
  } else if (const auto p = sources.progress_of.find(run.key); p != sources.progress_of.end()) {
    job.iteration = p->second.iteration;  // a local launcher's run
    // An interrupted run keeps its iteration (it resumes near there) but has no pace now.
    if (run.state == RunState::kRunning) job.step_ms = p->second.recent_step_ms;
  } else if (job.ended) {
    job.merged = sources.task_of.count(run.key) > 0;
    job.note = run.error;
  }
  if (job.ended) return job;
  job.total = totals.of(run.config);
  if (job.running() && job.total > 0)
    job.eta_seconds = double(std::max<int64_t>(job.total - job.iteration, 0)) * job.step_ms / 1000;
  return job;
}

// Milliseconds per unit of estimated_step_cost, measured on the running and done runs: the
// mean over those runs (none measured: nullopt).
std::optional<double> measured_ms_per_cost(const SweepStatus& status,
                                           const std::vector<results::RunRow>& runs) {
  double sum = 0;
  int n = 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    const JobStatus& job = status.jobs[i];
    const double step_ms = job.running()                  ? job.step_ms
                           : job.state == RunState::kDone ? runs[i].mean_step_ms.value_or(0)
                                                          : 0;
    const double cost = estimated_step_cost(runs[i].config);
    if (step_ms <= 0 || cost <= 0) continue;
    sum += step_ms / cost;
    ++n;
  }
  if (n == 0) return std::nullopt;
  return sum / n;
}

// The jobs not running yet from the measured pace; then the sweep's ETA (SweepStatus).
void estimate(SweepStatus& status, const std::vector<results::RunRow>& runs) {
  const auto ms_per_cost = measured_ms_per_cost(status, runs);
  double work = 0, longest = 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    JobStatus& job = status.jobs[i];
    if (job.ended) continue;
    ++status.left;
    if (!job.running() && ms_per_cost && job.total > 0)
      job.eta_seconds = double(job.total - job.iteration) * estimated_step_cost(runs[i].config) *
                        *ms_per_cost / 1000;
    if (job.running()) {
      ++status.running;
      longest = std::max(longest, job.eta_seconds.value_or(0));
    }
    if (job.eta_seconds)
      work += *job.eta_seconds;
    else
      ++status.unknown;
  }
  if (status.left == 0) status.eta_seconds = 0;
  if (status.running > 0 && status.unknown == 0)
    status.eta_seconds = std::max(longest, work / status.running);
}

}  // namespace

std::string job_label(const TrainConfig& c, const std::vector<const Setting*>& shown) {
  static const Setting* const fixed[] = {
      &setting_of(&TrainConfig::model, &ModelConfig::depth),
      &setting_of(&TrainConfig::sd, &StochasticDepthConfig::rule),
      &setting_of(&TrainConfig::sd, &StochasticDepthConfig::p_L),
      &setting_of(&TrainConfig::train, &TrainSettings::seed)};
  std::string label = fmt::format("d{} {} p_L={} seed {}", c.model.depth, to_string(c.sd.rule),
                                  c.sd.p_L, c.train.seed);
  for (const Setting* setting : shown)
    if (std::find(std::begin(fixed), std::end(fixed), setting) == std::end(fixed))
      label += fmt::format(" {}={}", short_name(*setting), value_text(*setting, c));
  return label;
}

Result<SweepStatus> sweep_status(results::Store& store, const std::string& db_path,
                                 const std::optional<std::string>& sweep) {
  if (sweep)
    if (auto exists = check_sweep_exists(store, db_path, *sweep); !exists) return exists.error();
  auto sources = read_sources(store, db_path, sweep);
  if (!sources) return sources.error();
  SweepStatus status;
  IterationTotals totals;
  for (const auto& run : sources->runs) {
    JobStatus job = job_status(run, *sources, totals);
    ++status.counts[job.ended                         ? to_string(run.state)
                    : run.state == RunState::kRunning ? "running"
                                                      : "not running"];
    status.jobs.push_back(std::move(job));
  }
  estimate(status, sources->runs);
  if (sweep) {
    auto submissions = store.submissions(*sweep);
    if (!submissions) return submissions.error();
    if (!submissions->empty()) status.last_submission = submissions->back();
  }
  return status;
}

}  // namespace stodepth::harness
