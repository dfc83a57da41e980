// The training loop: batches, gates, steps, schedules and evaluations of one run, reported
// to a MetricsSink so that the CLI, the results store or a test can plug in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "model/config.h"
#include "model/data/dataset.h"
#include "model/result.h"

namespace stodepth {

// One training iteration (1-based) of epoch `epoch` (1-based).
struct IterationRecord {
  int64_t iteration = 0, epoch = 0;
  double learning_rate = 0;
  double loss = 0, train_accuracy = 0;  // of the mini-batch, before the update
  int active_blocks = 0;
  double step_ms = 0;  // batch assembly + forward + backward + update
  // Every eval.every iterations: the next test mini-batch in inference mode.
  std::optional<double> test_accuracy, test_loss;
};

// The whole test set, in inference mode, after the last iteration of an epoch (and after
// the final iteration when a run stops mid-epoch).
struct TestEvalRecord {
  int64_t epoch = 0, iteration = 0;
  double accuracy = 0, loss = 0;
};

struct RunPlan {
  int64_t total_iterations = 0, batches_per_epoch = 0;
  int64_t resumed_after = 0;  // the checkpoint's iteration when resuming, else 0
  int blocks = 0;
  double expected_active_blocks = 0;
  int threads = 0;
};

enum class RunStatus { kDone, kDiverged, kInterrupted };
const char* to_string(RunStatus s);

struct RunSummary {
  RunStatus status = RunStatus::kDone;
  int64_t iterations = 0;  // completed
  double wall_seconds = 0;  // everything, evaluations included
  double train_seconds = 0;  // sum of step times
  double mean_step_ms = 0, images_per_second = 0;  // steps after the first (warm-up)
  double mean_active_blocks = 0, expected_active_blocks = 0;
  std::optional<double> final_test_accuracy, final_test_loss;
  // Where training time went, summed over iterations: batch assembly and gate draws, the
  // network (forward, loss, backward), the SGD update, and handing the record to the sink
  // (progress display, or the database writer's queue).
  struct Time {
    double data_ms = 0, network_ms = 0, update_ms = 0, record_ms = 0;
  } time;
  // Memory: what the training graph must hold, and the process's resident set after the
  // first whole-test-set evaluation (every graph built by then) and at the end: equal when
  // nothing grows over iterations. The peak is the process's (getrusage): under `launch`
  // it covers every job the process ran so far.
  int64_t model_bytes = 0;
  int64_t rss_after_first_epoch = 0, rss_at_end = 0, peak_rss = 0;
  // A checkpoint could not be written (disk full, …): the run stopped as kInterrupted so
  // that it resumes later; the caller should not start more work on this storage.
  bool storage_failed = false;
  std::string message;  // e.g. "diverged at iteration 17 (loss nan)"
};

class MetricsSink {
 public:
  virtual ~MetricsSink() = default;
  virtual void on_start(const RunPlan& plan) {}
  virtual void on_iteration(const IterationRecord& record) = 0;
  virtual void on_test_eval(const TestEvalRecord& record) {}
  // Polled between iterations: true stops the run as kInterrupted.
  virtual bool should_stop() { return false; }
  // Called before a checkpoint at `iteration` is written: every record through it must be
  // durable by the time this returns, since a resumed run does not produce them again. An
  // Error skips the checkpoint.
  virtual Status before_checkpoint(int64_t iteration) { return ok_status(); }
};

// Where and how often a run saves its state (model, momentum, BN statistics, random streams,
// data order, accumulated summary) so that it can resume, bit-identical, after a crash.
struct Checkpointing {
  std::string path;      // empty: no checkpoints; if the file exists, the run resumes from it
  std::string identity;  // stored in the file (e.g. the job key); a mismatch refuses to resume
  int64_t every = 0;     // save after every `every` iterations and when interrupted; 0: never
  // The iteration the caller expects the file to resume from (0: no file), e.g. what it
  // checked when it claimed the run; another is an Error. -1: whatever the file holds.
  int64_t resume_from = -1;
};

// Sets this thread's OpenMP team for oneDNN: `requested` threads (0: all cores), never more
// than OMP_THREAD_LIMIT, and no dynamic adjustment — oneDNN's kernels hang when OpenMP hands
// them fewer threads than they were told. Returns the thread count.
int use_openmp_threads(int requested);

// Trains one run. The config must have passed validate(); a config that does not fit the
// dataset (batch larger than the training set, …) is an Error. Divergence (a non-finite
// loss) ends the run with status kDiverged, not an Error.
Result<RunSummary> train(const TrainConfig& config, const data::Dataset& dataset,
                         MetricsSink& sink, const Checkpointing& checkpointing = {});

}  // namespace stodepth
