// The commands of the cluster path (README, "Running on a Slurm cluster"): `run-task`, which
// a Slurm batch script execs on a node (hidden from the usage), `merge`, which folds ended
// store shards into the database, and `status`, which shows where every job of a sweep is.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "harness/plan.h"
#include "harness/slurm/run_task.h"
#include "harness/slurm/shards.h"
#include "harness/slurm/slurm.h"
#include "model/base/did_you_mean.h"
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

// Merges the ended shards beside `db`, printing what was merged and refused; false if a
// shard was refused.
Result<bool> merge_and_report(results::Store& store, const std::string& db_path, bool verbose) {
  auto merged = harness::merge_shards(store, harness::shard_dir(db_path));
  if (!merged) return merged.error();
  for (const auto& m : merged->merged)
    if (verbose)
      fmt::print("merged {} ({}){}\n", m.key, to_string(m.state),
                 m.result == results::MergeResult::kAlreadyMerged ? ", merged before: retired"
                                                                  : "");
  for (const auto& error : merged->refused) fmt::print(stderr, "refused {}\n", error.message);
  if (verbose || !merged->merged.empty())
    fmt::print("{} shard{} merged, {} still running or stopped, {} refused\n",
               merged->merged.size(), merged->merged.size() == 1 ? "" : "s", merged->unfinished,
               merged->refused.size());
  return merged->refused.empty();
}

std::string duration(double seconds) {
  if (seconds < 90) return fmt::format("{:.0f} s", seconds);
  if (seconds < 5400) return fmt::format("{:.0f} min", seconds / 60);
  return fmt::format("{:.1f} h", seconds / 3600);
}

// Seconds since an ISO 8601 UTC time; nullopt if unreadable.
std::optional<double> seconds_since(const std::string& iso) {
  std::tm tm{};
  if (iso.empty() || !strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm)) return std::nullopt;
  return std::difftime(std::time(nullptr), timegm(&tm));
}

std::string describe_stop(const results::RunStop& stop) {
  const std::string why =
      stop.cause == "time-limit"   ? "time-limit warning"
      : stop.cause == "terminated" ? "SIGTERM (cancelled, preempted or out of time)"
                                   : stop.cause;
  return fmt::format("{} at iteration {}, {}", why, stop.iteration,
                     stop.requeued ? "requeued itself" : "exited (launch resubmits it)");
}

}  // namespace

int run_run_task(int argc, char** argv) {
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
  if (auto exit = parse_flags(app, argc, argv, "run-task")) return *exit;
  if (options.threads < 1 || options.checkpoint_every < 0 || options.max_timeout_requeues < 0) {
    fmt::print(stderr, "stodepth run-task: --threads must be >= 1, --checkpoint-every and "
                       "--max-timeout-requeues >= 0\n");
    return kExitBadInput;
  }
  if (const char* id = std::getenv("SLURM_JOB_ID")) options.slurm_job_id = id;
  struct sigaction action = {};
  action.sa_handler = on_task_signal;
  for (int signal : {SIGUSR1, SIGTERM, SIGINT}) sigaction(signal, &action, nullptr);

  TaskLog log;
  auto outcome = harness::run_task(options, log);
  if (!outcome) {
    fmt::print(stderr, "stodepth run-task: {}\n", outcome.error().message);
    return exit_code(outcome.error());
  }
  if (!outcome->message.empty())
    fmt::print(stderr, "stodepth run-task: {}: {}\n", to_string(outcome->state), outcome->message);
  switch (outcome->state) {
    case results::RunState::kDone: return kExitOk;
    case results::RunState::kDiverged: return kExitDiverged;
    case results::RunState::kInterrupted: return outcome->requeued ? kExitOk : kExitInterrupted;
    default: return kExitJobsFailed;
  }
}

int run_merge(int argc, char** argv) {
  CLI::App app{"Fold the ended store shards of cluster runs into the results database "
               "(launch and status do it too).",
               "stodepth merge"};
  std::string db_path = "out/results.db";
  app.add_option("--db", db_path, "Results database")->capture_default_str();
  if (auto exit = parse_flags(app, argc, argv, "merge")) return *exit;
  auto store = open_existing(db_path, results::OpenMode::kReadWrite);
  if (!store) {
    fmt::print(stderr, "stodepth merge: {}\n", store.error().message);
    return exit_code(store.error());
  }
  auto merged = merge_and_report(**store, db_path, true);
  if (!merged) {
    fmt::print(stderr, "stodepth merge: {}\n", merged.error().message);
    return exit_code(merged.error());
  }
  return *merged ? kExitOk : kExitInternal;
}

