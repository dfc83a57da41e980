// What a training run produces, as plain values: its per-iteration and per-epoch records,
// its summary, and the machine it ran on. The results store persists these, so they depend
// on nothing of the engine (no oneDNN).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

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
// the final iteration when a run stops mid-epoch); with it the whole validation set when the
// run holds one out (dataset.validation), from which the paper picks the epoch it reports.
struct TestEvalRecord {
  int64_t epoch = 0, iteration = 0;
  double accuracy = 0, loss = 0;
  std::optional<double> validation_accuracy = std::nullopt, validation_loss = std::nullopt;
};

// The paper's figure of merit (Huang et al., 2016, Sec. 4): the test accuracy at the
// evaluation of best validation accuracy (the earliest such one on ties).
struct BestValidation {
  int64_t epoch = 0, iteration = 0;
  double validation_accuracy = 0, test_accuracy = 0;
};
// Tracks it over a run's evaluations, in order; evaluations without validation are ignored.
class BestValidationTracker {
 public:
  void add(const TestEvalRecord& r) {
    if (!r.validation_accuracy) return;
    if (!best_ || *r.validation_accuracy > best_->validation_accuracy)
      best_ = BestValidation{r.epoch, r.iteration, *r.validation_accuracy, r.accuracy};
  }
  const std::optional<BestValidation>& best() const { return best_; }

 private:
  std::optional<BestValidation> best_;
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
  std::string message;  // e.g. "diverged at iteration 17 (loss nan)"
};

// The machine a run trained on, recorded with the run at launch so that a report names the
// hardware that produced each figure, not the one that renders it.
struct MachineFacts {
  std::string host;
  std::string cpu_model;       // /proc/cpuinfo "model name"
  std::string isa;             // the ISA oneDNN dispatches to, e.g. "AVX-512 + bf16"
  int cores = 0;               // online logical cores
  int threads = 0;             // OpenMP threads the run trained with
  std::string onednn_version;  // e.g. "2.6.3"
};

}  // namespace stodepth
