// What the tests that train share: a small configuration that learns in seconds, the
// synthetic dataset it learns, and a sink that records what the trainer reports.
#pragma once

#include <cstdint>
#include <vector>

#include "model/config/config.h"
#include "model/data/dataset.h"
#include "model/trainer.h"
#include "tests/temp_dir.h"

namespace stodepth::testing {

// Records what the trainer reports; stops the run after `stop_after` iterations and refuses
// checkpoints after `refuse_checkpoints_after` (as if the process died before writing them).
struct RecordingSink : MetricsSink {
  std::vector<IterationRecord> iterations;
  std::vector<TestEvalRecord> evals;
  std::vector<int64_t> checkpoints;
  RunPlan plan;
  int64_t stop_after = -1, refuse_checkpoints_after = -1;

  void on_start(const RunPlan& p) override { plan = p; }
  void on_iteration(const IterationRecord& r) override { iterations.push_back(r); }
  void on_test_eval(const TestEvalRecord& r) override { evals.push_back(r); }
  bool should_stop() override {
    return stop_after >= 0 && !iterations.empty() && iterations.back().iteration >= stop_after;
  }
  Status before_checkpoint(int64_t iteration) override {
    if (refuse_checkpoints_after >= 0 && iteration > refuse_checkpoints_after)
      return storage_error("not durable");
    checkpoints.push_back(iteration);
    return ok_status();
  }
};

// Depth 8 on the synthetic dataset: 2 epochs of 93 batches of 64.
inline TrainConfig small_config() {
  TrainConfig c;
  c.data.name = "synthetic";
  c.model.depth = 8;
  c.sd.p_L = 0.5;
  c.train.epochs = 2;
  c.train.batch = 64;
  c.train.lr.base = 0.05;
  c.train.threads = 2;
  c.eval.every = 5;
  c.eval.batch = 200;
  return c;
}

// 6000 training and 1000 test images, 1×28×28, 10 classes.
inline const data::Dataset& synthetic() {
  static const data::Dataset d = data::make_synthetic(6000, 1000, 1, 28, 10, 3);
  return d;
}

// Trains `c` (25 iterations) on `d` three ways: uninterrupted; stopped after iteration 17 with
// only the checkpoint of iteration 10 written (a crash before the next one); resumed from it.
// Checks that the resumed iterations and final test figures equal the uninterrupted run's,
// bit for bit, and returns what the uninterrupted run reported.
inline RecordingSink check_resume_is_bit_identical(const TrainConfig& c, const data::Dataset& d) {
  REQUIRE(c.train.iterations == 25);
  RecordingSink reference;
  auto uninterrupted = train(c, d, reference);
  REQUIRE(uninterrupted.ok());
  REQUIRE(reference.iterations.size() == 25);

  TempDir dir;
  const Checkpointing checkpointing{dir.file("run.ckpt"), "job-1", 10};
  RecordingSink first;
  first.stop_after = 17;
  first.refuse_checkpoints_after = 10;
  REQUIRE(train(c, d, first, checkpointing).ok());
  CHECK(first.checkpoints == std::vector<int64_t>{10});
  RecordingSink second;
  auto resumed = train(c, d, second, checkpointing);
  REQUIRE(resumed.ok());
  CHECK(second.plan.resumed_after == 10);
  REQUIRE(second.iterations.size() == 15);
  for (size_t i = 0; i < 15; ++i) {
    const auto &a = second.iterations[i], &b = reference.iterations[i + 10];
    INFO("iteration " << a.iteration);
    CHECK(a.iteration == b.iteration);
    CHECK(a.loss == b.loss);
    CHECK(a.train_accuracy == b.train_accuracy);
    CHECK(a.test_loss == b.test_loss);
  }
  CHECK(resumed->final_test_loss == uninterrupted->final_test_loss);
  CHECK(resumed->final_test_accuracy == uninterrupted->final_test_accuracy);
  return reference;
}

}  // namespace stodepth::testing