int run_status(int argc, char** argv) {
  CLI::App app{"Show where each job of a sweep is: Slurm state, iteration reached, done or "
               "merged, and an ETA (merges ended shards first).",
               "stodepth status"};
  std::string db_path = "out/results.db", sweep_name;
  app.add_option("sweep", sweep_name, "Sweep name (default: every sweep in the database)");
  app.add_option("--db", db_path, "Results database")->capture_default_str();
  if (auto exit = parse_flags(app, argc, argv, "status")) return *exit;
  const auto fail = [](const Error& error) {
    fmt::print(stderr, "stodepth status: {}\n", error.message);
    return exit_code(error);
  };
  auto store = open_existing(db_path, results::OpenMode::kReadWrite);
  if (!store) return fail(store.error());
  auto merged = merge_and_report(**store, db_path, false);
  if (!merged) return fail(merged.error());

  auto sweeps = (*store)->sweeps();
  if (!sweeps) return fail(sweeps.error());
  std::vector<std::string> names;
  for (const auto& s : *sweeps) names.push_back(s.name);
  if (!sweep_name.empty() &&
      std::find(names.begin(), names.end(), sweep_name) == names.end()) {
    const std::string hint = closest_match(sweep_name, names);
    return fail(bad_input(fmt::format("{}: no sweep '{}'{} (stodepth query sweeps lists them)",
                                      db_path, sweep_name,
                                      hint.empty() ? "" : fmt::format(", did you mean '{}'?", hint))));
  }
  auto runs = (*store)->runs(sweep_name.empty() ? std::nullopt
                                                : std::optional<std::string>(sweep_name));
  if (!runs) return fail(runs.error());
  auto tasks = (*store)->slurm_tasks(sweep_name.empty() ? std::nullopt
                                                        : std::optional<std::string>(sweep_name));
  if (!tasks) return fail(tasks.error());
  std::map<std::string, results::SlurmTask> task_of;
  std::set<std::string> job_ids;
  for (const auto& t : *tasks) {
    task_of[t.key] = t;
    job_ids.insert(t.job_id);
  }
  auto queue = harness::queued_tasks({job_ids.begin(), job_ids.end()});
  if (!queue) return fail(queue.error());

  // Total iterations need the training set's size unless the config fixes them.
  harness::Datasets datasets;
  const auto total_of = [&](const TrainConfig& c) -> int64_t {
    if (c.train.iterations > 0) return c.train.iterations;
    auto it = datasets.find(c.data);
    if (it == datasets.end()) {
      auto loaded = data::load_dataset(c.data);
      if (!loaded) return 0;
      it = datasets.emplace(c.data, std::make_shared<const data::Dataset>(std::move(*loaded))).first;
    }
    return total_iterations(c, it->second->train.size() / std::max(c.train.batch, 1));
  };

  const std::string dir = harness::shard_dir(db_path);
  TextTable table;
  table.columns = {"key", "sweep", "job", "state", "slurm", "iteration", "note"};
  std::map<std::string, int> totals;
  int64_t remaining = 0;
  double rate = 0;  // iterations per second of the running tasks together
  for (const auto& run : *runs) {
    const auto& c = run.config;
    std::string slurm = "-", note;
    bool slurm_active = false;
    if (const auto t = task_of.find(run.key); t != task_of.end()) {
      const std::string id = fmt::format("{}_{}", t->second.job_id, t->second.array_index);
      const auto q = queue->find(id);
      slurm_active = q != queue->end() && harness::is_active(q->second.state);
      slurm = q == queue->end() ? id + " gone"
                                : fmt::format("{} {}{}", id, q->second.state,
                                              q->second.reason == "None"
                                                  ? ""
                                                  : " (" + q->second.reason + ")");
    }
    const bool ended = harness::is_finished(run.state, false);
    const int64_t total = ended ? 0 : total_of(c);
    int64_t iteration = 0;
    std::string state = to_string(run.state);
    std::error_code ec;
    if (std::filesystem::exists(harness::shard_path(dir, run.key), ec)) {
      auto shard = harness::read_shard(dir, run.key);
      if (shard) {
        iteration = shard->iteration;
        state = fmt::format("{} in shard", to_string(shard->state));
        if (!shard->stops.empty()) note = describe_stop(shard->stops.back());
        if (shard->state == results::RunState::kRunning && !slurm_active)
          note = "its task died without stopping it (SIGKILL, node failure): launch resubmits "
                 "it, resuming from its checkpoint";
        if (shard->state == results::RunState::kRunning && iteration > 0)
          if (auto elapsed = seconds_since(shard->started_at); elapsed && *elapsed > 0) {
            // started_at is the attempt's start; a resumed attempt began at its checkpoint.
            const int64_t from = shard->stops.empty() ? 0 : shard->stops.back().iteration;
            rate += double(iteration - from) / *elapsed;
          }
      } else {
        note = shard.error().message;
      }
    } else if (ended) {
      state = task_of.count(run.key) ? fmt::format("{}, merged", state) : state;
      if (!run.error.empty()) note = run.error;
    }
    ++totals[ended ? to_string(run.state) : (run.state == results::RunState::kRunning
                                                 ? "running"
                                                 : "not running")];
    if (!ended && total > 0) remaining += std::max<int64_t>(total - iteration, 0);
    table.rows.push_back(
        {run.key, run.sweep,
         fmt::format("d{} {} p_L={} seed {}", c.model.depth, to_string(c.sd.rule), c.sd.p_L,
                     c.train.seed),
         state, slurm,
         ended ? std::string("-")
               : fmt::format("{}/{}", iteration, total > 0 ? std::to_string(total) : "?"),
         note});
  }
  if (!sweep_name.empty()) {
    auto submissions = (*store)->submissions(sweep_name);
    if (!submissions) return fail(submissions.error());
    if (!submissions->empty())
      fmt::print("last submitted {} as Slurm job array {}, sbatch options {}\n",
                 submissions->back().submitted_at, submissions->back().job_id,
                 submissions->back().options_json);
  }
  print_table(stdout, table, TableFormat::kTable);
  std::string counts;
  for (const auto& [name, n] : totals) counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", n, name);
  fmt::print("{} jobs: {}; ETA {}\n", runs->size(), counts.empty() ? "none" : counts,
             remaining == 0 ? "-"
             : rate > 0     ? fmt::format("{} at the running tasks' current pace",
                                      duration(double(remaining) / rate))
                            : "unknown (no task is running)");
  return *merged ? kExitOk : kExitInternal;
}

}  // namespace stodepth::cli
