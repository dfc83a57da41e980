#include "harness/scheduler.h"

#include <omp.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include <fmt/format.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include "model/checkpoint.h"
#include "model/trainer.h"
#include "model/flops.h"
#include "model/survival.h"
#include "results/store/writer.h"

namespace stodepth::harness {

Layout choose_layout(const LaunchOptions& options, int sweep_jobs, int cores) {
  cores = std::max(cores, 1);
  Layout layout;
  if (options.jobs > 0) {
    layout.jobs = options.jobs;
  } else {
    layout.jobs = options.threads_per_job > 0 ? std::max(cores / options.threads_per_job, 1)
                                              : cores;
    layout.jobs = std::min(layout.jobs, std::max(sweep_jobs, 1));  // no idle workers
  }
  layout.threads_per_job = options.threads_per_job > 0 ? options.threads_per_job
                                                       : std::max(cores / layout.jobs, 1);
  return layout;
}

std::string checkpoint_dir(const std::string& db_path) { return db_path + ".checkpoints"; }

std::string checkpoint_path(const std::string& dir, const std::string& key) {
  return dir + "/" + key + ".ckpt";
}

std::atomic<bool>& stop_requested() {
  static std::atomic<bool> flag{false};
  return flag;
}

double estimated_cost(const TrainConfig& c, int64_t train_examples) {
  const int64_t per_epoch = std::max<int64_t>(train_examples / std::max(c.train.batch, 1), 1);
  const double iterations = double(total_iterations(c, per_epoch));
  const ConvFlops flops = conv_flops(c.model, input_shape_of(c.data.name));
  const auto survival = survival_probabilities(c.sd.rule, c.sd.p_L, c.model.blocks());
  return iterations * c.train.batch * expected_conv_flops(flops, survival);
}

namespace {

std::string host_id() {
  char name[256] = {};
  gethostname(name, sizeof(name) - 1);
  return fmt::format("{}:{}", name, getpid());
}

// True if `host` ("hostname:pid") cannot be holding a run: a process of this machine that
// no longer exists, or this very process (a launcher that just started holds nothing; a
// restarted container often reuses both the hostname and the PID).
bool is_stale_launcher(const std::string& host) {
  const std::string ours = host_id();
  if (host == ours) return true;
  const auto colon = host.rfind(':');
  if (colon == std::string::npos) return false;
  if (host.substr(0, colon) != ours.substr(0, ours.rfind(':'))) return false;
  const pid_t pid = static_cast<pid_t>(std::atoll(host.c_str() + colon + 1));
  return pid > 0 && kill(pid, 0) != 0 && errno == ESRCH;
}

// Datasets loaded once per distinct options and shared read-only by the jobs.
class DatasetCache {
 public:
  Result<std::shared_ptr<const data::Dataset>> get(const data::DataOptions& o) {
    const std::string id =
        fmt::format("{}|{}|{}|{}|{}", o.name, o.dir, o.train_subset, o.test_subset,
                    o.synthetic_seed);
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(id); it != cache_.end()) return it->second;
    auto loaded = data::load_dataset(o);
    if (!loaded) return loaded.error();
    auto shared = std::make_shared<const data::Dataset>(std::move(*loaded));
    cache_[id] = shared;
    return shared;
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const data::Dataset>> cache_;
};

// Streams one job's records to the writer in batches and relays progress.
class JobSink : public MetricsSink {
 public:
  static constexpr size_t kBatchRows = 64;

  JobSink(const sweeps::Job& job, results::AsyncWriter& writer, LaunchObserver& observer)
      : job_(job), writer_(writer), observer_(observer) {}

