// Survival probabilities of stochastic depth (Huang et al., 2016, Sec. 3).
#pragma once

#include <vector>

namespace stodepth {

enum class SurvivalRule { kLinear, kUniform };

// How a block is dropped in training.
// kBatch (the paper): one gate per block per mini-batch; a closed gate skips the residual
//   branch's compute, and test time scales the residual by p_l.
// kSample (timm DropPath, torchvision StochasticDepth(mode="row")): one Bernoulli(p_l) per
//   sample, kept residuals scaled by 1/p_l in training, none at test time; full compute.
enum class DropMode { kBatch, kSample };

// p_l for l = 1..L: linear decay p_l = 1 − l/L·(1 − p_L), or uniform p_l = p_L.
// p_L = 1 gives the plain ResNet (every p_l = 1).
std::vector<double> survival_probabilities(SurvivalRule rule, double p_L, int blocks);

// Σ p_l: the expected number of residual blocks active in a training step.
double expected_active_blocks(SurvivalRule rule, double p_L, int blocks);

}  // namespace stodepth
