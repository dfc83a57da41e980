#include "model/config/config.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace stodepth {

const char* to_string(Shortcut s) {
  switch (s) {
    case Shortcut::kA: return "A";
    case Shortcut::kB: return "B";
    case Shortcut::kC: return "C";
  }
  return "?";
}
const char* to_string(SurvivalRule r) { return r == SurvivalRule::kLinear ? "linear" : "uniform"; }
const char* to_string(LrScheduleKind k) {
  switch (k) {
    case LrScheduleKind::kConstant: return "constant";
    case LrScheduleKind::kStep: return "step";
    case LrScheduleKind::kCosine: return "cosine";
  }
  return "?";
}

const char* to_string(DropMode m) { return m == DropMode::kBatch ? "batch" : "sample"; }
const char* to_string(WarmupMode m) { return m == WarmupMode::kLinear ? "linear" : "constant"; }

std::optional<Shortcut> parse_shortcut(const std::string& s) {
  if (s == "A" || s == "a") return Shortcut::kA;
  if (s == "B" || s == "b") return Shortcut::kB;
  if (s == "C" || s == "c") return Shortcut::kC;
  return std::nullopt;
}
std::optional<SurvivalRule> parse_rule(const std::string& s) {
  if (s == "linear") return SurvivalRule::kLinear;
  if (s == "uniform") return SurvivalRule::kUniform;
  return std::nullopt;
}
std::optional<LrScheduleKind> parse_schedule(const std::string& s) {
  if (s == "constant") return LrScheduleKind::kConstant;
  if (s == "step") return LrScheduleKind::kStep;
  if (s == "cosine") return LrScheduleKind::kCosine;
  return std::nullopt;
}

std::optional<DropMode> parse_drop_mode(const std::string& s) {
  if (s == "batch") return DropMode::kBatch;
  if (s == "sample") return DropMode::kSample;
  return std::nullopt;
}
std::optional<WarmupMode> parse_warmup_mode(const std::string& s) {
  if (s == "linear") return WarmupMode::kLinear;
  if (s == "constant") return WarmupMode::kConstant;
  return std::nullopt;
}

namespace {

bool finite_positive(double x) { return std::isfinite(x) && x > 0; }

Error bad(const std::string& key, const std::string& message) {
  return bad_input(fmt::format("{}: {}", key, message));
}

}  // namespace


