#include "harness/plan.h"

#include <fmt/format.h>
#include <omp.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <tuple>

#include "harness/machine.h"
#include "model/base/check.h"
#include "model/config/flops.h"
#include "model/config/settings.h"
#include "model/config/survival.h"
#include "model/engine_info.h"
#include "sweeps/job_changes.h"

namespace stodepth::harness {

Layout choose_layout(const LaunchOptions& options, int sweep_jobs, int cores) {
  cores = std::max(cores, 1);
  Layout layout;
  if (options.jobs > 0) {
    layout.jobs = options.jobs;
  } else {
    layout.jobs =
        options.threads_per_job > 0 ? std::max(cores / options.threads_per_job, 1) : cores;
    layout.jobs = std::min(layout.jobs, std::max(sweep_jobs, 1));  // no idle workers
  }
  layout.threads_per_job =
      options.threads_per_job > 0 ? options.threads_per_job : std::max(cores / layout.jobs, 1);
  return layout;
}

double estimated_cost(const TrainConfig& c, int64_t train_examples) {
  const int64_t per_epoch = std::max<int64_t>(train_examples / std::max(c.train.batch, 1), 1);
  return double(total_iterations(c, per_epoch)) * estimated_step_cost(c);
}

double estimated_step_cost(const TrainConfig& c) {
  const ConvFlops flops = conv_flops(c.model, input_shape_of(c.data.name));
  const auto computed = residual_compute_probabilities(c.sd, c.model.blocks());
  return c.train.batch * expected_conv_flops(flops, computed);
}

bool DataOptionsLess::operator()(const data::DataOptions& a, const data::DataOptions& b) const {
  return std::tie(a.name, a.dir, a.train_subset, a.test_subset, a.synthetic_seed, a.extra,
                  a.validation, a.validation_seed) <
         std::tie(b.name, b.dir, b.train_subset, b.test_subset, b.synthetic_seed, b.extra,
                  b.validation, b.validation_seed);
}

const data::Dataset& Plan::dataset_of(const sweeps::Job& job) const {
  const auto it = datasets.find(job.config.data);
  STODEPTH_CHECK(it != datasets.end(), "dataset_of: not a job the plan runs");
  return *it->second;
}

namespace {

bool selected(const std::string& key, const std::vector<std::string>& only) {
  if (only.empty()) return true;
  return std::any_of(only.begin(), only.end(),
                     [&](const std::string& prefix) { return key.rfind(prefix, 0) == 0; });
}

std::string_view data_dir_key() {
  return setting_of(&TrainConfig::data, &data::DataOptions::dir).key;
}

// Loads a dataset for the plan. A sweep's data directory that is not there is named with the
// sweep's fix (the loader's own message speaks of `train`'s --data-dir).
Result<std::shared_ptr<const data::Dataset>> load_for(const sweeps::Sweep& sweep,
                                                      const data::DataOptions& options) {
  std::error_code ec;
  if (!options.dir.empty() && !std::filesystem::is_directory(options.dir, ec))
    return bad_input(fmt::format(
        "{}: {} of sweep '{}' ({}) not found (put the extracted dataset there, or set {} in the "
        "sweep file to where it is)",
        options.dir, data_dir_key(), sweep.name, options.name, data_dir_key()));
  auto loaded = data::load_dataset(options);
  if (!loaded)
    return Error{loaded.error().kind, fmt::format("sweep '{}': dataset {}: {}", sweep.name,
                                                  options.name, loaded.error().message)};
  return std::make_shared<const data::Dataset>(std::move(*loaded));
}

// Why this CPU cannot train some of `to_run` at their precision (bf16 without bf16
// arithmetic), or nullopt.
std::optional<Error> precision_refusal(const sweeps::Sweep& sweep,
                                       const std::vector<PlannedJob>& to_run) {
  std::optional<Error> first;
  int refused_jobs = 0;
  for (const auto& planned : to_run)
    if (auto supported = check_precision(planned.job->config.train.precision); !supported) {
      if (!first) first = supported.error();
      ++refused_jobs;
    }
  if (!first) return std::nullopt;
  return Error{first->kind, fmt::format("sweep '{}', {} job{} to run: {}", sweep.name, refused_jobs,
                                        refused_jobs == 1 ? "" : "s", first->message)};
}

// Refuses `plan`: nothing of it runs.
Plan refused(Plan plan, Error why) {
  plan.refusal = std::move(why);
  plan.to_run.clear();
  return plan;
}

// True if `host` ("hostname:pid") cannot be holding a run: a process of this machine that
// no longer exists, or this very process (a launcher that just started holds nothing; a
// restarted container often reuses both the hostname and the PID).
bool is_stale_launcher(const std::string& host) {
  if (host.rfind("slurm:", 0) == 0) return false;  // a Slurm task's: the Slurm executor's call
  const std::string ours = launcher_id();
  if (host == ours) return true;
  const auto colon = host.rfind(':');
  if (colon == std::string::npos) return false;
  if (host.substr(0, colon) != ours.substr(0, ours.rfind(':'))) return false;
  const pid_t pid = static_cast<pid_t>(std::atoll(host.c_str() + colon + 1));
  return pid > 0 && kill(pid, 0) != 0 && errno == ESRCH;
}

}  // namespace

results::SweepRecord sweep_record(const sweeps::Sweep& sweep) {
  return {sweep.name, sweep.description, sweep.source_text, sweep.source_hash};
}

results::JobRecord job_record(const sweeps::Sweep& sweep, const sweeps::Job& job) {
  return {job.key, sweep.name, job.config, job.config_json};
}

Status record_sweep(results::Store& store, const sweeps::Sweep& sweep) {
  if (auto s = store.register_sweep(sweep_record(sweep)); !s) return s;
  std::vector<results::JobRecord> records;
  for (const auto& job : sweep.jobs) records.push_back(job_record(sweep, job));
  return store.add_jobs(records);
}

namespace {

// Records an accepted plan's sweep and jobs and releases the runs that launchers which died
// left `running`; returns the database's view afterwards.
Result<DatabaseView> register_plan(results::Store& store, const sweeps::Sweep& sweep) {
  auto before = read_database_view(store, sweep);
  if (!before) return before;
  if (before->stored_text_outdated)
    if (auto s = store.update_sweep_text(sweep_record(sweep)); !s) return s.error();
  if (auto s = record_sweep(store, sweep); !s) return s.error();
  // Runs left `running` by a launcher that was killed are resumable; those of a live
  // launcher (another process on this sweep) are not touched.
  auto view = read_database_view(store, sweep);
  if (!view) return view;
  std::set<std::string> stale_hosts;
  for (const auto& [key, run] : view->runs)
    if (run.state == results::RunState::kRunning && is_stale_launcher(run.host))
      stale_hosts.insert(run.host);
  for (const auto& host : stale_hosts)
    if (auto s = store.release_stale_runs(sweep.name, host); !s) return s.error();
  if (stale_hosts.empty()) return view;
  return read_database_view(store, sweep);
}

// How `sweep` differs from the stored sweep of its name, whose definition hash is another.
Status compare_with_stored(results::Store& store, const sweeps::Sweep& sweep, DatabaseView& view) {
  auto stored_runs = store.runs(sweep.name);
  if (!stored_runs) return stored_runs.error();
  std::vector<sweeps::StoredJob> stored;
  for (const auto& run : *stored_runs) stored.push_back({run.key, run.config_json});
  const sweeps::JobChanges changes = sweeps::compare_jobs(stored, sweep);
  if (!changes.only_adds()) {
    view.lost_jobs = changes.lost;
    return ok_status();
  }
  view.definition_hash = sweep.source_hash;
  view.stored_text_outdated = true;
  if (!changes.added.empty())
    view.extension = Extension{int(changes.added.size()), changes.new_values};
  return ok_status();
}

}  // namespace

bool is_finished(results::RunState state, bool retry_failed) {
  return state == results::RunState::kDone ||
         ((state == results::RunState::kFailed || state == results::RunState::kDiverged) &&
          !retry_failed);
}

Result<DatabaseView> read_database_view(results::Store& store, const sweeps::Sweep& sweep) {
  DatabaseView view;
  auto sweeps = store.sweeps();
  if (!sweeps) return sweeps.error();
  for (const auto& s : *sweeps) {
    if (s.name != sweep.name) continue;
    view.definition_hash = s.source_hash;
    if (s.source_hash != sweep.source_hash)
      if (auto compared = compare_with_stored(store, sweep, view); !compared)
        return compared.error();
  }
  auto runs = store.runs(std::nullopt);
  if (!runs) return runs.error();
  std::set<std::string> keys;
  for (const auto& job : sweep.jobs) keys.insert(job.key);
  for (const auto& r : *runs) {
    if (!keys.count(r.key)) continue;
    view.runs[r.key] = {r.state, r.threads, r.host};
    if (r.sweep != sweep.name && r.state == results::RunState::kDone) ++view.reused[r.sweep];
  }
  return view;
}

Plan make_plan(const sweeps::Sweep& sweep, const LaunchOptions& options, const DatabaseView& stored,
               int cores, Datasets datasets) {
  Plan plan;
  plan.sweep = &sweep;
  plan.stored = stored;
  // From the sweep's size, not from what is left: every run of a sweep then trains with the
  // same thread count in every launch, so resumed runs stay bit-identical and step times
  // comparable.
  plan.layout = choose_layout(options, int(sweep.jobs.size()), cores);
  if (std::none_of(sweep.jobs.begin(), sweep.jobs.end(),
                   [&](const sweeps::Job& job) { return selected(job.key, options.only); }))
    return refused(std::move(plan),
                   bad_input(fmt::format("--only: no job of sweep '{}' has a key starting with "
                                         "{} (see 'launch --dry-run')",
                                         sweep.name, fmt::join(options.only, " or "))));
  if (stored.definition_hash && *stored.definition_hash != sweep.source_hash)
    return refused(std::move(plan),
                   results::redefined_sweep_error(options.db_path, sweep.name, stored.lost_jobs));

  for (const auto& job : sweep.jobs) {
    if (!selected(job.key, options.only)) {
      ++plan.not_selected;
      continue;
    }
    PlannedJob planned;
    planned.job = &job;
    if (const auto it = stored.runs.find(job.key); it != stored.runs.end()) {
      planned.state = it->second.state;
      planned.previous_threads = it->second.threads;
    }
    if (planned.state && is_finished(*planned.state, options.retry_failed)) {
      ++plan.finished;
      continue;
    }
    plan.to_run.push_back(planned);
  }
  // Longest first: the sweep ends sooner when the big jobs do not start last.
  std::stable_sort(plan.to_run.begin(), plan.to_run.end(),
                   [](const PlannedJob& a, const PlannedJob& b) {
                     const int64_t n = 60000;  // relative cost only: the same count for all
                     return estimated_cost(a.job->config, n) > estimated_cost(b.job->config, n);
                   });

  if (options.trains_here)
    if (auto refusal = precision_refusal(sweep, plan.to_run))
      return refused(std::move(plan), std::move(*refusal));

  // Each distinct dataset once; one the caller already loaded is reused.
  for (const auto& planned : plan.to_run) {
    const data::DataOptions& data_options = planned.job->config.data;
    if (plan.datasets.count(data_options)) continue;
    if (const auto loaded = datasets.find(data_options); loaded != datasets.end()) {
      plan.datasets.insert(*loaded);
      continue;
    }
    auto loaded = load_for(sweep, data_options);
    if (!loaded) return refused(std::move(plan), loaded.error());
    plan.datasets.emplace(data_options, std::move(*loaded));
  }
  return plan;
}

std::vector<std::string> plan_notes(const Plan& plan) {
  if (plan.refusal) return {};
  std::vector<std::string> notes;
  if (const auto& extension = plan.stored.extension)
    notes.push_back(fmt::format(
        "extends sweep '{}': +{} job{}{}", plan.sweep->name, extension->jobs,
        extension->jobs == 1 ? "" : "s",
        extension->new_values.empty() ? "" : fmt::format(" ({})", extension->new_values)));
  for (const auto& [other, n] : plan.stored.reused)
    notes.push_back(fmt::format("{} job{} already done under sweep '{}' and {} reused", n,
                                n == 1 ? " is" : "s are", other, n == 1 ? "is" : "are"));
  return notes;
}

std::string describe(const Plan& plan) {
  if (plan.refusal) return plan.refusal->message;
  const int threads = plan.layout.threads_per_job;
  std::string text;
  for (const auto& note : plan_notes(plan)) text += note + "\n";
  return text + fmt::format("{} jobs to run, {} already finished; {} at a time, {} thread{} each",
                            plan.to_run.size(), plan.finished, plan.layout.jobs, threads,
                            threads == 1 ? "" : "s");
}

Result<Plan> plan_dry_run(const sweeps::Sweep& sweep, const LaunchOptions& options) {
  DatabaseView stored;
  std::error_code ec;
  if (std::filesystem::exists(options.db_path, ec)) {
    auto store = results::Store::open(options.db_path, results::OpenMode::kReadOnly);
    if (!store) return store.error();
    auto view = read_database_view(**store, sweep);
    if (!view) return view.error();
    stored = std::move(*view);
  }
  return make_plan(sweep, options, stored, omp_get_num_procs());
}

Result<Plan> plan_launch(const sweeps::Sweep& sweep, const LaunchOptions& options) {
  // Planned read-only first, exactly as a dry run: a refused launch writes nothing, not even
  // a migration of an older schema, and creates no database.
  auto plan = plan_dry_run(sweep, options);
  if (!plan || plan->refusal) return plan;
  std::error_code ec;
  const auto parent = std::filesystem::path(options.db_path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  auto store = results::Store::open(options.db_path, results::OpenMode::kReadWrite);
  if (!store) return store.error();
  auto registered = register_plan(**store, sweep);
  if (!registered) return registered.error();
  // Once registered, the stored sweep is the file's: what it extended is known from before.
  registered->extension = plan->stored.extension;
  return make_plan(sweep, options, *registered, omp_get_num_procs(), std::move(plan->datasets));
}

}  // namespace stodepth::harness
