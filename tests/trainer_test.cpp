// The training loop: learning, determinism, gates, divergence, configs that do not fit the data.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>

#include "model/config.h"
#include "model/survival.h"
#include "model/trainer.h"
#include "tests/training_fixtures.h"

using namespace stodepth;
using stodepth::testing::RecordingSink;
using stodepth::testing::small_config;
using stodepth::testing::synthetic;

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
