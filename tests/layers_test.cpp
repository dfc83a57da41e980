// Batch-norm running statistics (a hand-written update) and their use at inference.
#include <catch2/catch.hpp>

#include <cmath>

#include "model/dnn/layers.h"
#include "model/base/rng.h"

using namespace stodepth;
using namespace stodepth::dnn;

TEST_CASE("batch-norm running statistics follow PyTorch's update", "[layers]") {
  Context ctx;
  ParamStore params;
  const int n = 4, c = 3, hw = 5;  // (N, C, H, W) = (4, 3, 5, 5)
  const auto desc = f32_desc({n, c, hw, hw}, Tag::nchw);
  BatchNorm train(ctx, params, "bn", desc, {.block = 0}, Mode::kTrain);
  memory x = zeros(desc, ctx.engine), y = zeros(desc, ctx.engine);
  OpList ops;
  train.forward(ops, x, y);

  Rng rng(9);
  std::vector<double> mean(c, 0.0), var(c, 1.0);
  for (int step = 0; step < 3; ++step) {
    float* data = ptr(x);
    for (int i = 0; i < n * c * hw * hw; ++i) data[i] = float(rng.normal() * (1 + step) + step);
    ops.execute(ctx.stream);
    // Independent reference: batch mean and unbiased variance per channel, momentum 0.1.
    for (int ch = 0; ch < c; ++ch) {
      double sum = 0, sq = 0;
      const int count = n * hw * hw;
      for (int b = 0; b < n; ++b)
        for (int i = 0; i < hw * hw; ++i) sum += data[(b * c + ch) * hw * hw + i];
      const double m = sum / count;
      for (int b = 0; b < n; ++b)
        for (int i = 0; i < hw * hw; ++i) {
          const double d = data[(b * c + ch) * hw * hw + i] - m;
          sq += d * d;
        }
      mean[ch] = 0.9 * mean[ch] + 0.1 * m;
      var[ch] = 0.9 * var[ch] + 0.1 * sq / (count - 1);
    }
  }
  for (int ch = 0; ch < c; ++ch) {
    CHECK(train.running().mean[ch] == Approx(mean[ch]).epsilon(1e-5));
    CHECK(train.running().variance[ch] == Approx(var[ch]).epsilon(1e-4));
  }

  // Inference normalises with the running statistics (scale 1, shift 0 by default: the
  // params were created zeroed, so set the scale).
  for (int ch = 0; ch < c; ++ch) ptr(params.find("bn.scale")->value)[ch] = 1.0f;
  BatchNorm infer(ctx, params, "bn", desc, {.block = 0}, Mode::kInfer);
  OpList infer_ops;
  infer.forward(infer_ops, x, y);
  infer_ops.execute(ctx.stream);
  for (int ch = 0; ch < c; ++ch) {
    const int i = (1 * c + ch) * hw * hw + 7;
    const double expect = (ptr(x)[i] - mean[ch]) / std::sqrt(var[ch] + 1e-5);
    CHECK(ptr(y)[i] == Approx(expect).epsilon(1e-4));
  }
}
