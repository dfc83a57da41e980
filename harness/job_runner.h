// One job of a sweep, start to end: claim its run in the results store, resume it from its
// checkpoint, train it, record how it ended. A runner is built from plain values
// (RunnerSetup), not from a launcher's state, so that any process can build one: the
// launcher's in-process executor, or a cluster task writing into a store shard of its own
// with its checkpoints beside it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "model/base/result.h"
#include "model/data/dataset.h"
#include "model/config/records.h"
#include "results/store/store.h"
#include "results/store/writer.h"
#include "sweeps/sweep.h"

namespace stodepth::harness {

// Set by the first Ctrl-C: no job starts after it and running ones stop at the next
// iteration boundary (marked interrupted).
std::atomic<bool>& stop_requested();

// Where the runs of the database at `db_path` keep their checkpoints: "<db_path>.checkpoints".
std::string checkpoint_dir(const std::string& db_path);
// The checkpoint of run `key` in `dir`.
std::string checkpoint_path(const std::string& dir, const std::string& key);
// Removes a checkpoint and any temporary file a crash left beside it.
void remove_checkpoint(const std::string& path);

// What a runner shows while its jobs run (the CLI's progress display). Called from the
// threads that run jobs, concurrently when jobs run concurrently.
class JobObserver {
 public:
  virtual ~JobObserver() = default;
  virtual void on_job_start(const sweeps::Job& job) {}
  virtual void on_job_iteration(const sweeps::Job& job, const IterationRecord& r,
                                int64_t total_iterations) {}
  virtual void on_job_end(const sweeps::Job& job, results::RunState state,
                          const std::string& message) {}
  // Something the user should know that is not a job's end (e.g. a damaged checkpoint).
  virtual void on_notice(const std::string& message) {}
};

struct RunnerSetup {
  std::string db_path;         // the results store the runs are claimed and recorded in
  std::string checkpoint_dir;  // created when checkpoint_every > 0
  std::string host;            // who holds the claimed runs: launcher_id() of the process
  // Where the runs train; machine.threads is each run's OpenMP thread count. Recorded with
  // every run the runner claims.
  MachineFacts machine;
  bool retry_failed = false;      // failed and diverged runs may be claimed
  int64_t checkpoint_every = 0;   // see LaunchOptions
  bool keep_checkpoints = false;
};

// How one job went.
struct JobOutcome {
  // The run's final state; none when it did not run here: another launcher holds or
  // finished it, or claiming it failed (storage_error).
  std::optional<results::RunState> state;
  std::string message;  // why it failed, diverged or stopped
  RunSummary summary;   // what it trained (zero when it trained nothing)
  int64_t images = 0;   // trained, counting the iterations before a resume
  bool resumed = false;  // continued from a checkpoint
  // The database or the checkpoint storage failed (ErrorKind::kStorage): start no more work.
  std::optional<Error> storage_error;
};

class JobRunner {
 public:
  // Opens the store (a control connection for claims, and a writer for records) and
  // creates the checkpoint directory; a directory that cannot be created is a kStorage Error.
  static Result<std::unique_ptr<JobRunner>> open(const RunnerSetup& setup);
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  // Runs `job` on `dataset` (its config's dataset). Thread-safe: an executor's workers share
  // one runner. `previous_threads` is the thread count of the launch that last ran the job
  // (StoredRun::threads): a resumed run training with another is reported.
  JobOutcome run(const sweeps::Job& job, int previous_threads, const data::Dataset& dataset,
                 JobObserver& observer);

  // False once a write to the store has failed: start no more jobs.
  bool healthy() const { return writer_->healthy(); }
  // Commits what is queued and stops the writer: its first write error, if any.
  Status close() { return writer_->close(); }
  results::AsyncWriter::Stats writer_stats() { return writer_->stats(); }

 private:
  JobRunner(RunnerSetup setup, std::unique_ptr<results::Store> control,
            std::unique_ptr<results::AsyncWriter> writer);

  const RunnerSetup setup_;
  std::mutex control_mutex_;  // a Store is used from one thread at a time
  std::unique_ptr<results::Store> control_;
  std::unique_ptr<results::AsyncWriter> writer_;
};

}  // namespace stodepth::harness