  void on_start(const RunPlan& plan) override { total_ = plan.total_iterations; }
  void on_iteration(const IterationRecord& r) override {
    rows_.push_back(r);
    if (rows_.size() >= kBatchRows) flush();
    observer_.on_job_iteration(job_, r, total_);
  }
  void on_test_eval(const TestEvalRecord& r) override {
    flush();
    writer_.enqueue_test_evals(job_.key, {r});
  }
  bool should_stop() override { return stop_requested().load() || !writer_.healthy(); }
  Status before_checkpoint(int64_t) override {
    flush();
    return writer_.flush();
  }
  void flush() {
    if (!rows_.empty()) writer_.enqueue_iterations(job_.key, std::move(rows_));
    rows_.clear();
  }

 private:
  const sweeps::Job& job_;
  results::AsyncWriter& writer_;
  LaunchObserver& observer_;
  std::vector<IterationRecord> rows_;
  int64_t total_ = 0;
};

// Removes a run's checkpoint and any temporary file a crash left beside it.
void remove_checkpoint(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove(path, ec);
  std::filesystem::remove(path + ".tmp", ec);
}

// The iteration job `key`'s checkpoint resumes from, 0 if it has none. Called once the run
// is claimed, so no other launcher can be writing it. A checkpoint that is damaged or
// another run's is deleted with a notice (the run starts over); one that cannot be read
// (permissions, I/O) is an Error.
Result<int64_t> checkpoint_iteration(const std::string& path, const std::string& key,
                                     LaunchObserver& observer) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return int64_t{0};
  auto checkpoint = read_checkpoint(path);
  if (!checkpoint && checkpoint.error().kind != ErrorKind::kDamaged) return checkpoint.error();
  if (checkpoint && checkpoint->identity == key) return checkpoint->iteration;
  observer.on_notice(fmt::format(
      "{}; deleted, run {} starts from its beginning",
      checkpoint ? fmt::format("{}: a checkpoint of run {}", path, checkpoint->identity)
                 : checkpoint.error().message,
      key));
  remove_checkpoint(path);
  return int64_t{0};
}

results::RunState state_of(RunStatus s) {
  switch (s) {
    case RunStatus::kDone: return results::RunState::kDone;
    case RunStatus::kDiverged: return results::RunState::kDiverged;
    case RunStatus::kInterrupted: return results::RunState::kInterrupted;
  }
  return results::RunState::kFailed;
}

bool selected(const std::string& key, const std::vector<std::string>& only) {
  if (only.empty()) return true;
  return std::any_of(only.begin(), only.end(),
                     [&](const std::string& prefix) { return key.rfind(prefix, 0) == 0; });
}

}  // namespace

