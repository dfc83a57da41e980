// Equivalence of two arms' mean accuracies: two one-sided Welch t tests (TOST, Schuirmann
// 1987). Failing to find a difference is not evidence of no difference; TOST shows the
// difference lies within ±margin. Same conventions as stats.h: nullopt when undefined.
#pragma once

#include <cstddef>
#include <optional>
#include <span>

namespace stodepth::results::stats {

struct EquivalenceTest {
  size_t n_a = 0, n_b = 0;
  double difference = 0;      // mean(a) − mean(b)
  double standard_error = 0;  // √(s²a/na + s²b/nb)
  double df = 0;              // Welch–Satterthwaite
  double p_lower = 1;         // H0: difference ≤ −margin; p = P(T ≥ (difference + margin)/se)
  double p_upper = 1;         // H0: difference ≥ +margin; p = P(T ≤ (difference − margin)/se)
  double p_value = 1;         // max(p_lower, p_upper)
  double ci_low = 0, ci_high = 0;  // the 1 − 2α interval: equivalent iff it is inside ±margin
  bool equivalent = false;         // p_value < alpha
};

// nullopt if an arm has < 2 points, a non-finite input, margin <= 0 or non-finite, alpha
// outside (0, 0.5), or both arms constant (se = 0, df 0/0).
std::optional<EquivalenceTest> tost_welch(std::span<const double> a, std::span<const double> b,
                                          double margin, double alpha = 0.05);

}  // namespace stodepth::results::stats
