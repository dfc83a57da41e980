// The commands of the cluster path (README, "Running on a Slurm cluster"): `run-task`, which
// a Slurm batch script execs on a node (hidden from the usage), `merge`, which folds ended
// store shards into the database, and `status`, which prints where every job of a sweep is
// (harness/status.h; a local launch's as well).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <mutex>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "harness/slurm/run_task.h"
#include "harness/slurm/shards.h"
#include "harness/status.h"
#include "model/base/json.h"
#include "results/store/store.h"
#include "tools/commands.h"
#include "tools/parse.h"
#include "tools/table.h"

namespace stodepth::cli {
namespace {

// Signals stop the task at its next iteration, checkpointed; the first one says why.
void on_task_signal(int signal) {
  const int saved_errno = errno;
  const harness::StopCause cause = signal == SIGUSR1   ? harness::StopCause::kTimeLimit
                                   : signal == SIGTERM ? harness::StopCause::kTerminated
                                                       : harness::StopCause::kInterrupted;
  harness::StopCause none = harness::StopCause::kNone;
  harness::stop_cause().compare_exchange_strong(none, cause);
  harness::stop_requested() = true;
  const char msg[] = "stodepth run-task: signal received: checkpointing at the next iteration\n";
  (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
  errno = saved_errno;
}

std::string now_utc() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// The task's log (the Slurm output file): start, progress every 5 %, end, notices.
class TaskLog : public harness::JobObserver {
 public:
  void on_job_start(const sweeps::Job& job) override { line("start " + job.key); }
  void on_job_iteration(const sweeps::Job& job, const IterationRecord& r,
                        int64_t total) override {
    const int64_t every = std::max<int64_t>(total / 20, 1);
    if (r.iteration % every != 0 && r.iteration != total) return;
    line(fmt::format("{} iteration {}/{} loss {:.4f}{}", job.key, r.iteration, total, r.loss,
                     r.test_accuracy ? fmt::format(" test {:.2f}%", 100 * *r.test_accuracy)
                                     : ""));
  }
  void on_job_end(const sweeps::Job& job, results::RunState state,
                  const std::string& message) override {
    line(fmt::format("{} {}{}", to_string(state), job.key, message.empty() ? "" : ": " + message));
  }
  void on_notice(const std::string& message) override { line("note " + message); }

 private:
  void line(const std::string& text) {
    std::lock_guard lock(mutex_);
    fmt::print(stderr, "{} {}\n", now_utc(), text);
  }
  std::mutex mutex_;
};

Result<std::unique_ptr<results::Store>> open_existing(const std::string& db_path,
                                                      results::OpenMode mode) {
  std::error_code ec;
  if (!std::filesystem::exists(db_path, ec))
    return bad_input(fmt::format("{}: no results database there (check --db)", db_path));
  return results::Store::open(db_path, mode);
}

// Merges the ended shards beside `db`, printing what was merged on `out` and what was
// refused on stderr; false if a shard was refused.
Result<bool> merge_and_report(results::Store& store, const std::string& db_path, bool verbose,
                              std::FILE* out) {
  auto merged = harness::merge_shards(store, harness::shard_dir(db_path));
  if (!merged) return merged.error();
  for (const auto& m : merged->merged)
    if (verbose)
      fmt::print(
          out, "merged {} ({}){}\n", m.key, to_string(m.state),
          m.result == results::MergeResult::kAlreadyMerged ? ", merged before: retired" : "");
  for (const auto& error : merged->refused) fmt::print(stderr, "refused {}\n", error.message);
  if (verbose || !merged->merged.empty())
    fmt::print(out, "{} shard{} merged, {} still running or stopped, {} refused\n",
               merged->merged.size(), merged->merged.size() == 1 ? "" : "s", merged->unfinished,
               merged->refused.size());
  return merged->refused.empty();
}

std::string duration(double seconds) {
  if (seconds < 90) return fmt::format("{:.0f} s", seconds);
  if (seconds < 5400) return fmt::format("{:.0f} min", seconds / 60);
  return fmt::format("{:.1f} h", seconds / 3600);
}

std::string job_state(const harness::JobStatus& job) {
  if (job.shard_state) return fmt::format("{} in shard", to_string(*job.shard_state));
  if (job.merged) return fmt::format("{}, merged", to_string(job.state));
  return to_string(job.state);
}

// A running job's time left; "~" marks the estimate of one not running yet (its whole run).
std::string job_eta(const harness::JobStatus& job) {
  if (job.ended) return "-";
  if (!job.eta_seconds) return "?";
  return job.running() ? duration(*job.eta_seconds) : "~" + duration(*job.eta_seconds);
}

std::string sweep_eta(const harness::SweepStatus& status) {
  if (status.left == 0) return "-";
  if (status.running == 0) return "unknown (no job is running)";
  if (!status.eta_seconds)
    return fmt::format("unknown ({} job{} left without an estimate)", status.unknown,
                       status.unknown == 1 ? "" : "s");
  const bool estimated = status.left > status.running;
  return fmt::format("{} at the running jobs' recent pace, {} at a time{}",
                     duration(*status.eta_seconds), status.running,
                     estimated ? " (~: a job not running yet, at the pace measured on this "
                                 "sweep's runs scaled by its FLOPs per step)"
                               : "");
}

void print_status(const harness::SweepStatus& status) {
  if (const auto& last = status.last_submission)
    fmt::print("last submitted {} as Slurm job array {}, sbatch options {}\n", last->submitted_at,
               last->job_id, last->options_json);
  // The Slurm column only for a sweep with jobs submitted to Slurm.
  const bool slurm = std::any_of(status.jobs.begin(), status.jobs.end(),
                                 [](const harness::JobStatus& job) { return !job.slurm.empty(); });
  TextTable table;
  table.columns = {"key", "sweep", "job", "state"};
  if (slurm) table.columns.push_back("slurm");
  for (const char* column : {"iteration", "rate", "eta", "note"}) table.columns.push_back(column);
  for (const auto& job : status.jobs) {
    std::vector<std::optional<std::string>> row = {job.key, job.sweep, job.label, job_state(job)};
    if (slurm) row.push_back(job.slurm.empty() ? "-" : job.slurm);
    const std::string total = job.total > 0 ? std::to_string(job.total) : "?";
    row.push_back(job.ended ? "-" : fmt::format("{}/{}", job.iteration, total));
    row.push_back(job.running() ? fmt::format("{:.3g} it/s", job.rate()) : "-");
    row.push_back(job_eta(job));
    row.push_back(job.note);
    table.rows.push_back(std::move(row));
  }
  print_table(stdout, table, TableFormat::kTable);
  std::string counts;
  for (const auto& [name, n] : status.counts)
    counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", n, name);
  fmt::print("{} jobs: {}; ETA {}\n", status.jobs.size(), counts.empty() ? "none" : counts,
             sweep_eta(status));
}

// A setting's value text as JSON: a number or list as such, anything else a string.
OrderedJson setting_json(const std::string& text) {
  OrderedJson parsed = OrderedJson::parse(text, nullptr, /*allow_exceptions=*/false);
  return parsed.is_number() || parsed.is_array() ? parsed : OrderedJson(text);
}

// A measured number, null when unknown (0 stands for unknown in JobStatus).
OrderedJson known(double x) { return x > 0 ? OrderedJson(x) : OrderedJson(nullptr); }
OrderedJson optional_json(const std::optional<double>& x) {
  return x ? OrderedJson(*x) : OrderedJson(nullptr);
}

OrderedJson stops_json(const std::vector<results::RunStop>& stops) {
  OrderedJson out = OrderedJson::array();
  for (const auto& stop : stops)
    out.push_back({{"at", stop.at},
                   {"iteration", stop.iteration},
                   {"cause", stop.cause},
                   {"slurm_job", stop.slurm_job},
                   {"requeued", stop.requeued}});
  return out;
}

// Every field of a JobStatus, running() and rate() included; numbers at full precision.
OrderedJson job_json(const harness::JobStatus& job) {
  OrderedJson settings = OrderedJson::object();
  for (const auto& [key, value] : job.settings) settings[key] = setting_json(value);
  return {{"key", job.key},
          {"sweep", job.sweep},
          {"label", job.label},
          {"settings", settings},
          {"state", to_string(job.state)},
          {"shard_state",
           job.shard_state ? OrderedJson(to_string(*job.shard_state)) : OrderedJson(nullptr)},
          {"merged", job.merged},
          {"slurm", job.slurm},
          {"stops", stops_json(job.stops)},
          {"ended", job.ended},
          {"running", job.running()},
          {"iteration", job.iteration},
          {"total", job.total > 0 ? OrderedJson(job.total) : OrderedJson(nullptr)},
          {"step_ms", known(job.step_ms)},
          {"rate", known(job.rate())},
          {"eta_seconds", optional_json(job.eta_seconds)},
          {"note", job.note}};
}

// `status --format json`: the jobs, then the sweep's counts and ETA, on one line.
void print_status_json(const harness::SweepStatus& status) {
  OrderedJson jobs = OrderedJson::array();
  for (const auto& job : status.jobs) jobs.push_back(job_json(job));
  OrderedJson submission = nullptr;
  if (const auto& last = status.last_submission)
    submission = {{"job_id", last->job_id},
                  {"submitted_at", last->submitted_at},
                  {"options", last->options_json},
                  {"threads", last->threads},
                  {"keys", last->keys}};
  const OrderedJson out = {{"jobs", jobs},
                           {"counts", status.counts},
                           {"left", status.left},
                           {"running", status.running},
                           {"unknown", status.unknown},
                           {"eta_seconds", optional_json(status.eta_seconds)},
                           {"last_submission", submission}};
  fmt::print("{}\n", compact_json(out));
}

// `status --format csv`: a row per job with job_json's fields (stops as JSON text), then a
// column per setting that differs among the jobs (dotted keys).
void print_status_csv(const harness::SweepStatus& status) {
  TextTable table;
  std::vector<std::string> setting_keys;
  for (const auto& job : status.jobs)
    for (const auto& [key, value] : job.settings)
      if (std::find(setting_keys.begin(), setting_keys.end(), key) == setting_keys.end())
        setting_keys.push_back(key);
  const OrderedJson header = job_json(harness::JobStatus{});
  for (const auto& [name, value] : header.items())
    if (name != "settings") table.columns.push_back(name);
  for (const auto& key : setting_keys) table.columns.push_back(key);
  for (const auto& job : status.jobs) {
    const OrderedJson fields = job_json(job);
    std::vector<std::optional<std::string>> row;
    for (const auto& [name, value] : fields.items()) {
      if (name == "settings") continue;
      if (value.is_null())
        row.push_back(std::nullopt);
      else if (value.is_string())
        row.push_back(value.get<std::string>());
      else
        row.push_back(compact_json(value));
    }
    for (const auto& key : setting_keys) {
      const auto it = std::find_if(job.settings.begin(), job.settings.end(),
                                   [&](const auto& kv) { return kv.first == key; });
      row.push_back(it == job.settings.end() ? std::nullopt
                                             : std::optional<std::string>(it->second));
    }
    table.rows.push_back(std::move(row));
  }
  print_table(stdout, table, TableFormat::kCsv);
}

}  // namespace

CommandResult run_run_task(int argc, char** argv) {
  CLI::App app{"Run one store shard's job (what a Slurm batch script execs).",
               "stodepth run-task"};
  harness::TaskOptions options;
  app.add_option("--shard", options.shard, "Store shard <dir>/<key>.db")->required();
  app.add_option("--threads", options.threads, "OpenMP threads")->capture_default_str();
  app.add_option("--checkpoint-every", options.checkpoint_every, "Checkpoint interval")
      ->capture_default_str();
  app.add_option("--max-timeout-requeues", options.max_timeout_requeues,
                 "Self-requeues after time-limit warnings")
      ->capture_default_str();
  if (auto exit = parse_flags(app, argc, argv)) return *exit;
  if (options.threads < 1 || options.checkpoint_every < 0 || options.max_timeout_requeues < 0)
    return bad_input("--threads must be >= 1, --checkpoint-every and --max-timeout-requeues >= 0");
  if (const char* id = std::getenv("SLURM_JOB_ID")) options.slurm_job_id = id;
  struct sigaction action = {};
  action.sa_handler = on_task_signal;
  for (int signal : {SIGUSR1, SIGTERM, SIGINT}) sigaction(signal, &action, nullptr);

  TaskLog log;
  auto outcome = harness::run_task(options, log);
  if (!outcome) return outcome.error();
  // How the run ended is said whatever the exit code (a requeued task exits 0).
  if (!outcome->message.empty())
    fmt::print(stderr, "stodepth run-task: {}: {}\n", to_string(outcome->state), outcome->message);
  switch (outcome->state) {
    case results::RunState::kDone: return kExitOk;
    case results::RunState::kDiverged: return kExitDiverged;
    case results::RunState::kInterrupted: return outcome->requeued ? kExitOk : kExitInterrupted;
    default: return kExitJobsFailed;
  }
}

CommandResult run_merge(int argc, char** argv) {
  CLI::App app{"Fold the ended store shards of cluster runs into the results database "
               "(launch and status do it too).",
               "stodepth merge"};
  std::string db_path = "out/results.db";
  app.add_option("--db", db_path, "Results database")->capture_default_str();
  if (auto exit = parse_flags(app, argc, argv)) return *exit;
  auto store = open_existing(db_path, results::OpenMode::kReadWrite);
  if (!store) return store.error();
  auto merged = merge_and_report(**store, db_path, true, stdout);
  if (!merged) return merged.error();
  return *merged ? kExitOk : kExitInternal;
}

CommandResult run_status(int argc, char** argv) {
  CLI::App app{"Show where each job of a sweep is: Slurm state, iteration reached, pace, done or "
               "merged, and an ETA (merges ended shards first).",
               "stodepth status"};
  std::string db_path = "out/results.db", sweep_name, format = "text";
  app.add_option("sweep", sweep_name, "Sweep name (default: every sweep in the database)");
  app.add_option("--db", db_path, "Results database")->capture_default_str();
  app.add_option("--format", format,
                 "text (a table) | json (one object: \"jobs\", each with every field of the "
                 "table and its settings that differ among the jobs, then \"counts\", \"left\", "
                 "\"running\", \"eta_seconds\", \"last_submission\"; unknown numbers null) | "
                 "csv (a row per job, a column per differing setting); numbers at full "
                 "precision, times in seconds")
      ->capture_default_str();
  if (auto exit = parse_flags(app, argc, argv)) return *exit;
  if (format != "text" && format != "json" && format != "csv")
    return bad_input(fmt::format("--format: unknown '{}' (one of: text, json, csv)", format));
  auto store = open_existing(db_path, results::OpenMode::kReadWrite);
  if (!store) return store.error();
  // Merge messages stay off stdout when it carries JSON or CSV.
  auto merged = merge_and_report(**store, db_path, false, format == "text" ? stdout : stderr);
  if (!merged) return merged.error();
  auto status = harness::sweep_status(
      **store, db_path,
      sweep_name.empty() ? std::nullopt : std::optional<std::string>(sweep_name));
  if (!status) return status.error();
  if (format == "json")
    print_status_json(*status);
  else if (format == "csv")
    print_status_csv(*status);
  else
    print_status(*status);
  return *merged ? kExitOk : kExitInternal;
}

}  // namespace stodepth::cli
