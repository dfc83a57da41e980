// The network: inference scales each residual by its survival probability.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "model/config.h"
#include "model/resnet.h"
#include "tests/training_fixtures.h"

using namespace stodepth;
using stodepth::testing::synthetic;

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
  const auto& d = synthetic();
  std::vector<float> images(8 * 144);
  std::vector<int32_t> labels(8);
  for (int i = 0; i < 8; ++i) {
    labels[i] = i % 4;
    for (int j = 0; j < 144; ++j) images[i * 144 + j] = d.train.images[i * 784 + j] / 255.f;
  }
  const auto a = stochastic.evaluate(images.data(), labels.data(), 8);
  const auto b = plain.evaluate(images.data(), labels.data(), 8);
  const auto c = unscaled.evaluate(images.data(), labels.data(), 8);
  CHECK(a.mean_loss == Approx(b.mean_loss).epsilon(1e-5));
  CHECK(std::abs(a.mean_loss - c.mean_loss) > 1e-3);
}
