// Convolution FLOPs by hand count, the theoretical speedup and a training step's FLOPs.
#include <catch2/catch.hpp>

#include "model/config.h"
#include "model/flops.h"
#include "model/survival.h"

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
