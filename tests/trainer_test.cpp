// The training loop: learning, determinism, gates, divergence, configs that do not fit the
// data; the gate stream's use in batch and sample mode, sample-mode learning and resuming.
#include "model/trainer.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <numeric>

#include "model/base/rng.h"
#include "model/config/config.h"
#include "model/config/survival.h"
#include "model/data/batcher.h"
#include "model/resnet.h"
#include "model/sgd.h"
#include "tests/training_fixtures.h"

using namespace stodepth;
using stodepth::testing::check_resume_is_bit_identical;
using stodepth::testing::RecordingSink;
using stodepth::testing::small_config;
using stodepth::testing::synthetic;

namespace {

// The training losses of a run's first `steps` steps, by hand: the trainer's random streams
// (model/trainer.cpp derives init 0, gates 1, data 2 from the seed), one ResNet, SGD at the
// schedule's rate, and the gate stream drawn as each mode must: batch mode one gate per block
// and step (its use before sample mode existed), sample mode L × N keep decisions per step,
// block-major.
std::vector<double> losses_by_hand(const TrainConfig& c, const data::Dataset& d, int steps) {
  use_openmp_threads(c.train.threads);  // oneDNN's reductions depend on the thread count
  const auto norm = data::compute_normalization(d);
  data::TrainBatcher batcher(d, norm, c.train.batch, c.train.augment, Rng::derive(c.train.seed, 2));
  const int blocks = c.model.blocks();
  const auto survival = survival_probabilities(c.sd.rule, c.sd.p_L, blocks);
  ResNet net(c.model, survival, {d.channels, d.height, d.width}, d.classes, c.train.batch,
             Rng::derive(c.train.seed, 0), c.sd.mode);
  Rng gate_stream(Rng::derive(c.train.seed, 1));
  const int64_t per_epoch = batcher.batches_per_epoch();
  const int64_t total = total_iterations(c, per_epoch);
  std::vector<double> losses;
  for (int it = 0; it < steps; ++it) {
    batcher.next(net.train_images(), net.train_labels());
    dnn::LossValue value;
    if (c.sd.mode == DropMode::kBatch) {
      std::vector<bool> gates(blocks);
      for (int l = 0; l < blocks; ++l) gates[l] = gate_stream.bernoulli(survival[l]);
      value = net.train_step(gates);
    } else {
      std::vector<std::vector<bool>> keep(blocks, std::vector<bool>(c.train.batch));
      for (int l = 0; l < blocks; ++l)
        for (int n = 0; n < c.train.batch; ++n) keep[l][n] = gate_stream.bernoulli(survival[l]);
      value = net.train_step_per_sample(keep);
    }
    sgd_step(c.train.optimizer, learning_rate(c.train.lr, it, per_epoch, total), net.params());
    losses.push_back(value.mean_loss);
  }
  return losses;
}

std::vector<double> losses_of(const std::vector<IterationRecord>& records) {
  std::vector<double> losses;
  for (const auto& r : records) losses.push_back(r.loss);
  return losses;
}

}  // namespace

TEST_CASE("a depth-8 network learns the synthetic dataset", "[train]") {
  RecordingSink sink;
  auto summary = train(small_config(), synthetic(), sink);
  REQUIRE(summary.ok());
  CHECK(summary->status == RunStatus::kDone);
  REQUIRE(summary->final_test_accuracy.has_value());
  CHECK(*summary->final_test_accuracy >= 0.95);
  // 6000 / 64 = 93 full batches per epoch, 2 epochs.
  REQUIRE(sink.iterations.size() == 186);
  CHECK(sink.iterations.front().iteration == 1);
  CHECK(sink.iterations.back().epoch == 2);
  REQUIRE(sink.evals.size() == 2);
  CHECK(sink.evals[0].iteration == 93);
  CHECK(sink.evals[1].iteration == 186);
  int with_test = 0;
  for (const auto& r : sink.iterations) with_test += r.test_accuracy.has_value();
  CHECK(with_test == 186 / 5);
}

TEST_CASE("same seed gives bit-identical metrics, another seed differs", "[train]") {
  TrainConfig c = small_config();
  c.train.iterations = 25;
  c.eval.every = 1;
  auto run = [&](uint64_t seed) {
    c.train.seed = seed;
    RecordingSink sink;
    REQUIRE(train(c, synthetic(), sink).ok());
    return sink.iterations;
  };
  const auto a = run(1), b = run(1), other = run(2);
  REQUIRE(a.size() == 25);
  bool all_equal = true, any_differs = false;
  for (size_t i = 0; i < a.size(); ++i) {
    all_equal &= a[i].loss == b[i].loss && a[i].active_blocks == b[i].active_blocks &&
                 a[i].test_loss == b[i].test_loss && a[i].learning_rate == b[i].learning_rate;
    any_differs |= a[i].loss != other[i].loss;
  }
  CHECK(all_equal);
  CHECK(any_differs);
}

