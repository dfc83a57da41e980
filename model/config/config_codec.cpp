#include "model/config/config_codec.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <utility>

#include "model/base/json.h"

namespace stodepth {
namespace {

// Every field of the canonical JSON, by its dotted path: the one list both directions use.
// `Config` is TrainConfig or const TrainConfig; `visit(path, member, default_value)` sees
// each member. Fields added after the first release pass their default: they are written
// only when they differ from it and read as it when missing, so that a config that leaves
// them at their defaults keeps the job key it had before they existed.
template <typename Config, typename Visit>
void for_each_field(Config& c, Visit&& visit) {
  const auto field = [&](std::string_view path, auto& member) {
    visit(path, member, static_cast<const std::remove_cvref_t<decltype(member)>*>(nullptr));
  };
  const auto added_field = [&](std::string_view path, auto& member, const auto& default_value) {
    visit(path, member, &default_value);
  };
  static const TrainConfig defaults;
  field("dataset.name", c.data.name);
  field("dataset.train_subset", c.data.train_subset);
  field("dataset.test_subset", c.data.test_subset);
  field("dataset.synthetic_seed", c.data.synthetic_seed);
  added_field("dataset.extra", c.data.extra, defaults.data.extra);
  added_field("dataset.validation", c.data.validation, defaults.data.validation);
  added_field("dataset.validation_seed", c.data.validation_seed, defaults.data.validation_seed);
  field("model.depth", c.model.depth);
  field("model.width", c.model.width);
  field("model.shortcut", c.model.shortcut);
  field("stochastic_depth.rule", c.sd.rule);
  field("stochastic_depth.p_L", c.sd.p_L);
  added_field("stochastic_depth.mode", c.sd.mode, defaults.sd.mode);
  field("train.epochs", c.train.epochs);
  field("train.iterations", c.train.iterations);
  field("train.batch", c.train.batch);
  field("train.momentum", c.train.optimizer.momentum);
  field("train.nesterov", c.train.optimizer.nesterov);
  field("train.weight_decay", c.train.optimizer.weight_decay);
  field("train.seed", c.train.seed);
  field("train.lr.schedule", c.train.lr.kind);
  field("train.lr.base", c.train.lr.base);
  field("train.lr.milestones", c.train.lr.milestones);
  field("train.lr.gamma", c.train.lr.gamma);
  field("train.lr.floor", c.train.lr.floor);
  field("train.lr.warmup", c.train.lr.warmup_epochs);
  added_field("train.lr.warmup_mode", c.train.lr.warmup_mode, defaults.train.lr.warmup_mode);
  added_field("train.lr.warmup_lr", c.train.lr.warmup_lr, defaults.train.lr.warmup_lr);
  field("train.augment.crop_pad", c.train.augment.crop_pad);
  field("train.augment.flip", c.train.augment.flip);
  field("eval.every", c.eval.every);
  field("eval.batch", c.eval.batch);
}

// --- Writing --------------------------------------------------------------------------------

template <typename T>
Json value_of(const T& x) {
  if constexpr (std::is_same_v<T, Shortcut> || std::is_same_v<T, SurvivalRule> ||
                std::is_same_v<T, LrScheduleKind> || std::is_same_v<T, DropMode> ||
                std::is_same_v<T, WarmupMode>) {
    return to_string(x);
  } else {
    return x;  // std::string, bool, int, int64_t, uint64_t, double, std::vector<double>
  }
}

// --- Reading --------------------------------------------------------------------------------
// Each read_value gives why `value` does not fit (nullopt when it was read into `out`).

using Problem = std::optional<std::string>;

std::string describe(const Json& value) {
  return value.is_number() ? compact_json(value) : value.type_name();
}

Problem read_value(const Json& value, std::string& out) {
  if (!value.is_string()) return fmt::format("expected a string, got {}", describe(value));
  out = value.get<std::string>();
  return std::nullopt;
}

Problem read_value(const Json& value, bool& out) {
  if (!value.is_boolean()) return fmt::format("expected true or false, got {}", describe(value));
  out = value.get<bool>();
  return std::nullopt;
}

Problem read_value(const Json& value, double& out) {
  if (value.is_null()) {  // a non-finite double, as canonical text writes it
    out = std::numeric_limits<double>::quiet_NaN();
    return std::nullopt;
  }
  if (!value.is_number()) return fmt::format("expected a number, got {}", describe(value));
  out = value.get<double>();
  return std::nullopt;
}

template <typename T>
  requires std::is_integral_v<T>
Problem read_value(const Json& value, T& out) {
  if (!value.is_number_integer()) {
    return fmt::format("expected an integer, got {}", describe(value));
  }
  const bool fits = value.is_number_unsigned() ? std::in_range<T>(value.get<uint64_t>())
                                               : std::in_range<T>(value.get<int64_t>());
  if (!fits) return fmt::format("{} is out of range", describe(value));
  out = value.is_number_unsigned() ? T(value.get<uint64_t>()) : T(value.get<int64_t>());
  return std::nullopt;
}

Problem read_value(const Json& value, std::vector<double>& out) {
  if (!value.is_array()) return fmt::format("expected an array, got {}", describe(value));
  std::vector<double> xs(value.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    if (Problem p = read_value(value[i], xs[i])) return fmt::format("[{}]: {}", i, *p);
  }
  out = std::move(xs);
  return std::nullopt;
}

template <typename Enum, typename Parse>
Problem read_name(const Json& value, Enum& out, Parse parse) {
  std::string name;
  if (Problem p = read_value(value, name)) return p;
  const std::optional<Enum> parsed = parse(name);
  if (!parsed) return fmt::format("unknown value {}", json_string(name, ShortEscapes::kNewlineTab));
  out = *parsed;
  return std::nullopt;
}
Problem read_value(const Json& v, Shortcut& out) { return read_name(v, out, parse_shortcut); }
Problem read_value(const Json& v, SurvivalRule& out) { return read_name(v, out, parse_rule); }
Problem read_value(const Json& v, LrScheduleKind& out) { return read_name(v, out, parse_schedule); }
Problem read_value(const Json& v, DropMode& out) { return read_name(v, out, parse_drop_mode); }
Problem read_value(const Json& v, WarmupMode& out) { return read_name(v, out, parse_warmup_mode); }

// The first key of `object` (at `prefix`) that is neither a field nor a section holding one.
std::optional<std::string> unknown_key(const Json& object, const std::string& prefix,
                                       const std::set<std::string>& fields,
                                       const std::set<std::string>& sections) {
  for (const auto& [key, member] : object.items()) {
    const std::string path = prefix.empty() ? key : prefix + "." + key;
    if (fields.count(path)) continue;
    if (!sections.count(path)) return path;
    if (auto unknown = unknown_key(member, path, fields, sections)) return unknown;
  }
  return std::nullopt;
}

}  // namespace

std::string canonical_config_json(const TrainConfig& config) {
  Json tree;
  for_each_field(config, [&](std::string_view path, const auto& member, const auto* default_value) {
    if (default_value && member == *default_value) return;
    tree[settings_pointer(path)] = value_of(member);
  });
  return compact_json(tree);
}

Result<TrainConfig> parse_config_json(std::string_view json) {
  Json tree;
  try {
    tree = Json::parse(json);
  } catch (const Json::exception& e) {  // a syntax error, or a number out of double's range
    return bad_input(fmt::format("not JSON ({})", e.what()));
  }
  if (!tree.is_object())
    return bad_input(fmt::format("expected an object, got {}", describe(tree)));
  TrainConfig config;
  std::optional<Error> error;
  std::set<std::string> fields, sections;
  for_each_field(config, [&](std::string_view path, auto& member, const auto* default_value) {
    fields.emplace(path);
    for (size_t dot = path.find('.'); dot != std::string_view::npos; dot = path.find('.', dot + 1))
      sections.emplace(path.substr(0, dot));
    if (error) return;
    const Json::json_pointer at = settings_pointer(path);
    if (!tree.contains(at)) {
      if (default_value) return;  // the config's default stands
      error = bad_input(fmt::format("{}: missing", path));
    } else if (Problem p = read_value(tree.at(at), member)) {
      error = bad_input(fmt::format("{}: {}", path, *p));
    }
  });
  if (error) return *error;
  if (auto unknown = unknown_key(tree, "", fields, sections))
    return bad_input(fmt::format("{}: unknown key", *unknown));
  return config;
}

}  // namespace stodepth
