// Survival probabilities per block and the expected number of active blocks.
#include <catch2/catch.hpp>

#include "model/config/config.h"
#include "model/config/survival.h"

using namespace stodepth;

TEST_CASE("linear survival decays from 1 to p_L, uniform is constant", "[survival]") {
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