Status validate(const TrainConfig& c) {
  const int depth = c.model.depth;
  if (depth < 8 || (depth - 2) % 6 != 0) {
    const int below = std::max(8, depth - ((depth - 2) % 6 + 6) % 6);
    return bad("model.depth", fmt::format("{} is not 6n+2 with n >= 1 (try {} or {})", depth,
                                          below, below + 6));
  }
  if (c.model.width < 1 || c.model.width > 16)
    return bad("model.width", fmt::format("{} is outside 1..16", c.model.width));
  if (!(c.sd.p_L > 0 && c.sd.p_L <= 1))
    return bad("stochastic_depth.p_L",
               fmt::format("{} is outside (0, 1] (1 is the plain ResNet)", c.sd.p_L));
  const auto& t = c.train;
  if (t.iterations < 0) return bad("train.iterations", fmt::format("{} must be >= 0", t.iterations));
  if (t.epochs < 0) return bad("train.epochs", fmt::format("{} must be >= 0", t.epochs));
  if (t.epochs == 0 && t.iterations == 0)
    return bad("train.epochs", "give a positive number of epochs or iterations");
  if (t.batch <= 0) return bad("train.batch", fmt::format("{} must be positive", t.batch));
  if (!finite_positive(t.lr.base))
    return bad("train.lr.base", fmt::format("{} must be a positive finite number", t.lr.base));
  if (!(std::isfinite(t.lr.gamma) && t.lr.gamma > 0 && t.lr.gamma <= 1))
    return bad("train.lr.gamma", fmt::format("{} is outside (0, 1]", t.lr.gamma));
  for (double m : t.lr.milestones)
    if (!(std::isfinite(m) && m > 0))
      return bad("train.lr.milestones", fmt::format("{} must be a positive epoch", m));
  if (!std::is_sorted(t.lr.milestones.begin(), t.lr.milestones.end()))
    return bad("train.lr.milestones", "must be in increasing order");
  if (!(std::isfinite(t.lr.floor) && t.lr.floor >= 0 && t.lr.floor <= t.lr.base))
    return bad("train.lr.floor", fmt::format("{} is outside [0, lr.base]", t.lr.floor));
  if (!(std::isfinite(t.lr.warmup_epochs) && t.lr.warmup_epochs >= 0))
    return bad("train.lr.warmup", fmt::format("{} must be >= 0 epochs", t.lr.warmup_epochs));
  const double default_warmup_lr = LrSchedule{}.warmup_lr;
  if (t.lr.warmup_mode == WarmupMode::kConstant) {
    if (t.lr.warmup_epochs == 0)
      return bad("train.lr.warmup_mode",
                 "constant warm-up needs train.lr.warmup > 0 epochs (the paper's 1202-layer "
                 "run: 10)");
    if (!(finite_positive(t.lr.warmup_lr) && t.lr.warmup_lr <= t.lr.base))
      return bad("train.lr.warmup_lr",
                 fmt::format("{} is outside (0, train.lr.base]", t.lr.warmup_lr));
  } else if (t.lr.warmup_lr != default_warmup_lr) {
    return bad("train.lr.warmup_lr",
               "only a constant warm-up uses it: set train.lr.warmup_mode: constant");
  }
  if (!(std::isfinite(t.optimizer.momentum) && t.optimizer.momentum >= 0 &&
        t.optimizer.momentum < 1))
    return bad("train.momentum", fmt::format("{} is outside [0, 1)", t.optimizer.momentum));
  if (t.optimizer.nesterov && t.optimizer.momentum == 0)
    return bad("train.nesterov", "Nesterov needs momentum > 0");
  if (!(std::isfinite(t.optimizer.weight_decay) && t.optimizer.weight_decay >= 0))
    return bad("train.weight_decay", fmt::format("{} must be >= 0", t.optimizer.weight_decay));
  if (t.augment.crop_pad < 0 || t.augment.crop_pad > 16)
    return bad("train.augment.crop_pad", fmt::format("{} is outside 0..16", t.augment.crop_pad));
  if (t.threads < 0 || t.threads > 1024)
    return bad("train.threads", fmt::format("{} is outside 0..1024", t.threads));
  if (c.eval.every < 1) return bad("eval.every", fmt::format("{} must be >= 1", c.eval.every));
  if (c.eval.batch < 1) return bad("eval.batch", fmt::format("{} must be >= 1", c.eval.batch));
  if (c.data.train_subset < 0) return bad("dataset.train_subset", "must be >= 0");
  if (c.data.test_subset < 0) return bad("dataset.test_subset", "must be >= 0");
  if (c.data.validation < 0) return bad("dataset.validation", "must be >= 0 (0: no validation set)");
  if (c.data.validation_seed != 0 && c.data.validation == 0)
    return bad("dataset.validation_seed", "only a validation set uses it: set dataset.validation");
  const auto& names = data::dataset_names();
  if (std::find(names.begin(), names.end(), c.data.name) == names.end()) {
    const std::string hint = closest_match(c.data.name, names);
    return bad("dataset.name",
               fmt::format("unknown dataset '{}'{} (one of: {})", c.data.name,
                           hint.empty() ? "" : fmt::format(", did you mean '{}'?", hint),
                           fmt::join(names, ", ")));
  }
  if (c.data.extra && c.data.name != "svhn")
    return bad("dataset.extra", fmt::format("only svhn has extra training images, not {}",
                                            c.data.name));
  return ok_status();
}

int64_t total_iterations(const TrainConfig& c, int64_t batches_per_epoch) {
  return c.train.iterations > 0 ? c.train.iterations : c.train.epochs * batches_per_epoch;
}

}  // namespace stodepth
