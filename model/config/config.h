// One training run's complete configuration: the keys of `stodepth train` and of a sweep
// file's `base`, grouped by section. Defaults are the paper's where it has one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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

// The arithmetic of training. bf16 is mixed precision: convolutions, the classifier and the
// activations in bf16; master weights, gradients, the update, batch-norm statistics and the
// loss in f32. It needs a CPU with bf16 arithmetic (model/engine_info.h).
enum class Precision { kF32, kBf16 };

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
  Precision precision = Precision::kF32;
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

// The names of an enum's values, as flags, sweep files, the canonical JSON, the database and
// reports write them: names[i] names the enumerator whose value is i. Written once, beside the
// settings table (model/config/settings.cpp).
struct EnumNames {
  std::vector<std::string> names;
  bool ignore_case = false;  // the shortcut's "a" reads as "A"
  std::optional<int> parse(std::string_view text) const;
};

const EnumNames& enum_names(Shortcut);
const EnumNames& enum_names(SurvivalRule);
const EnumNames& enum_names(DropMode);
const EnumNames& enum_names(LrScheduleKind);
const EnumNames& enum_names(WarmupMode);
const EnumNames& enum_names(Precision);

// The enumerator named `name` as enum_names spells it, or nullopt.
template <typename Enum>
std::optional<Enum> parse_enum(std::string_view name) {
  const std::optional<int> value = enum_names(Enum{}).parse(name);
  return value ? std::optional<Enum>(Enum(*value)) : std::nullopt;
}

// A value's name, from enum_names.
const char* to_string(Shortcut s);
const char* to_string(SurvivalRule r);
const char* to_string(LrScheduleKind k);
const char* to_string(DropMode m);
const char* to_string(WarmupMode m);
const char* to_string(Precision p);

// Checks every setting of the settings table (model/config/settings.h): its range, then its
// rule. The message names the key and the fix, e.g. the depth's "21 is not 6n+2 (try 20 or
// 26)".
Status validate(const TrainConfig& config);

// Total training iterations: train.iterations, or epochs × batches per epoch.
int64_t total_iterations(const TrainConfig& config, int64_t batches_per_epoch);

}  // namespace stodepth
