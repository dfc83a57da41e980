#include "model/config/settings.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <type_traits>

#include "model/base/did_you_mean.h"

namespace stodepth {

// --- Enum names -----------------------------------------------------------------------------

std::optional<int> EnumNames::parse(std::string_view text) const {
  const auto same = [&](const std::string& name) {
    if (!ignore_case) return name == text;
    return std::equal(name.begin(), name.end(), text.begin(), text.end(), [](char a, char b) {
      return std::tolower(static_cast<unsigned char>(a)) ==
             std::tolower(static_cast<unsigned char>(b));
    });
  };
  const auto it = std::find_if(names.begin(), names.end(), same);
  if (it == names.end()) return std::nullopt;
  return int(it - names.begin());
}

const EnumNames& enum_names(Shortcut) {
  static const EnumNames names{{"A", "B", "C"}, /*ignore_case=*/true};
  return names;
}
const EnumNames& enum_names(SurvivalRule) {
  static const EnumNames names{{"linear", "uniform"}};
  return names;
}
const EnumNames& enum_names(DropMode) {
  static const EnumNames names{{"batch", "sample"}};
  return names;
}
const EnumNames& enum_names(LrScheduleKind) {
  static const EnumNames names{{"constant", "step", "cosine"}};
  return names;
}
const EnumNames& enum_names(WarmupMode) {
  static const EnumNames names{{"linear", "constant"}};
  return names;
}
const EnumNames& enum_names(Precision) {
  static const EnumNames names{{"f32", "bf16"}};
  return names;
}

bool Range::contains(double x) const {
  return std::isfinite(x) && (min_open ? x > min : x >= min) && (max_open ? x < max : x <= max);
}

namespace {

// --- Building rows --------------------------------------------------------------------------

// `field` is a captureless generic lambda giving the member of a (const) TrainConfig.
template <typename Field>
Member member_of(Field field) {
  using T = std::remove_cvref_t<decltype(field(std::declval<TrainConfig&>()))>;
  if constexpr (std::is_enum_v<T>) {
    return EnumMember{&enum_names(T{}), [](const TrainConfig& c) { return int(Field{}(c)); },
                      [](TrainConfig& c, int value) { Field{}(c) = T(value); },
                      [](const TrainConfig& c) -> const void* { return &Field{}(c); }};
  } else {
    return MemberRef<T>(field);
  }
}

// clang-format off
#define FIELD(path) member_of([](auto& c) -> auto& { return c.path; })
// clang-format on

Range at_least(double min, std::string_view note = "") {
  return {.min = min, .message = fmt::format("{{}} must be >= {}{}", min, note)};
}
Range positive(const char* what) {
  return {.min = 0, .min_open = true, .message = fmt::format("{{}} must be {}", what)};
}
// Integers in lo..hi.
Range between(int lo, int hi) {
  return {.min = double(lo),
          .max = double(hi),
          .message = fmt::format("{{}} is outside {}..{}", lo, hi)};
}
// Numbers in an interval written as "(0, 1]".
Range interval(bool min_open, double lo, double hi, bool max_open, std::string_view note = "") {
  return {.min = lo,
          .max = hi,
          .min_open = min_open,
          .max_open = max_open,
          .message = fmt::format("{{}} is outside {}{}, {}{}{}", min_open ? '(' : '[', lo, hi,
                                 max_open ? ')' : ']', note)};
}

// --- Rules a range cannot say ---------------------------------------------------------------

Problem depth_rule(const TrainConfig& c) {
  const int depth = c.model.depth;
  if (depth >= 8 && (depth - 2) % 6 == 0) return std::nullopt;
  const int below = std::max(8, depth - ((depth - 2) % 6 + 6) % 6);
  return fmt::format("{} is not 6n+2 with n >= 1 (try {} or {})", depth, below, below + 6);
}

Problem dataset_rule(const TrainConfig& c) {
  const auto& names = data::dataset_names();
  if (std::find(names.begin(), names.end(), c.data.name) != names.end()) return std::nullopt;
  const std::string hint = closest_match(c.data.name, names);
  return fmt::format("unknown dataset '{}'{} (one of: {})", c.data.name,
                     hint.empty() ? "" : fmt::format(", did you mean '{}'?", hint),
                     fmt::join(names, ", "));
}

Problem extra_rule(const TrainConfig& c) {
  if (!c.data.extra || c.data.name == "svhn") return std::nullopt;
  return fmt::format("only svhn has extra training images, not {}", c.data.name);
}

Problem validation_seed_rule(const TrainConfig& c) {
  if (c.data.validation_seed == 0 || c.data.validation != 0) return std::nullopt;
  return fmt::format("only a validation set uses it: set {}",
                     setting_of(&TrainConfig::data, &data::DataOptions::validation).key);
}

Problem epochs_rule(const TrainConfig& c) {
  if (c.train.epochs != 0 || c.train.iterations != 0) return std::nullopt;
  return "give a positive number of epochs or iterations";
}

Problem milestones_rule(const TrainConfig& c) {
  const auto& milestones = c.train.lr.milestones;
  for (double m : milestones)
    if (!(std::isfinite(m) && m > 0)) return fmt::format("{} must be a positive epoch", m);
  if (!std::is_sorted(milestones.begin(), milestones.end())) return "must be in increasing order";
  return std::nullopt;
}

Problem floor_rule(const TrainConfig& c) {
  const LrSchedule& lr = c.train.lr;
  if (std::isfinite(lr.floor) && lr.floor >= 0 && lr.floor <= lr.base) return std::nullopt;
  return fmt::format("{} is outside [0, lr.base]", lr.floor);
}

const Setting& warmup_setting() {
  return setting_of(&TrainConfig::train, &TrainSettings::lr, &LrSchedule::warmup_epochs);
}
const Setting& warmup_mode_setting() {
  return setting_of(&TrainConfig::train, &TrainSettings::lr, &LrSchedule::warmup_mode);
}

Problem warmup_mode_rule(const TrainConfig& c) {
  if (c.train.lr.warmup_mode != WarmupMode::kConstant || c.train.lr.warmup_epochs != 0)
    return std::nullopt;
  return fmt::format("constant warm-up needs {} > 0 epochs (the paper's 1202-layer run: 10)",
                     warmup_setting().key);
}

Problem warmup_lr_rule(const TrainConfig& c) {
  const LrSchedule& lr = c.train.lr;
  if (lr.warmup_mode == WarmupMode::kConstant) {
    if (std::isfinite(lr.warmup_lr) && lr.warmup_lr > 0 && lr.warmup_lr <= lr.base)
      return std::nullopt;
    return fmt::format("{} is outside (0, {}]", lr.warmup_lr,
                       setting_of(&TrainConfig::train, &TrainSettings::lr, &LrSchedule::base).key);
  }
  if (lr.warmup_lr == LrSchedule{}.warmup_lr) return std::nullopt;
  return fmt::format("only a constant warm-up uses it: set {}: {}", warmup_mode_setting().key,
                     to_string(WarmupMode::kConstant));
}

Problem nesterov_rule(const TrainConfig& c) {
  if (!c.train.optimizer.nesterov || c.train.optimizer.momentum != 0) return std::nullopt;
  return "Nesterov needs momentum > 0";
}

// --- The table ------------------------------------------------------------------------------

// The table, by section; settings() puts them together in this order.
std::vector<Setting> dataset_settings() {
  return {
      {.key = "dataset.name",
       .member = FIELD(data.name),
       .flag = "--dataset",
       .help = fmt::format("Dataset: {}", fmt::join(data::dataset_names(), "|")),
       .column = "dataset",
       .check = dataset_rule},
      {.key = "dataset.dir",
       .member = FIELD(data.dir),
       .scope = Scope::kMachine,
       .flag = "--data-dir",
       .help = fmt::format("Directory of the dataset files (default for fashion-mnist: {})",
                           data::kFashionMnistDir)},
      {.key = "dataset.train_subset",
       .member = FIELD(data.train_subset),
       .flag = "--train-subset",
       .help = "Use only the first N training examples (0: all)",
       .range = Range{.min = 0, .message = "must be >= 0"}},
      {.key = "dataset.test_subset",
       .member = FIELD(data.test_subset),
       .flag = "--test-subset",
       .help = "Use only the first N test examples (0: all)",
       .range = Range{.min = 0, .message = "must be >= 0"}},
      {.key = "dataset.synthetic_seed", .member = FIELD(data.synthetic_seed)},
      {.key = "dataset.validation",
       .member = FIELD(data.validation),
       .added_later = true,
       .flag = "--validation",
       .help = "Hold out N training examples as a validation set, evaluated every epoch "
               "(the paper: 5000 for CIFAR; 0: none)",
       .range = Range{.min = 0, .message = "must be >= 0 (0: no validation set)"}},
      {.key = "dataset.validation_seed",
       .member = FIELD(data.validation_seed),
       .added_later = true,
       .flag = "--validation-seed",
       .help = "Seed of the validation split (the same for every training seed)",
       .check = validation_seed_rule},
      {.key = "dataset.extra",
       .member = FIELD(data.extra),
       .added_later = true,
       .flag = "--extra",
       .help = "svhn: add extra_32x32.mat to the training set",
       .check = extra_rule},
  };
}

std::vector<Setting> network_settings() {
  return {
      {.key = "model.depth",
       .member = FIELD(model.depth),
       .flag = "--depth",
       .help = "ResNet depth 6n+2 (8, 20, 56, 110, ...)",
       .column = "depth",
       .check = depth_rule},
      {.key = "model.width",
       .member = FIELD(model.width),
       .flag = "--width",
       .help = "Width multiplier k: stages of 16k, 32k, 64k",
       .column = "width",
       .range = between(1, 16)},
      {.key = "model.shortcut",
       .member = FIELD(model.shortcut),
       .flag = "--shortcut",
       .help = "A: subsample+zero-pad (paper) | B: projection where shape changes | "
               "C: projection everywhere",
       .column = "shortcut"},
      {.key = "stochastic_depth.rule",
       .member = FIELD(sd.rule),
       .flag = "--rule",
       .help = "Survival rule: {values}",
       .column = "rule"},
      {.key = "stochastic_depth.p_L",
       .member = FIELD(sd.p_L),
       .flag = "--p-L",
       .help = "Survival probability of the last block, in (0, 1]; 1 is the plain ResNet",
       .column = "p_L",
       .range = interval(true, 0, 1, false, " (1 is the plain ResNet)")},
      {.key = "stochastic_depth.mode",
       .member = FIELD(sd.mode),
       .added_later = true,
       .flag = "--sd-mode",
       .help = "batch: one gate per block per mini-batch, skipped compute (the paper) | "
               "sample: per-sample gates scaled by 1/p_l (timm DropPath)"},
  };
}

// The schedule first: the store's columns follow the table's order.
std::vector<Setting> training_settings() {
  return {
      {.key = "train.lr.schedule",
       .member = FIELD(train.lr.kind),
       .flag = "--schedule",
       .help = "LR schedule: {values}",
       .column = "schedule"},
      {.key = "train.lr.base",
       .member = FIELD(train.lr.base),
       .flag = "--lr",
       .help = "Base learning rate",
       .column = "lr",
       .range = positive("a positive finite number")},
      {.key = "train.batch",
       .member = FIELD(train.batch),
       .flag = "--batch",
       .help = "Mini-batch size",
       .column = "batch",
       .range = positive("positive")},
      {.key = "train.epochs",
       .member = FIELD(train.epochs),
       .flag = "--epochs",
       .help = "Training epochs",
       .column = "epochs",
       .range = at_least(0),
       .check = epochs_rule},
      {.key = "train.iterations",
       .member = FIELD(train.iterations),
       .flag = "--iterations",
       .help = "Training iterations (overrides --epochs when > 0)",
       .column = "iterations",
       .range = at_least(0)},
      {.key = "train.lr.milestones",
       .member = FIELD(train.lr.milestones),
       .flag = "--milestones",
       .help = "Step schedule: epochs at which LR is multiplied by gamma "
               "(default: 50% and 75% of training, as the paper's 250 and 375 of 500)",
       .check = milestones_rule},
      {.key = "train.lr.gamma",
       .member = FIELD(train.lr.gamma),
       .flag = "--gamma",
       .help = "Step schedule factor",
       .range = interval(true, 0, 1, false)},
      {.key = "train.lr.floor",
       .member = FIELD(train.lr.floor),
       .flag = "--lr-floor",
       .help = "Cosine schedule: final LR",
       .check = floor_rule},
      {.key = "train.lr.warmup",
       .member = FIELD(train.lr.warmup_epochs),
       .flag = "--warmup",
       .help = "LR warm-up length in epochs (0: none)",
       .range = at_least(0, " epochs")},
      {.key = "train.lr.warmup_mode",
       .member = FIELD(train.lr.warmup_mode),
       .added_later = true,
       .flag = "--warmup-mode",
       .help = "linear: ramp up to --lr | constant: hold --warmup-lr (the paper's 1202 layers)",
       .check = warmup_mode_rule},
      {.key = "train.lr.warmup_lr",
       .member = FIELD(train.lr.warmup_lr),
       .added_later = true,
       .flag = "--warmup-lr",
       .help = "Constant warm-up: the rate held",
       .check = warmup_lr_rule},
      {.key = "train.momentum",
       .member = FIELD(train.optimizer.momentum),
       .flag = "--momentum",
       .help = "SGD momentum",
       .range = interval(false, 0, 1, true)},
      // On by default, so its flag turns it off.
      {.key = "train.nesterov",
       .member = FIELD(train.optimizer.nesterov),
       .flag = "--no-nesterov",
       .help = "Plain momentum instead of Nesterov's",
       .check = nesterov_rule},
      {.key = "train.weight_decay",
       .member = FIELD(train.optimizer.weight_decay),
       .flag = "--weight-decay",
       .help = "L2 weight decay",
       .range = at_least(0)},
      // The CPU's part (bf16 arithmetic) is checked where the run trains: model/engine_info.h.
      {.key = "train.precision",
       .member = FIELD(train.precision),
       .added_later = true,
       .shown_when_set = true,
       .flag = "--precision",
       .help = "Arithmetic: {values} (bf16: mixed precision, on CPUs with bf16 arithmetic, "
               "AVX-512 BF16 or AMX)"},
  };
}

std::vector<Setting> run_settings() {
  return {
      {.key = "train.augment.crop_pad",
       .member = FIELD(train.augment.crop_pad),
       .flag = "--crop-pad",
       .help = "Random crop after zero padding by N pixels (0: off)",
       .range = between(0, 16)},
      {.key = "train.augment.flip",
       .member = FIELD(train.augment.flip),
       .flag = "--flip",
       .help = "Random horizontal flip"},
      {.key = "train.seed",
       .member = FIELD(train.seed),
       .scope = Scope::kSeed,
       .flag = "--seed",
       .help = "Seed of initialisation, data order and gates",
       .column = "seed"},
      {.key = "train.threads",
       .member = FIELD(train.threads),
       .scope = Scope::kMachine,
       .flag = "--threads",
       .help = "oneDNN (OpenMP) threads; 0: all cores",
       .range = between(0, 1024)},
      {.key = "eval.every",
       .member = FIELD(eval.every),
       .flag = "--eval-every",
       .help = "Evaluate a test mini-batch every N iterations",
       .range = at_least(1)},
      {.key = "eval.batch",
       .member = FIELD(eval.batch),
       .flag = "--eval-batch",
       .help = "Test mini-batch size",
       .range = at_least(1)},
  };
}

std::vector<Setting> make_settings() {
  std::vector<Setting> table;
  for (auto part : {dataset_settings, network_settings, training_settings, run_settings})
    for (Setting& setting : part()) table.push_back(std::move(setting));
  return table;
}

#undef FIELD

const void* address_in(const Setting& setting, const TrainConfig& config) {
  return visit_member(setting, config, [&](const auto& member) -> const void* {
    if constexpr (std::is_same_v<std::decay_t<decltype(member)>, EnumMember>)
      return member.address(config);
    else
      return &member;
  });
}

std::optional<std::string> range_problem(const Setting& setting, const TrainConfig& config) {
  if (!setting.range) return std::nullopt;
  return visit_member(setting, config, [&](const auto& value) -> std::optional<std::string> {
    using T = std::decay_t<decltype(value)>;
    if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
      if (setting.range->contains(double(value))) return std::nullopt;
      return fmt::format(fmt::runtime(setting.range->message), value);
    } else {
      return std::nullopt;
    }
  });
}

}  // namespace

