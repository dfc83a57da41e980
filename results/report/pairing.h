// Which runs are compared with which: runs of one configuration across seeds form an arm,
// and each stochastic-depth arm is paired with the plain ResNet arm (p_L = 1) that shares
// every other setting, including those without a column of their own (config JSON).
#pragma once

#include <string>
#include <vector>

#include "results/report/comparison.h"

namespace stodepth::results {

// p_L = 1: every block always survives, a plain ResNet whatever the survival rule.
bool is_baseline(const TrainConfig& config);

// "ResNet (p_L = 1)" or e.g. "SD linear p_L = 0.5", with ", sample mode" if `with_mode`, and
// ", bf16" at bf16 precision.
std::string arm_label(const TrainConfig& config, bool with_mode = false);

// Runs in arms, arms in the order their first run comes; plain runs of any rule or drop mode
// share one. Stochastic arms differ by rule, p_L and mode; labels name the mode when the
// sweep's stochastic runs use more than one.
std::vector<Arm> group_into_arms(const std::vector<RunRow>& runs);

// One Pair per stochastic arm that has a baseline, in arm order, with its titles; the
// statistics are left to add_statistics (pair_statistics.h). Pairs point into `arms`.
std::vector<Pair> pair_arms(const std::vector<Arm>& arms);

}  // namespace stodepth::results
