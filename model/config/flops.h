// Convolution FLOPs of the network, computed from its shape alone: the cost model behind
// the theoretical stochastic-depth speedup (bench, reports) and job ordering.
#pragma once

#include <cstdint>
#include <vector>

#include "model/config/config.h"

namespace stodepth {

struct InputShape {
  int channels = 1, height = 28, width = 28;
};

// The input shape of a dataset by name (28×28 greyscale, or 32×32 colour for CIFAR).
InputShape input_shape_of(const std::string& dataset);

struct ConvFlops {
  int64_t fixed = 0;              // stem and projection shortcuts: run in every step
  int64_t stem = 0;               // the stem's share of `fixed`
  std::vector<int64_t> residual;  // per block: its two 3×3 convolutions
};

// Forward multiply-adds × 2 per image.
ConvFlops conv_flops(const ModelConfig& model, InputShape input);

// Expected forward conv FLOPs per image under survival probabilities p (fixed + Σ p_l·r_l),
// and the theoretical speedup of a step over the plain network's.
double expected_conv_flops(const ConvFlops& flops, const std::vector<double>& survival);
// Expected FLOPs of one training step per image: each convolution runs forward, backward-data
// (but the stem, whose input needs no gradient) and backward-weights, each costing its forward
// FLOPs. Batch norm, ReLU, pooling and the fc layer are left out (memory-bound or negligible).
double expected_training_flops(const ConvFlops& flops, const std::vector<double>& survival);
// Sample mode (DropMode::kSample) runs every residual branch for the whole batch: its
// speedup is 1.
double theoretical_speedup(const ModelConfig& model, InputShape input, SurvivalRule rule,
                           double p_L, DropMode mode = DropMode::kBatch);

// Per block, the probability that its residual branch computes in a training step, for
// expected_conv_flops and expected_training_flops: p_l in batch mode, 1 in sample mode.
std::vector<double> residual_compute_probabilities(const StochasticDepthConfig& sd, int blocks);

}  // namespace stodepth