std::span<const Setting> settings() {
  static const std::vector<Setting> table = make_settings();
  return table;
}

const Setting* find_setting(std::string_view key) {
  for (const Setting& setting : settings())
    if (setting.key == key) return &setting;
  return nullptr;
}

const Setting* setting_at(const TrainConfig& config, const void* address) {
  for (const Setting& setting : settings())
    if (address_in(setting, config) == address) return &setting;
  return nullptr;
}

std::string section_spanning(const void* begin, const void* end, const TrainConfig& config) {
  const auto inside = [&](const Setting& setting) {
    const auto* at = static_cast<const char*>(address_in(setting, config));
    return at >= static_cast<const char*>(begin) && at < static_cast<const char*>(end);
  };
  std::string prefix;
  for (const Setting& setting : settings()) {
    if (!inside(setting)) continue;
    const std::string key = setting.key;
    if (prefix.empty()) {
      prefix = key.substr(0, key.rfind('.') + 1);
    } else {
      size_t n = 0;
      while (n < prefix.size() && n < key.size() && prefix[n] == key[n]) ++n;
      prefix = prefix.substr(0, prefix.rfind('.', n - 1) + 1);
    }
  }
  return prefix;
}

std::string value_text(const Setting& setting, const TrainConfig& config) {
  return visit_member(setting, config, [&](const auto& value) -> std::string {
    using T = std::decay_t<decltype(value)>;
    if constexpr (std::is_same_v<T, EnumMember>)
      return value.names->names.at(size_t(value.get(config)));
    else if constexpr (std::is_same_v<T, std::vector<double>>)
      return fmt::format("[{}]", fmt::join(value, ", "));
    else
      return fmt::format("{}", value);
  });
}

bool same_value(const Setting& setting, const TrainConfig& a, const TrainConfig& b) {
  return visit_member(setting, a, [&](const auto& value_a) {
    return visit_member(setting, b, [&](const auto& value_b) {
      using A = std::decay_t<decltype(value_a)>;
      using B = std::decay_t<decltype(value_b)>;
      if constexpr (!std::is_same_v<A, B>)
        return false;
      else if constexpr (std::is_same_v<A, EnumMember>)
        return value_a.get(a) == value_b.get(b);
      else
        return value_a == value_b;
    });
  });
}

Status validate(const TrainConfig& config) {
  for (const Setting& setting : settings()) {
    Problem problem = range_problem(setting, config);
    if (!problem && setting.check) problem = setting.check(config);
    if (problem) return bad_input(fmt::format("{}: {}", setting.key, *problem));
  }
  return ok_status();
}

}  // namespace stodepth
