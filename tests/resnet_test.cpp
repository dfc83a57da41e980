// The model and training loop: survival rules, schedules, config validation, inference
// scaling, determinism, learning, divergence.
#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>

#include "model/config.h"
#include "model/data/dataset.h"
#include "model/flops.h"
#include "model/lr_schedule.h"
#include "model/resnet.h"
#include "model/survival.h"
#include "model/trainer.h"

using namespace stodepth;

namespace {

// Records everything the trainer reports.
struct RecordingSink : MetricsSink {
  std::vector<IterationRecord> iterations;
  std::vector<TestEvalRecord> evals;
  void on_iteration(const IterationRecord& r) override { iterations.push_back(r); }
  void on_test_eval(const TestEvalRecord& r) override { evals.push_back(r); }
};

TrainConfig small_config() {
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

const data::Dataset& synthetic() {
  static const data::Dataset d = data::make_synthetic(6000, 1000, 1, 28, 10, 3);
  return d;
}

}  // namespace

TEST_CASE("linear survival decays from 1 to p_L; uniform is constant", "[survival]") {
  const auto p = survival_probabilities(SurvivalRule::kLinear, 0.5, 4);
  REQUIRE(p.size() == 4);
  CHECK(p[0] == Approx(0.875));  // 1 - 1/4 * 0.5
  CHECK(p[1] == Approx(0.75));
  CHECK(p[3] == Approx(0.5));
  for (double v : survival_probabilities(SurvivalRule::kUniform, 0.3, 5)) CHECK(v == 0.3);
  for (double v : survival_probabilities(SurvivalRule::kLinear, 1.0, 9)) CHECK(v == 1.0);
}

TEST_CASE("expected depth of ResNet-110 with p_L = 0.5 is the paper's (3L-1)/4", "[survival]") {
  const int L = ModelConfig{110}.blocks();
  REQUIRE(L == 54);
  // Huang et al. (2016), Sec. 3: E[active blocks] = (3L - 1)/4 = 40.25, "about 40".
  CHECK(expected_active_blocks(SurvivalRule::kLinear, 0.5, L) == Approx((3.0 * L - 1) / 4));
  CHECK(expected_active_blocks(SurvivalRule::kUniform, 0.5, L) == Approx(27.0));
}

TEST_CASE("learning-rate schedules", "[schedule]") {
  LrSchedule step;
  step.kind = LrScheduleKind::kStep;
  step.base = 0.1;
  step.milestones = {2, 3};
  // 10 iterations per epoch, 50 in all.
  CHECK(learning_rate(step, 0, 10, 50) == Approx(0.1));
  CHECK(learning_rate(step, 19, 10, 50) == Approx(0.1));
  CHECK(learning_rate(step, 20, 10, 50) == Approx(0.01));
  CHECK(learning_rate(step, 30, 10, 50) == Approx(0.001));
  step.milestones.clear();  // the paper's 50% / 75%
  CHECK(learning_rate(step, 24, 10, 50) == Approx(0.1));
  CHECK(learning_rate(step, 25, 10, 50) == Approx(0.01));
  CHECK(learning_rate(step, 38, 10, 50) == Approx(0.001));

  LrSchedule cosine;
  cosine.kind = LrScheduleKind::kCosine;
  cosine.base = 0.2;
  cosine.floor = 0.02;
  CHECK(learning_rate(cosine, 0, 10, 101) == Approx(0.2));
  CHECK(learning_rate(cosine, 50, 10, 101) == Approx(0.11));  // midpoint: (0.2 + 0.02) / 2
  CHECK(learning_rate(cosine, 100, 10, 101) == Approx(0.02));

  LrSchedule warm;
  warm.kind = LrScheduleKind::kConstant;
  warm.base = 0.4;
  warm.warmup_epochs = 0.5;  // 5 iterations
  CHECK(learning_rate(warm, 0, 10, 100) == Approx(0.08));
  CHECK(learning_rate(warm, 4, 10, 100) == Approx(0.4));
  CHECK(learning_rate(warm, 70, 10, 100) == Approx(0.4));
}

TEST_CASE("validation names the key and the fix", "[config]") {
  auto message = [](auto mutate) {
    TrainConfig c = small_config();
    mutate(c);
    const Status s = validate(c);
    return s ? std::string("ok") : s.error().message;
  };
  CHECK(message([](TrainConfig&) {}) == "ok");
  CHECK_THAT(message([](TrainConfig& c) { c.model.depth = 21; }),
             Catch::StartsWith("model.depth: 21 is not 6n+2") && Catch::Contains("20 or 26"));
  CHECK_THAT(message([](TrainConfig& c) { c.sd.p_L = 0; }),
             Catch::StartsWith("stochastic_depth.p_L"));
  CHECK_THAT(message([](TrainConfig& c) { c.sd.p_L = 1.5; }),
             Catch::StartsWith("stochastic_depth.p_L"));
  CHECK_THAT(message([](TrainConfig& c) { c.train.lr.base = std::nan(""); }),
             Catch::StartsWith("train.lr.base"));
  CHECK_THAT(message([](TrainConfig& c) { c.train.lr.base = -0.1; }),
             Catch::StartsWith("train.lr.base"));
  CHECK_THAT(message([](TrainConfig& c) { c.train.batch = 0; }),
             Catch::StartsWith("train.batch"));
  CHECK_THAT(message([](TrainConfig& c) { c.data.name = "fashion-mnst"; }),
             Catch::Contains("did you mean 'fashion-mnist'"));
  CHECK_THAT(message([](TrainConfig& c) { c.eval.every = 0; }), Catch::StartsWith("eval.every"));
}

TEST_CASE("inference scales each residual by its survival probability", "[resnet]") {
  // Scaling a block's last BN scale and shift by p scales its residual output by p; a
  // plain network changed that way must match the stochastic network at inference.
  ModelConfig model;
  model.depth = 8;
  const std::vector<double> survival = {0.9, 0.7, 0.4};
  ResNet stochastic(model, survival, {1, 12, 12}, 4, 8, 42);
  ResNet plain(model, {1, 1, 1}, {1, 12, 12}, 4, 8, 42);
  ResNet unscaled(model, {1, 1, 1}, {1, 12, 12}, 4, 8, 42);
  for (int l = 0; l < 3; ++l)
    for (const std::string part : {".bn2.scale", ".bn2.shift"}) {
      const std::string name = "block" + std::to_string(l) + part;
      // Known nonzero values, so that the check also sees the shift.
      const float value = part == ".bn2.scale" ? 1.3f : 0.2f;
      for (ResNet* net : {&stochastic, &plain, &unscaled}) {
        dnn::Param* p = net->params().find(name);
        REQUIRE(p != nullptr);
        const float scaled = net == &plain ? value * float(survival[l]) : value;
        // Channel vectors are plain (format `a`): the buffer is the values.
        for (int64_t c = 0; c < p->value.get_desc().dims()[0]; ++c) dnn::ptr(p->value)[c] = scaled;
      }
    }
  const auto& d = synthetic();
  std::vector<float> images(8 * 144);
  std::vector<int32_t> labels(8);
  for (int i = 0; i < 8; ++i) {
    labels[i] = i % 4;
    for (int j = 0; j < 144; ++j) images[i * 144 + j] = d.train.images[i * 784 + j] / 255.f;
  }
  const auto a = stochastic.evaluate(images.data(), labels.data(), 8);
  const auto b = plain.evaluate(images.data(), labels.data(), 8);
  const auto c = unscaled.evaluate(images.data(), labels.data(), 8);
  CHECK(a.mean_loss == Approx(b.mean_loss).epsilon(1e-5));
  CHECK(std::abs(a.mean_loss - c.mean_loss) > 1e-3);
}

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

TEST_CASE("same seed gives bit-identical metrics; another seed differs", "[train]") {
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

TEST_CASE("convolution FLOPs and the theoretical speedup", "[flops]") {
  ModelConfig model;
  model.depth = 8;  // one block per stage
  const auto a = conv_flops(model, {1, 28, 28});
  // Hand count, 2·Cin·Cout·k²·H'·W' per convolution.
  CHECK(a.fixed == 2LL * 1 * 16 * 9 * 28 * 28);
  REQUIRE(a.residual.size() == 3);
  CHECK(a.residual[0] == 2 * (2LL * 16 * 16 * 9 * 28 * 28));
  CHECK(a.residual[1] == 2LL * 16 * 32 * 9 * 14 * 14 + 2LL * 32 * 32 * 9 * 14 * 14);
  CHECK(a.residual[2] == 2LL * 32 * 64 * 9 * 7 * 7 + 2LL * 64 * 64 * 9 * 7 * 7);
  model.shortcut = Shortcut::kB;  // projections at the two stage changes
  CHECK(conv_flops(model, {1, 28, 28}).fixed ==
        a.fixed + 2LL * 16 * 32 * 14 * 14 + 2LL * 32 * 64 * 7 * 7);
  model.shortcut = Shortcut::kA;
  const double plain = double(a.fixed + a.residual[0] + a.residual[1] + a.residual[2]);
  const auto p = survival_probabilities(SurvivalRule::kLinear, 0.5, 3);
  const double expected = double(a.fixed) + p[0] * double(a.residual[0]) +
                          p[1] * double(a.residual[1]) + p[2] * double(a.residual[2]);
  CHECK(theoretical_speedup(model, {1, 28, 28}, SurvivalRule::kLinear, 0.5) ==
        Approx(plain / expected));
  CHECK(theoretical_speedup(model, {1, 28, 28}, SurvivalRule::kLinear, 1.0) == Approx(1.0));
  // A training step: forward, backward-data and backward-weights of every active convolution,
  // except the stem's backward-data (18,289,152 forward FLOPs by hand; the stem 225,792).
  CHECK(a.stem == a.fixed);
  CHECK(expected_training_flops(a, survival_probabilities(SurvivalRule::kLinear, 1.0, 3)) ==
        Approx(3 * 18289152.0 - 225792.0));
  CHECK(expected_training_flops(a, p) == Approx(3 * expected - double(a.fixed)));
}
