// The training loop: batches, gates, steps, schedules and evaluations of one run, reported
// to a MetricsSink so that the CLI, the results store or a test can plug in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "model/config/config.h"
#include "model/config/records.h"
#include "model/data/dataset.h"
#include "model/base/result.h"

namespace stodepth {

struct RunPlan {
  int64_t total_iterations = 0, batches_per_epoch = 0;
  int64_t resumed_after = 0;  // the checkpoint's iteration when resuming, else 0
  int blocks = 0;
  double expected_active_blocks = 0;
  int threads = 0;
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
// dataset (batch larger than the training set, …) is an Error, and so is what oneDNN or the
// allocator throws (kInternal). Divergence (a non-finite loss) ends the run with status
// kDiverged, not an Error.
Result<RunSummary> train(const TrainConfig& config, const data::Dataset& dataset,
                         MetricsSink& sink, const Checkpointing& checkpointing = {});

}  // namespace stodepth
