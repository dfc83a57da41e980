// The flags of `train`, generated from the settings table (model/config/settings.h): one per
// setting with a flag, named, described and defaulted as the table says, and --augment.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>

#include "model/config/config.h"
#include "model/config/settings.h"

namespace stodepth::cli {

// Flag values as typed; `resolve` turns them into a TrainConfig.
struct TrainFlags {
  TrainConfig config;  // the settings whose flags bind their member directly
  std::map<std::string, std::string, std::less<>> names;  // an enum setting's name, by key
  // The switch that turns off a setting on by default (--no-nesterov), by key.
  std::map<std::string, bool, std::less<>> off_switches;
  bool augment = false;  // --augment: the paper's CIFAR augmentation, both settings at once
};

void add_train_flags(CLI::App& app, TrainFlags& flags);
// Applies the flags that need it (enum names, off switches, --augment) and validates; the
// Error names the flag and the fix.
Result<TrainConfig> resolve(const TrainFlags& flags);

}  // namespace stodepth::cli
