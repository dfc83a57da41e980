// Convolution FLOPs by hand count, the theoretical speedup and a training step's FLOPs.
#include <catch2/catch.hpp>

#include "model/config/config.h"
#include "model/config/flops.h"
#include "model/config/survival.h"

using namespace stodepth;

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

TEST_CASE("sample mode computes every residual branch: no theoretical speedup", "[flops]") {
  ModelConfig model;
  model.depth = 8;
  const auto a = conv_flops(model, {1, 28, 28});
  const double plain = double(a.fixed + a.residual[0] + a.residual[1] + a.residual[2]);
  const StochasticDepthConfig sample{SurvivalRule::kLinear, 0.5, DropMode::kSample};
  CHECK(residual_compute_probabilities(sample, 3) == std::vector<double>{1.0, 1.0, 1.0});
  CHECK(expected_conv_flops(a, residual_compute_probabilities(sample, 3)) == plain);
  CHECK(theoretical_speedup(model, {1, 28, 28}, SurvivalRule::kLinear, 0.5, DropMode::kSample) ==
        1.0);
  // Batch mode: p_l = 1 − l/L·(1 − p_L) = 5/6, 2/3, 1/2 by hand.
  const StochasticDepthConfig batch{SurvivalRule::kLinear, 0.5, DropMode::kBatch};
  const auto p = residual_compute_probabilities(batch, 3);
  REQUIRE(p.size() == 3);
  CHECK(p[0] == Approx(5.0 / 6));
  CHECK(p[1] == Approx(2.0 / 3));
  CHECK(p[2] == Approx(0.5));
  CHECK(theoretical_speedup(model, {1, 28, 28}, SurvivalRule::kLinear, 0.5, DropMode::kBatch) ==
        theoretical_speedup(model, {1, 28, 28}, SurvivalRule::kLinear, 0.5));
}
