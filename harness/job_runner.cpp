#include "harness/job_runner.h"

#include <filesystem>
#include <vector>

#include <fmt/format.h>

#include "model/checkpoint.h"
#include "model/trainer.h"

namespace stodepth::harness {

std::atomic<bool>& stop_requested() {
  static std::atomic<bool> flag{false};
  return flag;
}

std::string checkpoint_dir(const std::string& db_path) { return db_path + ".checkpoints"; }

std::string checkpoint_path(const std::string& dir, const std::string& key) {
  return dir + "/" + key + ".ckpt";
}

void remove_checkpoint(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove(path, ec);
  std::filesystem::remove(path + ".tmp", ec);
}

namespace {

// Streams one job's records to the writer in batches and relays progress.
class JobSink : public MetricsSink {
 public:
  static constexpr size_t kBatchRows = 64;

  JobSink(const sweeps::Job& job, results::AsyncWriter& writer, JobObserver& observer)
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
  JobObserver& observer_;
  std::vector<IterationRecord> rows_;
  int64_t total_ = 0;
};

// The iteration job `key`'s checkpoint resumes from, 0 if it has none. Called once the run
// is claimed, so no other launcher can be writing it. A checkpoint that is damaged or
// another run's is deleted with a notice (the run starts over); one that cannot be read
// (permissions, I/O) is an Error.
Result<int64_t> checkpoint_iteration(const std::string& path, const std::string& key,
                                     JobObserver& observer) {
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

}  // namespace

Result<std::unique_ptr<JobRunner>> JobRunner::open(const RunnerSetup& setup) {
  auto control = results::Store::open(setup.db_path, results::OpenMode::kReadWrite);
  if (!control) return control.error();
  auto writer = results::AsyncWriter::open(setup.db_path, setup.host);
  if (!writer) return writer.error();
  if (setup.checkpoint_every > 0) {
    std::error_code ec;
    std::filesystem::create_directories(setup.checkpoint_dir, ec);
    if (ec)
      return storage_error(fmt::format(
          "{}: cannot create the checkpoint directory: {} (make the database's directory "
          "writable, or pass --checkpoint-every 0)",
          setup.checkpoint_dir, ec.message()));
  }
  return std::unique_ptr<JobRunner>(
      new JobRunner(setup, std::move(*control), std::move(*writer)));
}

JobRunner::JobRunner(RunnerSetup setup, std::unique_ptr<results::Store> control,
                     std::unique_ptr<results::AsyncWriter> writer)
    : setup_(std::move(setup)), control_(std::move(control)), writer_(std::move(writer)) {}

JobOutcome JobRunner::run(const sweeps::Job& job, int previous_threads,
                          const data::Dataset& dataset, JobObserver& observer) {
  JobOutcome outcome;
  const std::string checkpoint = checkpoint_path(setup_.checkpoint_dir, job.key);
  const int threads = setup_.machine.threads;
  int64_t resume_after = 0;
  {
    std::lock_guard lock(control_mutex_);
    auto claimed = control_->claim_run(job.key, setup_.retry_failed, setup_.host, threads, [&] {
      return checkpoint_iteration(checkpoint, job.key, observer);
    });
    if (!claimed) {
      outcome.storage_error = claimed.error();
      return outcome;
    }
    if (!*claimed) return outcome;  // another launcher has it or finished it
    resume_after = claimed->resume_after;
    // So that a report names the hardware each run trained on.
    if (auto recorded = control_->record_machine(job.key, setup_.machine); !recorded) {
      outcome.storage_error = recorded.error();
      return outcome;
    }
  }
  if (resume_after > 0 && previous_threads > 0 && previous_threads != threads)
    observer.on_notice(fmt::format(
        "{}: resumes with threads per job {}, started with {}: its metrics after iteration {} "
        "will differ from an uninterrupted run's (pass --threads-per-job {} to match)",
        job.key, threads, previous_threads, resume_after, previous_threads));
  if (resume_after == 0) remove_checkpoint(checkpoint);  // none, or its rows are gone

  observer.on_job_start(job);
  TrainConfig config = job.config;
  config.train.threads = threads;
  JobSink sink(job, *writer_, observer);
  // Resumes from a checkpoint even when this launch saves none.
  const Checkpointing checkpointing{checkpoint, job.key, setup_.checkpoint_every,
                                    resume_after};
  auto trained = train(config, dataset, sink, checkpointing);
  sink.flush();
  results::RunState state = results::RunState::kFailed;
  if (trained) {
    outcome.summary = *trained;
    state = state_of(outcome.summary.status);
    outcome.message = outcome.summary.message;
  } else {
    outcome.message = trained.error().message;
    // A checkpoint could not be written: the run resumes from its last good one later, and
    // no more work starts on this storage.
    if (trained.error().kind == ErrorKind::kStorage) {
      state = results::RunState::kInterrupted;
      outcome.storage_error = trained.error();
    }
  }
  const bool has_summary = outcome.summary.iterations > 0 || state != results::RunState::kFailed;
  writer_->enqueue_finish(job.key, state, has_summary ? &outcome.summary : nullptr,
                          outcome.message);
  // The checkpoint goes once the final state is committed. Interrupted and failed runs keep
  // it: they resume from it (a failure may be passing, e.g. memory).
  const bool finished =
      state == results::RunState::kDone || state == results::RunState::kDiverged;
  if (finished && !setup_.keep_checkpoints && writer_->flush()) remove_checkpoint(checkpoint);
  observer.on_job_end(job, state, outcome.message);
  outcome.state = state;
  outcome.resumed = resume_after > 0;
  outcome.images = outcome.summary.iterations * config.train.batch;
  return outcome;
}

}  // namespace stodepth::harness
