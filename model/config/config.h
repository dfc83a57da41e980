// One training run's complete configuration: the keys of `stodepth train` and of a sweep
// file's `base`, grouped by section. Defaults are the paper's where it has one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/config/lr_schedule.h"
#include "model/base/did_you_mean.h"
#include "model/base/result.h"
#include "model/config/data_options.h"
#include "model/config/survival.h"

namespace stodepth {

enum class Shortcut {
  kA,  // parameter-free: stride-2 subsample + zero channel padding (the paper's choice)
  kB,  // 1×1 conv + BN projection where the shape changes, identity elsewhere
  kC,  // projection on every block
};

struct ModelConfig {
  int depth = 110;  // 6n + 2
  int width = 1;    // stage widths 16·k, 32·k, 64·k
  Shortcut shortcut = Shortcut::kA;
  int blocks() const { return 3 * ((depth - 2) / 6); }  // L
};

struct StochasticDepthConfig {
  SurvivalRule rule = SurvivalRule::kLinear;
  double p_L = 0.5;  // 1 is the plain ResNet
  DropMode mode = DropMode::kBatch;
};

struct OptimizerConfig {
  double momentum = 0.9;
  bool nesterov = true;  // as fb.resnet.torch, on which the paper's code is built
  double weight_decay = 1e-4;
};

struct TrainSettings {
  int64_t epochs = 500;
  int64_t iterations = 0;  // when > 0, overrides epochs
  int batch = 128;
  LrSchedule lr;
  OptimizerConfig optimizer;
  data::Augment augment;
  uint64_t seed = 1;
  int threads = 0;  // OpenMP threads for oneDNN; 0: every core
};

struct EvalConfig {
  int every = 10;   // iterations between test mini-batch evaluations
  int batch = 400;  // test mini-batch size (cycling through the test set)
};

struct TrainConfig {
  data::DataOptions data;
  ModelConfig model;
  StochasticDepthConfig sd;
  TrainSettings train;
  EvalConfig eval;
};

// Names used in flags, sweep files, the database and reports.
const char* to_string(Shortcut s);
const char* to_string(SurvivalRule r);
const char* to_string(LrScheduleKind k);
const char* to_string(DropMode m);
const char* to_string(WarmupMode m);
std::optional<Shortcut> parse_shortcut(const std::string& s);
std::optional<SurvivalRule> parse_rule(const std::string& s);
std::optional<LrScheduleKind> parse_schedule(const std::string& s);
std::optional<DropMode> parse_drop_mode(const std::string& s);
std::optional<WarmupMode> parse_warmup_mode(const std::string& s);

// Checks every value against its valid range; the message names the key and the fix,
// e.g. "model.depth: 21 is not 6n+2 (try 20 or 26)".
Status validate(const TrainConfig& config);

// Total training iterations: train.iterations, or epochs × batches per epoch.
int64_t total_iterations(const TrainConfig& config, int64_t batches_per_epoch);

}  // namespace stodepth
