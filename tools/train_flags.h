// Flags that mirror the keys of a sweep file's `base`, shared by `train` and `bench`.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "model/config/config.h"

namespace stodepth::cli {

// Flag values as typed; `resolve` turns them into a TrainConfig.
struct TrainFlags {
  TrainConfig config;
  std::string shortcut = "A", rule = "linear", schedule = "step";
  std::string drop_mode = "batch", warmup_mode = "linear";
  bool augment = false;
  bool no_nesterov = false;
};

void add_train_flags(CLI::App& app, TrainFlags& flags);
// Applies the string-valued flags and validates; the Error names the flag and the fix.
Result<TrainConfig> resolve(const TrainFlags& flags);

}  // namespace stodepth::cli
