// Config validation: each message names the key and the fix.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "model/config/config.h"
#include "tests/training_fixtures.h"

using namespace stodepth;
using stodepth::testing::small_config;

TEST_CASE("validation names the key and the fix", "[config]") {
  auto message = [](auto mutate) {
    TrainConfig c = small_config();
    mutate(c);
    const Status s = validate(c);
    return s ? std::string("ok") : s.error().message;
  };
  CHECK(message([](TrainConfig&) {}) == "ok");
  CHECK_THAT(message([](TrainConfig& c) { c.model.depth = 21; }),
             Catch::StartsWith("model.depth: 21 is not 6n+2") && Catch::Contains("20 or 26"));
  CHECK_THAT(message([](TrainConfig& c) { c.sd.p_L = 0; }),
             Catch::StartsWith("stochastic_depth.p_L"));
  CHECK_THAT(message([](TrainConfig& c) { c.sd.p_L = 1.5; }),
             Catch::StartsWith("stochastic_depth.p_L"));
  CHECK_THAT(message([](TrainConfig& c) { c.train.lr.base = std::nan(""); }),
             Catch::StartsWith("train.lr.base"));
  CHECK_THAT(message([](TrainConfig& c) { c.train.lr.base = -0.1; }),
             Catch::StartsWith("train.lr.base"));
  CHECK_THAT(message([](TrainConfig& c) { c.train.batch = 0; }),
             Catch::StartsWith("train.batch"));
  CHECK_THAT(message([](TrainConfig& c) { c.data.name = "fashion-mnst"; }),
             Catch::Contains("did you mean 'fashion-mnist'"));
  CHECK_THAT(message([](TrainConfig& c) { c.eval.every = 0; }), Catch::StartsWith("eval.every"));
}

TEST_CASE("the settings of the paper's protocol are checked with the fix in the message", "[config]") {
  auto message = [](auto mutate) {
    TrainConfig c = small_config();
    mutate(c);
    const Status s = validate(c);
    return s ? std::string("ok") : s.error().message;
  };
  CHECK_THAT(message([](TrainConfig& c) { c.data.validation = -1; }),
             Catch::StartsWith("dataset.validation: must be >= 0"));
  CHECK_THAT(message([](TrainConfig& c) { c.data.validation_seed = 3; }),
             Catch::StartsWith("dataset.validation_seed") && Catch::Contains("set dataset.validation"));
  CHECK(message([](TrainConfig& c) { c.data.validation = 100, c.data.validation_seed = 3; }) == "ok");
  CHECK_THAT(message([](TrainConfig& c) { c.data.extra = true; }),
             Catch::StartsWith("dataset.extra: only svhn"));
  CHECK_THAT(message([](TrainConfig& c) { c.train.lr.warmup_mode = WarmupMode::kConstant; }),
             Catch::StartsWith("train.lr.warmup_mode") && Catch::Contains("train.lr.warmup > 0"));
  CHECK(message([](TrainConfig& c) {
          c.train.lr.warmup_mode = WarmupMode::kConstant, c.train.lr.warmup_epochs = 1;
        }) == "ok");
  CHECK_THAT(message([](TrainConfig& c) {
               c.train.lr.warmup_mode = WarmupMode::kConstant, c.train.lr.warmup_epochs = 1;
               c.train.lr.warmup_lr = 2 * c.train.lr.base;
             }),
             Catch::StartsWith("train.lr.warmup_lr") && Catch::Contains("(0, train.lr.base]"));
  CHECK_THAT(message([](TrainConfig& c) { c.train.lr.warmup_lr = 0.05; }),
             Catch::StartsWith("train.lr.warmup_lr") && Catch::Contains("warmup_mode: constant"));
}
