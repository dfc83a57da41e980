#include "model/config/survival.h"

#include <numeric>

namespace stodepth {

std::vector<double> survival_probabilities(SurvivalRule rule, double p_L, int blocks) {
  std::vector<double> p(blocks);
  for (int l = 1; l <= blocks; ++l)
    p[l - 1] = rule == SurvivalRule::kUniform ? p_L : 1.0 - double(l) / blocks * (1.0 - p_L);
  return p;
}

double expected_active_blocks(SurvivalRule rule, double p_L, int blocks) {
  const auto p = survival_probabilities(rule, p_L, blocks);
  return std::accumulate(p.begin(), p.end(), 0.0);
}

}  // namespace stodepth