Result<LaunchSummary> launch(const sweeps::Sweep& sweep, const LaunchOptions& options,
                             LaunchObserver& observer) {
  // Checked before the database is touched: a mistyped --only writes nothing.
  if (std::none_of(sweep.jobs.begin(), sweep.jobs.end(),
                   [&](const sweeps::Job& job) { return selected(job.key, options.only); }))
    return bad_input(fmt::format("--only: no job of sweep '{}' has a key starting with {} "
                             "(see 'launch --dry-run')",
                             sweep.name, fmt::join(options.only, " or ")));
  auto opened = results::Store::open(options.db_path, results::OpenMode::kReadWrite);
  if (!opened) return opened.error();
  std::unique_ptr<results::Store> control = std::move(*opened);
  if (auto s = control->register_sweep({sweep.name, sweep.description, sweep.source_text,
                                        sweep.source_hash});
      !s)
    return s.error();
  std::vector<results::JobRecord> records;
  for (const auto& job : sweep.jobs)
    records.push_back({job.key, sweep.name, job.config, job.config_json});
  if (auto s = control->add_jobs(records); !s) return s.error();

  // Runs left `running` by a launcher that was killed are resumable; those of a live
  // launcher (another process on this sweep) are not touched.
  auto rows = control->runs(sweep.name);
  if (!rows) return rows.error();
  std::set<std::string> stale_hosts;
  for (const auto& r : *rows)
    if (r.state == results::RunState::kRunning && is_stale_launcher(r.host))
      stale_hosts.insert(r.host);
  for (const auto& host : stale_hosts)
    if (auto s = control->release_stale_runs(sweep.name, host); !s) return s.error();
  if (!stale_hosts.empty()) {
    rows = control->runs(sweep.name);
    if (!rows) return rows.error();
  }
  std::map<std::string, results::RunState> states;
  std::map<std::string, int> last_threads;  // of the launch that last ran each run
  for (const auto& r : *rows) {
    states[r.key] = r.state;
    last_threads[r.key] = r.threads;
  }

  LaunchSummary summary;
  std::vector<const sweeps::Job*> todo;
  for (const auto& job : sweep.jobs) {
    if (!selected(job.key, options.only)) continue;
    const auto state = states[job.key];
    const bool finished = state == results::RunState::kDone ||
                          ((state == results::RunState::kFailed ||
                            state == results::RunState::kDiverged) && !options.retry_failed);
    if (finished) {
      ++summary.skipped;
      continue;
    }
    todo.push_back(&job);
  }
  // Longest first: the sweep ends sooner when the big jobs do not start last.
  DatasetCache datasets;
  std::stable_sort(todo.begin(), todo.end(), [](const sweeps::Job* a, const sweeps::Job* b) {
    const int64_t n = 60000;  // relative cost only: the same example count for all
    return estimated_cost(a->config, n) > estimated_cost(b->config, n);
  });
  // From the sweep's size, not from what is left: every run of a sweep then trains with the
  // same thread count in every launch, so resumed runs stay bit-identical and step times
  // comparable.
  const Layout layout = choose_layout(options, int(sweep.jobs.size()), omp_get_num_procs());
  const int jobs = layout.jobs, threads = layout.threads_per_job;
  observer.on_plan(int(todo.size()), summary.skipped, jobs, threads);

  const std::string host = host_id();
  auto opened_writer = results::AsyncWriter::open(options.db_path, host);
  if (!opened_writer) return opened_writer.error();
  results::AsyncWriter& writer = **opened_writer;
  std::mutex control_mutex, summary_mutex;

  const std::string checkpoints = checkpoint_dir(options.db_path);
  if (options.checkpoint_every > 0) {
    std::error_code ec;
    std::filesystem::create_directories(checkpoints, ec);
    if (ec) {
      summary.storage_error = fmt::format(
          "{}: cannot create the checkpoint directory: {} (make the database's directory "
          "writable, or pass --checkpoint-every 0)",
          checkpoints, ec.message());
      return summary;
    }
  }
  // Finished runs whose checkpoint a crash left behind (killed between the final commit
  // and the deletion).
  if (!options.keep_checkpoints)
    for (const auto& r : *rows)
      if (r.state == results::RunState::kDone || r.state == results::RunState::kDiverged)
        remove_checkpoint(checkpoint_path(checkpoints, r.key));
  auto stop_for_storage = [&](const std::string& message) {
    std::lock_guard lock(summary_mutex);
    if (summary.storage_error.empty()) summary.storage_error = message;
  };
  auto storage_failed = [&] {
    std::lock_guard lock(summary_mutex);
    return !summary.storage_error.empty() || !writer.healthy();
  };

  auto run_job = [&](const sweeps::Job& job) {
    if (stop_requested() || storage_failed()) return;  // no new work on a failing disk
    const std::string checkpoint = checkpoint_path(checkpoints, job.key);
    int64_t resume_after = 0;
    {
      std::lock_guard lock(control_mutex);
      auto claimed = control->claim_run(job.key, options.retry_failed, host, threads, [&] {
        return checkpoint_iteration(checkpoint, job.key, observer);
      });
      if (!claimed) {
        stop_for_storage(claimed.error().message);
        return;
      }
      if (!*claimed) {  // another launcher has it or finished it
        std::lock_guard summary_lock(summary_mutex);
        ++summary.not_claimed;
        return;
      }
      resume_after = claimed->resume_after;
      const auto started = last_threads.find(job.key);
      if (resume_after > 0 && started != last_threads.end() && started->second > 0 &&
          started->second != threads)
        observer.on_notice(fmt::format(
            "{}: resumes with threads per job {}, started with {}: its metrics after "
            "iteration {} will differ from an uninterrupted run's (pass --threads-per-job {} "
            "to match)",
            job.key, threads, started->second, resume_after, started->second));
      if (resume_after == 0) remove_checkpoint(checkpoint);  // none, or its rows are gone
    }
    observer.on_job_start(job);
    TrainConfig config = job.config;
    config.train.threads = threads;
    results::RunState state = results::RunState::kFailed;
    std::string message;
    RunSummary run;
    auto dataset = datasets.get(config.data);
    if (!dataset) {
      message = dataset.error().message;
    } else {
      JobSink sink(job, writer, observer);
      // Resumes from a checkpoint even when this launch saves none.
      const Checkpointing checkpointing{checkpoint, job.key, options.checkpoint_every,
                                        resume_after};
      try {
        auto result = train(config, **dataset, sink, checkpointing);
        sink.flush();
        if (result) {
          run = *result;
          state = state_of(run.status);
          message = run.message;
        } else {
          message = result.error().message;
          // A checkpoint could not be written: the run resumes from its last good one later,
          // and no more work starts on this storage.
          if (result.error().kind == ErrorKind::kStorage) {
            state = results::RunState::kInterrupted;
            stop_for_storage(message);
          }
        }
      } catch (const std::exception& e) {  // oneDNN or allocation failure: this job only
        message = fmt::format("internal error: {}", e.what());
      }
    }
    const bool trained = run.iterations > 0 || state != results::RunState::kFailed;
    writer.enqueue_finish(job.key, state, trained ? &run : nullptr, message);
    // The checkpoint goes once the final state is committed. Interrupted and failed runs keep
    // it: they resume from it (a failure may be passing, e.g. memory).
    const bool finished =
        state == results::RunState::kDone || state == results::RunState::kDiverged;
    if (finished && !options.keep_checkpoints && writer.flush()) remove_checkpoint(checkpoint);
    observer.on_job_end(job, state, message);
    std::lock_guard lock(summary_mutex);
    ++summary.ran;
    if (resume_after > 0) ++summary.resumed;
    summary.time.data_ms += run.time.data_ms;
    summary.time.network_ms += run.time.network_ms;
    summary.time.update_ms += run.time.update_ms;
    summary.time.record_ms += run.time.record_ms;
    summary.images += run.iterations * config.train.batch;  // a resumed run's time is whole too
    switch (state) {
      case results::RunState::kDone: ++summary.done; break;
      case results::RunState::kDiverged: ++summary.diverged; break;
      case results::RunState::kInterrupted: ++summary.interrupted; break;
      default: ++summary.failed; break;
    }
  };

  // `jobs` workers take jobs from the sorted list in order (a task_group alone would run
  // its most recently spawned task first and lose the longest-first order).
  std::atomic<size_t> next{0};
  tbb::task_arena arena(jobs);
  tbb::task_group group;
  arena.execute([&] {
    for (int w = 0; w < jobs; ++w)
      group.run([&] {
        for (size_t i = next++; i < todo.size(); i = next++) run_job(*todo[i]);
      });
    group.wait();
  });
  if (auto closed = writer.close(); !closed) stop_for_storage(closed.error().message);
  const auto writer_stats = writer.stats();
  // TBB's wait() orders the workers' writes before this, but TSan cannot see that in the
  // uninstrumented TBB library; the lock makes it visible.
  std::lock_guard lock(summary_mutex);
  summary.writer_busy_ms = writer_stats.busy_ms;
  summary.writer_transactions = writer_stats.transactions;
  return summary;
}

}  // namespace stodepth::harness
