#include "tools/train_flags.h"

#include <fmt/format.h>

namespace stodepth::cli {

void add_train_flags(CLI::App& app, TrainFlags& f) {
  TrainConfig& c = f.config;
  const auto& names = data::dataset_names();
  app.add_option("--dataset", c.data.name,
                 fmt::format("Dataset: {}", fmt::join(names, "|")))->capture_default_str();
  app.add_option("--data-dir", c.data.dir,
                 "Directory of the dataset files (default for fashion-mnist: " +
                     std::string(data::kFashionMnistDir) + ")");
  app.add_option("--train-subset", c.data.train_subset,
                 "Use only the first N training examples (0: all)")->capture_default_str();
  app.add_option("--test-subset", c.data.test_subset,
                 "Use only the first N test examples (0: all)")->capture_default_str();
  app.add_option("--validation", c.data.validation,
                 "Hold out N training examples as a validation set, evaluated every epoch "
                 "(the paper: 5000 for CIFAR; 0: none)")->capture_default_str();
  app.add_option("--validation-seed", c.data.validation_seed,
                 "Seed of the validation split (the same for every training seed)")
      ->capture_default_str();
  app.add_flag("--extra", c.data.extra, "svhn: add extra_32x32.mat to the training set");
  app.add_option("--depth", c.model.depth, "ResNet depth 6n+2 (8, 20, 56, 110, ...)")
      ->capture_default_str();
  app.add_option("--width", c.model.width, "Width multiplier k: stages of 16k, 32k, 64k")
      ->capture_default_str();
  app.add_option("--shortcut", f.shortcut,
                 "A: subsample+zero-pad (paper) | B: projection where shape changes | "
                 "C: projection everywhere")->capture_default_str();
  app.add_option("--rule", f.rule, "Survival rule: linear | uniform")->capture_default_str();
  app.add_option("--p-L", c.sd.p_L, "Survival probability of the last block, in (0, 1]; "
                 "1 is the plain ResNet")->capture_default_str();
  app.add_option("--sd-mode", f.drop_mode,
                 "batch: one gate per block per mini-batch, skipped compute (the paper) | "
                 "sample: per-sample gates scaled by 1/p_l (timm DropPath)")
      ->capture_default_str();
  app.add_option("--epochs", c.train.epochs, "Training epochs")->capture_default_str();
  app.add_option("--iterations", c.train.iterations,
                 "Training iterations (overrides --epochs when > 0)")->capture_default_str();
  app.add_option("--batch", c.train.batch, "Mini-batch size")->capture_default_str();
  app.add_option("--lr", c.train.lr.base, "Base learning rate")->capture_default_str();
  app.add_option("--schedule", f.schedule, "LR schedule: constant | step | cosine")
      ->capture_default_str();
  app.add_option("--milestones", c.train.lr.milestones,
                 "Step schedule: epochs at which LR is multiplied by gamma "
                 "(default: 50% and 75% of training, as the paper's 250 and 375 of 500)")
      ->delimiter(',');
  app.add_option("--gamma", c.train.lr.gamma, "Step schedule factor")->capture_default_str();
  app.add_option("--lr-floor", c.train.lr.floor, "Cosine schedule: final LR")
      ->capture_default_str();
  app.add_option("--warmup", c.train.lr.warmup_epochs,
                 "LR warm-up length in epochs (0: none)")->capture_default_str();
  app.add_option("--warmup-mode", f.warmup_mode,
                 "linear: ramp up to --lr | constant: hold --warmup-lr (the paper's 1202 layers)")
      ->capture_default_str();
  app.add_option("--warmup-lr", c.train.lr.warmup_lr, "Constant warm-up: the rate held")
      ->capture_default_str();
  app.add_option("--momentum", c.train.optimizer.momentum, "SGD momentum")
      ->capture_default_str();
  app.add_flag("--no-nesterov", f.no_nesterov, "Plain momentum instead of Nesterov's");
  app.add_option("--weight-decay", c.train.optimizer.weight_decay, "L2 weight decay")
      ->capture_default_str();
  app.add_flag("--augment", f.augment, "Random 4-px-padded crop and horizontal flip "
               "(the paper's CIFAR augmentation)");
  app.add_option("--crop-pad", c.train.augment.crop_pad,
                 "Random crop after zero padding by N pixels (0: off)")->capture_default_str();
  app.add_flag("--flip", c.train.augment.flip, "Random horizontal flip");
  app.add_option("--seed", c.train.seed, "Seed of initialisation, data order and gates")
      ->capture_default_str();
  app.add_option("--threads", c.train.threads, "oneDNN (OpenMP) threads; 0: all cores")
      ->capture_default_str();
  app.add_option("--eval-every", c.eval.every,
                 "Evaluate a test mini-batch every N iterations")->capture_default_str();
  app.add_option("--eval-batch", c.eval.batch, "Test mini-batch size")->capture_default_str();
}

namespace {

template <typename T>
Result<T> parse_choice(const std::string& flag, const std::string& value,
                       std::optional<T> parsed, const std::vector<std::string>& choices) {
  if (parsed) return *parsed;
  const std::string hint = closest_match(value, choices);
  return bad_input(fmt::format("{}: unknown value '{}'{} (one of: {})", flag, value,
                               hint.empty() ? "" : fmt::format(", did you mean '{}'?", hint),
                               fmt::join(choices, ", ")));
}

// Config keys (as in sweep files) and the flags that set them, for error messages.
const std::vector<std::pair<std::string, std::string>> kKeyFlags = {
    {"dataset.name", "--dataset"},       {"dataset.train_subset", "--train-subset"},
    {"dataset.test_subset", "--test-subset"}, {"model.depth", "--depth"},
    {"model.width", "--width"},          {"stochastic_depth.p_L", "--p-L"},
    {"train.epochs", "--epochs"},        {"train.batch", "--batch"},
    {"train.lr.base", "--lr"},           {"train.lr.gamma", "--gamma"},
    {"train.lr.milestones", "--milestones"}, {"train.lr.floor", "--lr-floor"},
    {"train.lr.warmup", "--warmup"},     {"train.momentum", "--momentum"},
    {"train.nesterov", "--no-nesterov"}, {"train.weight_decay", "--weight-decay"},
    {"train.augment.crop_pad", "--crop-pad"}, {"train.threads", "--threads"},
    {"eval.every", "--eval-every"},      {"eval.batch", "--eval-batch"},
    {"dataset.validation_seed", "--validation-seed"}, {"dataset.validation", "--validation"},
    {"dataset.extra", "--extra"},        {"train.lr.warmup_mode", "--warmup-mode"},
    {"train.lr.warmup_lr", "--warmup-lr"},
};

// "model.depth: ..." -> "--depth: ...": users of `train` know flags, not config keys.
Error with_flag_name(const Error& error) {
  for (const auto& [key, flag] : kKeyFlags)
    if (error.message.rfind(key + ":", 0) == 0)
      return bad_input(flag + error.message.substr(key.size()));
  return error;
}

}  // namespace

Result<TrainConfig> resolve(const TrainFlags& f) {
  TrainConfig c = f.config;
  auto shortcut = parse_choice("--shortcut", f.shortcut, parse_shortcut(f.shortcut),
                               {"A", "B", "C"});
  if (!shortcut) return shortcut.error();
  auto rule = parse_choice("--rule", f.rule, parse_rule(f.rule), {"linear", "uniform"});
  if (!rule) return rule.error();
  auto schedule = parse_choice("--schedule", f.schedule, parse_schedule(f.schedule),
                               {"constant", "step", "cosine"});
  if (!schedule) return schedule.error();
  auto drop_mode = parse_choice("--sd-mode", f.drop_mode, parse_drop_mode(f.drop_mode),
                                {"batch", "sample"});
  if (!drop_mode) return drop_mode.error();
  auto warmup_mode = parse_choice("--warmup-mode", f.warmup_mode,
                                  parse_warmup_mode(f.warmup_mode), {"linear", "constant"});
  if (!warmup_mode) return warmup_mode.error();
  c.sd.mode = *drop_mode;
  c.train.lr.warmup_mode = *warmup_mode;
  c.model.shortcut = *shortcut;
  c.sd.rule = *rule;
  c.train.lr.kind = *schedule;
  c.train.optimizer.nesterov = !f.no_nesterov;
  if (f.augment) {
    c.train.augment.crop_pad = c.train.augment.crop_pad ? c.train.augment.crop_pad : 4;
    c.train.augment.flip = true;
  }
  if (auto status = validate(c); !status) return with_flag_name(status.error());
  return c;
}

}  // namespace stodepth::cli
