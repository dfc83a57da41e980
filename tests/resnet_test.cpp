// The network: inference scales each residual by its survival probability in batch mode and
// runs the plain network in sample mode; sample mode's keep decisions.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "model/config/config.h"
#include "model/resnet.h"
#include "tests/training_fixtures.h"

using namespace stodepth;
using stodepth::testing::synthetic;

namespace {

// The first 12×12 pixels of 8 synthetic images, labels 0..3.
struct SmallBatch {
  std::vector<float> images = std::vector<float>(8 * 144);
  std::vector<int32_t> labels = std::vector<int32_t>(8);
  SmallBatch() {
    const auto& d = synthetic();
    for (int i = 0; i < 8; ++i) {
      labels[i] = i % 4;
      for (int j = 0; j < 144; ++j) images[i * 144 + j] = d.train.images[i * 784 + j] / 255.f;
    }
  }
};

}  // namespace

TEST_CASE("inference scales each residual by its survival probability", "[resnet]") {
  // Scaling a block's last BN scale and shift by p scales its residual output by p; a
  // plain network changed that way must match the stochastic network at inference.
  ModelConfig model;
  model.depth = 8;
  const std::vector<double> survival = {0.9, 0.7, 0.4};
  ResNet stochastic(model, survival, {1, 12, 12}, 4, 8, 42);
  ResNet plain(model, {1, 1, 1}, {1, 12, 12}, 4, 8, 42);
  ResNet unscaled(model, {1, 1, 1}, {1, 12, 12}, 4, 8, 42);
  for (int l = 0; l < 3; ++l)
    for (const std::string part : {".bn2.scale", ".bn2.shift"}) {
      const std::string name = "block" + std::to_string(l) + part;
      // Known nonzero values, so that the check also sees the shift.
      const float value = part == ".bn2.scale" ? 1.3f : 0.2f;
      for (ResNet* net : {&stochastic, &plain, &unscaled}) {
        dnn::Param* p = net->params().find(name);
        REQUIRE(p != nullptr);
        const float scaled = net == &plain ? value * float(survival[l]) : value;
        // Channel vectors are plain (format `a`): the buffer is the values.
        for (int64_t c = 0; c < p->value.get_desc().dims()[0]; ++c) dnn::ptr(p->value)[c] = scaled;
      }
    }
  SmallBatch batch;
  const auto a = stochastic.evaluate(batch.images.data(), batch.labels.data(), 8);
  const auto b = plain.evaluate(batch.images.data(), batch.labels.data(), 8);
  const auto c = unscaled.evaluate(batch.images.data(), batch.labels.data(), 8);
  CHECK(a.mean_loss == Approx(b.mean_loss).epsilon(1e-5));
  CHECK(std::abs(a.mean_loss - c.mean_loss) > 1e-3);
}

TEST_CASE("sample mode: inference runs the plain network, residuals unscaled", "[resnet]") {
  ModelConfig model;
  model.depth = 8;
  const std::vector<double> survival = {0.9, 0.7, 0.4};
  ResNet sample(model, survival, {1, 12, 12}, 4, 8, 42, DropMode::kSample);
  ResNet plain(model, {1, 1, 1}, {1, 12, 12}, 4, 8, 42);
  ResNet batch_mode(model, survival, {1, 12, 12}, 4, 8, 42, DropMode::kBatch);
  SmallBatch batch;
  const auto a = sample.evaluate(batch.images.data(), batch.labels.data(), 8);
  const auto b = plain.evaluate(batch.images.data(), batch.labels.data(), 8);
  const auto c = batch_mode.evaluate(batch.images.data(), batch.labels.data(), 8);
  // Same parameters, same primitives: the plain network's loss exactly.
  CHECK(a.mean_loss == b.mean_loss);
  CHECK(a.correct == b.correct);
  CHECK(std::abs(a.mean_loss - c.mean_loss) > 1e-4);  // batch mode scales by p_l
}

TEST_CASE("sample mode: keep decisions are independent Bernoulli(p_l) draws", "[resnet]") {
  const std::vector<double> survival = {1.0, 0.9, 0.5, 0.2};
  const int batch = 64, steps = 500;
  std::vector<std::vector<bool>> keep(survival.size(), std::vector<bool>(batch));
  Rng rng(7);
  std::vector<int64_t> kept(survival.size(), 0);
  int mixed_steps = 0;  // steps in which block 2 keeps some samples and drops others
  for (int step = 0; step < steps; ++step) {
    draw_keep_decisions(rng, survival, keep);
    for (size_t l = 0; l < survival.size(); ++l)
      kept[l] += std::count(keep[l].begin(), keep[l].end(), true);
    const auto kept_2 = std::count(keep[2].begin(), keep[2].end(), true);
    mixed_steps += kept_2 > 0 && kept_2 < batch;
  }
  const double draws = double(batch) * steps;  // 32000 per block
  CHECK(kept[0] == int64_t(draws));            // p_l = 1 keeps every sample
  for (size_t l = 1; l < survival.size(); ++l) {
    INFO("block " << l << ", p " << survival[l] << ", kept " << kept[l]);
    // sd of the fraction sqrt(p(1-p)/32000) <= 0.0028: 0.015 is over 5 sd.
    CHECK(std::abs(double(kept[l]) / draws - survival[l]) < 0.015);
  }
  CHECK(mixed_steps == steps);  // per sample, not per batch (all-equal has odds 2^-63)
  // Block-major from the stream: block l's sample n takes draw l·N + n.
  Rng drawn(11), by_hand(11);
  draw_keep_decisions(drawn, survival, keep);
  bool block_major = true;
  for (size_t l = 0; l < survival.size(); ++l)
    for (int n = 0; n < batch; ++n) block_major &= keep[l][n] == by_hand.bernoulli(survival[l]);
  CHECK(block_major);
  CHECK(drawn.state() == by_hand.state());  // L × N draws, no more
}

TEST_CASE("sample mode's training graph dispatches no reference kernel", "[resnet][sample]") {
  // The per-sample scales are binary primitives over a (1, N, values per sample) view:
  // oneDNN's jit kernels broadcast them (over (N, 1, 1, 1) it would pick ref:any).
  for (const auto& [input, width] :
       {std::pair{InputShape{1, 28, 28}, 1}, std::pair{InputShape{3, 32, 32}, 2}}) {
    const ModelConfig model{14, width, Shortcut::kB};
    ResNet net(model, survival_probabilities(SurvivalRule::kLinear, 0.5, model.blocks()), input,
               10, 64, 1, DropMode::kSample);
    int binaries = 0;
    std::string reference;
    for (const auto& p : net.primitives()) {
      binaries += p.kind == "binary";
      if (p.implementation.rfind("ref", 0) == 0)
        reference += p.kind + ": " + p.implementation + "; ";
    }
    INFO("input " << input.channels << "x" << input.height << ", width " << width);
    CHECK(reference == "");
    // Per block with p_l < 1 (all six): the scaled merge and the gradient's scale, plus
    // the shortcut gradients' accumulations.
    CHECK(binaries >= 12);
  }
}
