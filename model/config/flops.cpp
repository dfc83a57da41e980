#include "model/config/flops.h"

namespace stodepth {

InputShape input_shape_of(const std::string& dataset) {
  if (dataset == "cifar10" || dataset == "cifar100") return {3, 32, 32};
  return {1, 28, 28};
}

namespace {

int64_t conv(int64_t in_channels, int64_t out_channels, int kernel, int64_t out_h,
             int64_t out_w) {
  return 2 * in_channels * out_channels * kernel * kernel * out_h * out_w;
}

}  // namespace

ConvFlops conv_flops(const ModelConfig& model, InputShape input) {
  ConvFlops out;
  const int per_stage = (model.depth - 2) / 6;
  int64_t channels = 16 * model.width, h = input.height, w = input.width;
  out.stem = conv(input.channels, channels, 3, h, w);
  out.fixed = out.stem;
  for (int l = 0; l < model.blocks(); ++l) {
    const int stage = l / per_stage;
    const int64_t width = int64_t(16 * model.width) << stage;
    const int stride = stage > 0 && l % per_stage == 0 ? 2 : 1;
    const int64_t oh = (h - 1) / stride + 1, ow = (w - 1) / stride + 1;
    const bool shape_changes = stride != 1 || channels != width;
    out.residual.push_back(conv(channels, width, 3, oh, ow) + conv(width, width, 3, oh, ow));
    if (model.shortcut == Shortcut::kC || (model.shortcut == Shortcut::kB && shape_changes))
      out.fixed += conv(channels, width, 1, oh, ow);
    channels = width, h = oh, w = ow;
  }
  return out;
}

double expected_conv_flops(const ConvFlops& flops, const std::vector<double>& survival) {
  double total = double(flops.fixed);
  for (size_t l = 0; l < flops.residual.size(); ++l) total += survival[l] * double(flops.residual[l]);
  return total;
}

double expected_training_flops(const ConvFlops& flops, const std::vector<double>& survival) {
  return 3 * expected_conv_flops(flops, survival) - double(flops.stem);
}

double theoretical_speedup(const ModelConfig& model, InputShape input, SurvivalRule rule,
                           double p_L, DropMode mode) {
  const ConvFlops flops = conv_flops(model, input);
  const int blocks = model.blocks();
  return expected_conv_flops(flops, survival_probabilities(rule, 1.0, blocks)) /
         expected_conv_flops(flops, residual_compute_probabilities({rule, p_L, mode}, blocks));
}

std::vector<double> residual_compute_probabilities(const StochasticDepthConfig& sd, int blocks) {
  if (sd.mode == DropMode::kSample) return std::vector<double>(blocks, 1.0);
  return survival_probabilities(sd.rule, sd.p_L, blocks);
}

}  // namespace stodepth
