// `stodepth launch SWEEP.yaml`: run (or resume) a sweep into the results database.
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>

#include "harness/scheduler.h"
#include "harness/slurm/launch_preparation.h"
#include "harness/slurm/slurm_executor.h"
#include "harness/status.h"
#include "harness/tbb_executor.h"
#include "model/config/distinguishing.h"
#include "results/store/columns.h"
#include "tools/commands.h"
#include "tools/parse.h"
#include "tools/progress.h"
#include "tools/table.h"

namespace stodepth::cli {
namespace {

void on_stop_signal(int) {
  const int saved_errno = errno;
  if (harness::stop_requested().exchange(true)) _exit(kExitInterrupted);  // the second Ctrl-C
  const char msg[] =
      "\nstopping: running jobs end at their next iteration (Ctrl-C again to quit now)\n";
  (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
  errno = saved_errno;
}

// Overall bar (jobs done/total, ETA) plus a status line per running job on a terminal;
// a log line per job start/end (and periodic progress) otherwise.
class LaunchDisplay : public harness::LaunchObserver {
 public:
  explicit LaunchDisplay(bool quiet) : progress_(stderr), quiet_(quiet) {}

  void on_plan(const harness::Plan& plan) override {
    total_ = int(plan.to_run.size());
    std::vector<const TrainConfig*> configs;
    for (const auto& job : plan.sweep->jobs) configs.push_back(&job.config);
    if (!configs.empty()) shown_ = settings_to_show(configs);
    if (!quiet_) progress_.note(harness::describe(plan));
  }
  void on_job_start(const sweeps::Job& job) override {
    std::lock_guard lock(mutex_);
    running_[job.key] = job_label(job);
    if (!quiet_) progress_.note("start  " + job_label(job));
    redraw();
  }
  void on_job_iteration(const sweeps::Job& job, const IterationRecord& r, int64_t total) override {
    std::lock_guard lock(mutex_);
    job_fraction_[job.key] = double(r.iteration) / double(std::max<int64_t>(total, 1));
    running_[job.key] =
        fmt::format("{} it {}/{} loss {:.3f}{}", job_label(job), r.iteration, total, r.loss,
                    r.test_accuracy ? fmt::format(" test {:.1f}%", 100 * *r.test_accuracy) : "");
    redraw();
  }
  void on_job_end(const sweeps::Job& job, results::RunState state,
                  const std::string& message) override {
    std::lock_guard lock(mutex_);
    running_.erase(job.key);
    job_fraction_.erase(job.key);
    ++finished_;
    if (!quiet_ || state != results::RunState::kDone)
      progress_.note(fmt::format("{:<6} {}{}", to_string(state), job_label(job),
                                 message.empty() ? "" : ": " + message));
    redraw();
  }
  void on_notice(const std::string& message) override {
    std::lock_guard lock(mutex_);
    progress_.note("note   " + message);
    redraw();
  }
  void finish() { progress_.finish(); }

 private:
  // The key's first 8 characters, then `status`'s label: "3f2a9c1e d20 linear p_L=0.5 seed 1
  // mode=sample".
  std::string job_label(const sweeps::Job& job) const {
    return fmt::format("{} {}", job.key.substr(0, 8), harness::job_label(job.config, shown_));
  }

  void redraw() {
    if (quiet_) return;
    std::vector<std::string> lines;
    for (const auto& [key, line] : running_) lines.push_back(line);
    // Progress in thousandths of a job, counting running jobs' iterations, so the ETA
    // comes from measured throughput before the first job ends.
    double done = finished_;
    for (const auto& [key, fraction] : job_fraction_) done += fraction;
    progress_.update(int64_t(done * 1000), int64_t(total_) * 1000,
                     fmt::format("jobs {}/{}", finished_, total_), lines);
  }

  Progress progress_;
  bool quiet_;
  std::mutex mutex_;
  std::map<std::string, std::string> running_;
  std::map<std::string, double> job_fraction_;
  int total_ = 0, finished_ = 0;
  std::vector<const Setting*> shown_;  // the settings that tell the sweep's jobs apart
};

// --dry-run: the expanded jobs with their status in the database ("new" if absent), then
// the plan's refusal if `launch` would refuse it (the same line and exit code).
CommandResult print_dry_run(const sweeps::Sweep& sweep, const harness::LaunchOptions& options) {
  auto plan = harness::plan_dry_run(sweep, options);
  if (!plan) return plan.error();
  const auto& stored = plan->stored.runs;
  // The parameter columns, then the other settings that tell the jobs apart (e.g. mode).
  std::vector<const TrainConfig*> configs;
  for (const auto& job : sweep.jobs) configs.push_back(&job.config);
  std::vector<const Setting*> varying;
  if (!configs.empty())
    for (const Setting* setting : settings_to_show(configs))
      if (!setting->column) varying.push_back(setting);
  TextTable t;
  t.columns = {"key"};
  for (const auto& column : results::parameter_columns()) t.columns.push_back(column.name);
  for (const Setting* setting : varying) t.columns.push_back(short_name(*setting));
  t.columns.push_back("status");
  for (const auto& job : sweep.jobs) {
    std::vector<std::optional<std::string>> row = {job.key};
    for (const auto& column : results::parameter_columns()) row.push_back(column.text(job.config));
    for (const Setting* setting : varying) row.push_back(value_text(*setting, job.config));
    const auto it = stored.find(job.key);
    row.push_back(it == stored.end() ? "new" : to_string(it->second.state));
    t.rows.push_back(std::move(row));
  }
  print_table(stdout, t, TableFormat::kTable);
  fmt::print("{} jobs in sweep '{}'\n", sweep.jobs.size(), sweep.name);
  for (const auto& note : harness::plan_notes(*plan)) fmt::print("{}\n", note);
  if (plan->refusal) return *plan->refusal;
  return kExitOk;
}

// A Slurm launch runs no job here: it only has notices to show (e.g. a refused shard).
class NoticePrinter : public harness::LaunchObserver {
 public:
  void on_plan(const harness::Plan& plan) override {
    for (const auto& note : harness::plan_notes(plan)) fmt::print(stderr, "note   {}\n", note);
  }
  void on_notice(const std::string& message) override {
    fmt::print(stderr, "note   {}\n", message);
  }
};

// --dry-run --executor slurm: what would be submitted, and the batch script(s).
CommandResult print_slurm_dry_run(const sweeps::Sweep& sweep, const harness::LaunchOptions& options,
                                  const harness::SlurmLaunch& slurm) {
  auto prepared =
      harness::prepare_slurm_launch(sweep, options, slurm, harness::SlurmChecks::kOffline);
  if (!prepared) return prepared.error();
  const auto& arrays = prepared->arrays;
  const auto& submission = prepared->submission;
  for (const auto& array : arrays) fmt::print("{}\n", array.script);
  fmt::print(
      "{} jobs to submit in {} job array{}; {} finished, {} pending or running in "
      "Slurm, {} ended in their shard (merged at launch)\n",
      submission.to_submit.size(), arrays.size(), arrays.size() == 1 ? "" : "s",
      prepared->plan.finished + submission.finished, submission.active, submission.ended_in_shard);
  for (const auto& note : harness::plan_notes(prepared->plan)) fmt::print("{}\n", note);
  return kExitOk;
}

// The absolute path of this executable, which the batch script runs on the nodes.
std::string this_executable() {
  std::error_code ec;
  const auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "stodepth" : path.string();
}

void stop_on_signals() {
  struct sigaction action = {};
  action.sa_handler = on_stop_signal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

// Everything Slurm or the shard directory could refuse is checked before anything is
// written; then the jobs are submitted.
CommandResult launch_on_slurm(const sweeps::Sweep& sweep, const harness::LaunchOptions& options,
                              const harness::SlurmLaunch& slurm) {
  auto prepared =
      harness::prepare_slurm_launch(sweep, options, slurm, harness::SlurmChecks::kWithSlurm);
  if (!prepared) return prepared.error();
  stop_on_signals();
  NoticePrinter notices;
  harness::SlurmExecutor executor(slurm);
  auto summary = harness::launch(sweep, options, executor, notices);
  if (!summary) return summary.error();
  fmt::print(
      "sweep {}: submitted {} job{}{}; {} pending or running in Slurm, {} merged now, "
      "{} finished; follow with: stodepth status {} --db {}\n",
      sweep.name, summary->submitted, summary->submitted == 1 ? "" : "s",
      summary->slurm_jobs.empty()
          ? ""
          : fmt::format(" as Slurm job array {}", fmt::join(summary->slurm_jobs, ", ")),
      summary->in_slurm, summary->merged, summary->skipped, sweep.name, options.db_path);
  return harness::stop_requested() ? kExitInterrupted : kExitOk;
}

void print_local_summary(const sweeps::Sweep& sweep, const harness::LaunchOptions& options,
                         const harness::LaunchSummary& summary) {
  fmt::print(
      "sweep {}: ran {} (done {}, failed {}, diverged {}, interrupted {}{}), skipped {} "
      "already finished{}; results in {}\n",
      sweep.name, summary.ran, summary.done, summary.failed, summary.diverged, summary.interrupted,
      summary.resumed ? fmt::format("; {} resumed from a checkpoint", summary.resumed) : "",
      summary.skipped,
      summary.not_claimed ? fmt::format(", {} run by another launcher", summary.not_claimed) : "",
      options.db_path);
  if (const auto& t = summary.time; summary.images > 0) {
    const double total = t.data_ms + t.network_ms + t.update_ms + t.record_ms;
    const auto share = [&](double ms) { return total > 0 ? 100 * ms / total : 0.0; };
    fmt::print(
        "training time {:.1f} s for {} images: network {:.1f}%, data+gates {:.1f}%, SGD "
        "update {:.1f}%, recording {:.1f}%; database writer {:.1f}% more ({} "
        "transactions)\n",
        total / 1000, summary.images, share(t.network_ms), share(t.data_ms), share(t.update_ms),
        share(t.record_ms), share(summary.writer_busy_ms), summary.writer_transactions);
  }
}

CommandResult launch_locally(const sweeps::Sweep& sweep, const harness::LaunchOptions& options,
                             bool quiet) {
  stop_on_signals();
  LaunchDisplay display(quiet);
  harness::TbbExecutor executor;
  auto summary = harness::launch(sweep, options, executor, display);
  display.finish();
  if (!summary) return summary.error();
  print_local_summary(sweep, options, *summary);
  if (const auto& failed = summary->storage_error)
    return Error{failed->kind, "stopped: " + failed->message};
  if (harness::stop_requested()) return kExitInterrupted;
  return summary->failed + summary->diverged > 0 ? kExitJobsFailed : kExitOk;
}

struct LaunchFlags {
  std::string path;
  harness::LaunchOptions options;
  bool dry_run = false, quiet = false, yes = false;
  std::string executor = "local";
  harness::SlurmLaunch slurm;
};

constexpr const char* kSlurmGroup = "Slurm (with --executor slurm)";

void add_launch_flags(CLI::App& app, LaunchFlags& f) {
  auto& options = f.options;
  app.add_option("sweep", f.path, "Sweep file (YAML)")->required();
  app.add_option("--db", options.db_path, "Results database")->capture_default_str();
  app.add_option("--jobs", options.jobs,
                 "Concurrent trainings (0: one per core, at most one per job of the sweep)")
      ->capture_default_str();
  app.add_option("--threads-per-job", options.threads_per_job,
                 "OpenMP threads per training (0: cores / jobs)")
      ->capture_default_str();
  app.add_flag("--dry-run", f.dry_run, "Print the expanded job table and exit");
  app.add_flag("--retry-failed", options.retry_failed, "Rerun failed and diverged jobs");
  app.add_option("--only", options.only, "Run only these job keys (prefixes)");
  app.add_option("--checkpoint-every", options.checkpoint_every,
                 "Save each run's state every N iterations to resume from (0: never)")
      ->capture_default_str();
  app.add_flag("--keep-checkpoints", options.keep_checkpoints,
               "Keep a run's last checkpoint when it ends");
  app.add_flag("--quiet", f.quiet, "Only print failures and the summary");
  app.add_flag("--yes", f.yes, "Allow a sweep of more than 100000 jobs");
  app.add_option("--executor", f.executor,
                 "Where jobs run: local (this machine) or slurm (a job array; README, \"Running "
                 "on a Slurm cluster\")")
      ->check(CLI::IsMember({"local", "slurm"}))
      ->capture_default_str();
}

void add_slurm_flags(CLI::App& app, harness::SlurmOptions& o) {
  const char* group = kSlurmGroup;
  app.add_option("--partition", o.partition, "sbatch --partition")->group(group);
  app.add_option("--time", o.time, "sbatch --time: each task's time limit (e.g. 4:00:00)")
      ->group(group);
  app.add_option("--cpus-per-task", o.cpus_per_task,
                 "sbatch --cpus-per-task, and each task's OpenMP threads")
      ->capture_default_str()
      ->group(group);
  app.add_option("--mem", o.mem, "sbatch --mem (e.g. 4G)")->group(group);
  app.add_option("--account", o.account, "sbatch --account")->group(group);
  app.add_option("--qos", o.qos, "sbatch --qos")->group(group);
  app.add_option("--max-running", o.max_running,
                 "Array tasks running at once (--array=…%N; 0: no limit)")
      ->capture_default_str()
      ->group(group);
  app.add_option("--sbatch", o.sbatch_lines,
                 "Another sbatch option, written as an #SBATCH line (repeatable; "
                 "e.g. --sbatch=--constraint=avx512)")
      ->group(group);
  app.add_option("--prelude", o.prelude_file,
                 "File of shell lines each task runs first (module load …)")
      ->group(group);
  app.add_option("--signal-seconds", o.signal_seconds,
                 "Warning before the time limit (--signal=B:USR1@N): checkpoint and requeue")
      ->capture_default_str()
      ->group(group);
  app.add_option("--max-timeout-requeues", o.max_timeout_requeues,
                 "Requeues a task may make after time-limit warnings (preemptions: no bound)")
      ->capture_default_str()
      ->group(group);
}

Status check_counts(const harness::LaunchOptions& options) {
  if (options.jobs < 0 || options.threads_per_job < 0)
    return bad_input("--jobs and --threads-per-job must be >= 0 (0: chosen from the cores)");
  if (options.checkpoint_every < 0)
    return bad_input("--checkpoint-every must be >= 0 (0: no checkpoints)");
  return ok_status();
}

// Flags of the other executor are refused rather than ignored; a Slurm launch takes its
// threads from --cpus-per-task and its tasks' paths from here.
Status settle_executor(const CLI::App& app, LaunchFlags& f) {
  const bool on_slurm = f.executor == "slurm";
  for (const auto* flag : app.get_options())
    if (flag->count() > 0 && !on_slurm && flag->get_group() == kSlurmGroup)
      return bad_input(
          fmt::format("{} applies to --executor slurm only (add --executor slurm, "
                      "or drop it)",
                      flag->get_name()));
  if (!on_slurm) return ok_status();
  auto& options = f.options;
  const int cpus = f.slurm.options.cpus_per_task;
  if (app.count("--jobs") > 0)
    return bad_input(
        "--jobs with --executor slurm: each array task runs one job (limit tasks "
        "running at once with --max-running)");
  if (options.threads_per_job > 0 && options.threads_per_job != cpus)
    return bad_input(
        fmt::format("--threads-per-job {} with --executor slurm: each task trains "
                    "with --cpus-per-task threads (pass --cpus-per-task {})",
                    options.threads_per_job, options.threads_per_job));
  options.threads_per_job = cpus;
  options.jobs = 1;  // the layout of a local launch does not apply; Slurm places tasks
  f.slurm.stodepth = this_executable();
  f.slurm.work_dir = std::filesystem::current_path().string();
  return ok_status();
}

}  // namespace

CommandResult run_launch(int argc, char** argv) {
  CLI::App app{"Run a sweep (resuming: finished jobs are skipped).", "stodepth launch"};
  LaunchFlags f;
  add_launch_flags(app, f);
  add_slurm_flags(app, f.slurm.options);
  if (auto exit = parse_flags(app, argc, argv)) return *exit;
  if (auto checked = check_counts(f.options); !checked) return checked.error();
  sweeps::ExpandOptions expand;
  if (f.yes) expand.max_jobs = SIZE_MAX;
  auto sweep = sweeps::load_sweep_file(f.path, expand);
  if (!sweep) return CommandResult::unnamed(sweep.error());  // it names the file and line
  if (auto settled = settle_executor(app, f); !settled) return settled.error();
  const bool on_slurm = f.executor == "slurm";
  if (f.dry_run)
    return on_slurm ? print_slurm_dry_run(*sweep, f.options, f.slurm)
                    : print_dry_run(*sweep, f.options);
  return on_slurm ? launch_on_slurm(*sweep, f.options, f.slurm)
                  : launch_locally(*sweep, f.options, f.quiet);
}

}  // namespace stodepth::cli