TEST_CASE("gates follow the survival probabilities", "[train]") {
  TrainConfig c = small_config();
  c.model.depth = 20;  // L = 9
  c.train.batch = 16;
  c.train.iterations = 150;
  c.eval.every = 1000;
  RecordingSink sink;
  auto summary = train(c, synthetic(), sink);
  REQUIRE(summary.ok());
  const double expected = expected_active_blocks(SurvivalRule::kLinear, 0.5, 9);
  CHECK(summary->expected_active_blocks == Approx(expected));
  // Per-step variance Σ p(1-p) ≈ 1.6, so the mean over 150 steps has sd ≈ 0.1.
  CHECK(std::abs(summary->mean_active_blocks - expected) < 0.45);
  int min_active = 9;
  for (const auto& r : sink.iterations) min_active = std::min(min_active, r.active_blocks);
  CHECK(min_active < 9);
}

TEST_CASE("a huge learning rate is reported as divergence", "[train]") {
  TrainConfig c = small_config();
  c.sd.p_L = 1.0;
  c.train.lr.base = 1e8;
  c.train.iterations = 50;
  RecordingSink sink;
  auto summary = train(c, synthetic(), sink);
  REQUIRE(summary.ok());
  CHECK(summary->status == RunStatus::kDiverged);
  CHECK_THAT(summary->message, Catch::StartsWith("diverged at iteration "));
  CHECK(summary->iterations < 50);
}

TEST_CASE("a batch larger than the training set is an error", "[train]") {
  TrainConfig c = small_config();
  c.train.batch = 7000;
  RecordingSink sink;
  auto summary = train(c, synthetic(), sink);
  REQUIRE_FALSE(summary.ok());
  CHECK_THAT(summary.error().message, Catch::StartsWith("train.batch"));
}

TEST_CASE("a held-out validation set is evaluated with the test set at every epoch", "[train]") {
  TrainConfig c = small_config();
  c.train.iterations = 0;
  data::Dataset d = synthetic();
  // The validation set made a copy of the test set: both evaluations must agree exactly,
  // which shows the validation one runs the same inference over the set it is given.
  d.validation = d.test;
  RecordingSink sink;
  auto summary = train(c, d, sink);
  REQUIRE(summary.ok());
  REQUIRE(sink.evals.size() == 2);
  for (const auto& e : sink.evals) {
    REQUIRE(e.validation_accuracy);
    CHECK(*e.validation_accuracy == e.accuracy);
    CHECK(*e.validation_loss == e.loss);
  }

  RecordingSink without;
  REQUIRE(train(c, synthetic(), without).ok());
  REQUIRE(without.evals.size() == 2);
  CHECK_FALSE(without.evals[0].validation_accuracy);
}

TEST_CASE("the trainer's losses are bit-identical to a hand-written loop in either mode",
          "[train][sample]") {
  TrainConfig c = small_config();
  c.train.batch = 32;
  c.train.iterations = 10;
  c.eval.every = 1000;
  for (DropMode mode : {DropMode::kBatch, DropMode::kSample}) {
    INFO("mode " << to_string(mode));
    c.sd.mode = mode;
    RecordingSink sink;
    REQUIRE(train(c, synthetic(), sink).ok());
    const auto by_hand = losses_by_hand(c, synthetic(), 10);
    CHECK(losses_of(sink.iterations) == by_hand);
  }
}

TEST_CASE("a sample-mode run learns, computing every block", "[train][sample]") {
  TrainConfig c = small_config();
  c.sd.mode = DropMode::kSample;
  c.train.epochs = 1;
  RecordingSink sink;
  auto summary = train(c, synthetic(), sink);
  REQUIRE(summary.ok());
  CHECK(summary->status == RunStatus::kDone);
  REQUIRE(sink.iterations.size() == 93);
  const auto mean_loss = [&](size_t from, size_t to) {
    double sum = 0;
    for (size_t i = from; i < to; ++i) sum += sink.iterations[i].loss;
    return sum / double(to - from);
  };
  INFO("mean loss of the first 10 steps " << mean_loss(0, 10) << ", of the last 10 "
                                          << mean_loss(83, 93));
  CHECK(mean_loss(83, 93) < 0.6 * mean_loss(0, 10));  // here 1.03 vs 2.33
  REQUIRE(summary->final_test_accuracy.has_value());
  CHECK(*summary->final_test_accuracy >= 0.8);
  // Every residual branch runs in every step.
  CHECK(sink.plan.expected_active_blocks == 3);
  CHECK(summary->mean_active_blocks == 3);
  for (const auto& r : sink.iterations) CHECK(r.active_blocks == 3);
}

TEST_CASE("a resumed sample-mode run is bit-identical to an uninterrupted one", "[train][sample]") {
  // 10 batches per epoch, so that the resume crosses epoch boundaries.
  const data::Dataset small = data::make_synthetic(640, 300, 1, 28, 10, 5);
  TrainConfig c = small_config();
  c.sd.mode = DropMode::kSample;
  c.train.iterations = 25;
  c.train.augment = {2, true};
  c.eval.every = 3;
  c.eval.batch = 128;
  check_resume_is_bit_identical(c, small);
}
