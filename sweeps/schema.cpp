#include "sweeps/schema.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <type_traits>
#include <utility>

namespace stodepth::sweeps {
namespace {

using Apply = std::function<void(TrainConfig&)>;
using Parser = std::function<Result<Apply>(const YAML::Node&)>;

// What a node holds, for "expected X, got Y" messages.
std::string describe(const YAML::Node& node) {
  if (node.IsNull()) return "nothing";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  if (node.Tag() == "!") return fmt::format("the string \"{}\"", node.Scalar());
  return fmt::format("'{}'", node.Scalar());
}

Error expected(const char* what, const YAML::Node& node) {
  return bad_input(fmt::format("expected {}, got {}", what, describe(node)));
}

// Plain scalars only: a quoted "20" is a string, whatever it spells.
bool is_plain_scalar(const YAML::Node& node) { return node.IsScalar() && node.Tag() != "!"; }

// YAML's spellings of NaN and the infinities, which std::from_chars does not read.
bool is_yaml_non_finite(const std::string& s) {
  static const std::vector<std::string> spellings = {".nan", ".NaN", ".NAN",
                                                     ".inf", ".Inf", ".INF"};
  const std::string body = s.empty() || (s[0] != '+' && s[0] != '-') ? s : s.substr(1);
  return std::find(spellings.begin(), spellings.end(), body) != spellings.end();
}

// Parses `s` (an optional leading '+' allowed, as in YAML) into `value`; errc() only if
// all of it was read.
template <typename T>
std::errc parse_all(std::string s, T& value) {
  if (!s.empty() && s[0] == '+') s.erase(0, 1);
  const char* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, value);
  return ec == std::errc() && (ptr != end || s.empty()) ? std::errc::invalid_argument : ec;
}

Error out_of_range(const YAML::Node& node) {
  return bad_input(fmt::format("{} is out of range", node.Scalar()));
}

// A plain scalar read as T (int64_t or double); infinities and NaN are out of range.
template <typename T>
Result<T> parse_scalar(const YAML::Node& node, const char* what) {
  if (!is_plain_scalar(node)) return expected(what, node);
  if (is_yaml_non_finite(node.Scalar())) return out_of_range(node);
  T value{};
  const std::errc ec = parse_all(node.Scalar(), value);
  if (ec == std::errc::result_out_of_range) return out_of_range(node);
  if (ec != std::errc()) return expected(what, node);
  if (!std::isfinite(double(value))) return out_of_range(node);  // from_chars reads "inf"
  return value;
}

Result<double> parse_number(const YAML::Node& node) {
  return parse_scalar<double>(node, "a number");
}

template <typename Field>
using FieldType = std::remove_reference_t<std::invoke_result_t<Field, TrainConfig&>>;

template <typename Field>
Parser integer(Field field) {
  return [field](const YAML::Node& node) -> Result<Apply> {
    auto value = parse_integer(node);
    if (!value) return value.error();
    if (!std::in_range<FieldType<Field>>(*value))
      return bad_input(fmt::format("{} is out of range", *value));
    return Apply([field, v = FieldType<Field>(*value)](TrainConfig& c) { field(c) = v; });
  };
}

template <typename Field>
Parser number(Field field) {
  return [field](const YAML::Node& node) -> Result<Apply> {
    auto value = parse_number(node);
    if (!value) return value.error();
    return Apply([field, v = *value](TrainConfig& c) { field(c) = v; });
  };
}

template <typename Field>
Parser numbers(Field field) {
  return [field](const YAML::Node& node) -> Result<Apply> {
    if (!node.IsSequence()) return expected("a list of numbers", node);
    std::vector<double> values;
    for (const auto& item : node) {
      auto value = parse_number(item);
      if (!value) return value.error();
      values.push_back(*value);
    }
    return Apply([field, values](TrainConfig& c) { field(c) = values; });
  };
}

template <typename Field>
Parser boolean(Field field) {
  return [field](const YAML::Node& node) -> Result<Apply> {
    bool value;
    if (!is_plain_scalar(node) || !YAML::convert<bool>::decode(node, value))
      return expected("true or false", node);
    return Apply([field, value](TrainConfig& c) { field(c) = value; });
  };
}

template <typename Field>
Parser text(Field field) {
  return [field](const YAML::Node& node) -> Result<Apply> {
    if (!node.IsScalar()) return expected("a string", node);
    return Apply([field, value = node.Scalar()](TrainConfig& c) { field(c) = value; });
  };
}

template <typename Field, typename Parse>
Parser choice(Field field, Parse parse, std::vector<std::string> names) {
  return [field, parse, names](const YAML::Node& node) -> Result<Apply> {
    const auto value = node.IsScalar() ? parse(node.Scalar()) : std::nullopt;
    if (value) return Apply([field, v = *value](TrainConfig& c) { field(c) = v; });
    const std::string hint = node.IsScalar() ? closest_match(node.Scalar(), names) : "";
    return bad_input(fmt::format("expected one of {}, got {}{}", fmt::join(names, ", "),
                                 describe(node),
                                 hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
  };
}

// A member of TrainConfig, as a callable giving a reference to it.
// clang-format off
#define FIELD(member) [](TrainConfig& c) -> auto& { return c.member; }
// clang-format on

const std::vector<std::pair<std::string, Parser>>& leaves() {
  static const std::vector<std::pair<std::string, Parser>> table = {
      {"dataset.name", text(FIELD(data.name))},
      {"dataset.dir", text(FIELD(data.dir))},
      {"dataset.train_subset", integer(FIELD(data.train_subset))},
      {"dataset.test_subset", integer(FIELD(data.test_subset))},
      {"dataset.extra", boolean(FIELD(data.extra))},
      {"dataset.validation", integer(FIELD(data.validation))},
      {"dataset.validation_seed", integer(FIELD(data.validation_seed))},
      {"model.depth", integer(FIELD(model.depth))},
      {"model.width", integer(FIELD(model.width))},
      {"model.shortcut", choice(FIELD(model.shortcut), parse_shortcut, {"A", "B", "C"})},
      {"stochastic_depth.rule", choice(FIELD(sd.rule), parse_rule, {"linear", "uniform"})},
      {"stochastic_depth.p_L", number(FIELD(sd.p_L))},
      {"stochastic_depth.mode", choice(FIELD(sd.mode), parse_drop_mode, {"batch", "sample"})},
      {"train.epochs", integer(FIELD(train.epochs))},
      {"train.iterations", integer(FIELD(train.iterations))},
      {"train.batch", integer(FIELD(train.batch))},
      {"train.momentum", number(FIELD(train.optimizer.momentum))},
      {"train.nesterov", boolean(FIELD(train.optimizer.nesterov))},
      {"train.weight_decay", number(FIELD(train.optimizer.weight_decay))},
      {"train.threads", integer(FIELD(train.threads))},
      {"train.lr.schedule",
       choice(FIELD(train.lr.kind), parse_schedule, {"constant", "step", "cosine"})},
      {"train.lr.base", number(FIELD(train.lr.base))},
      {"train.lr.milestones", numbers(FIELD(train.lr.milestones))},
      {"train.lr.gamma", number(FIELD(train.lr.gamma))},
      {"train.lr.floor", number(FIELD(train.lr.floor))},
      {"train.lr.warmup", number(FIELD(train.lr.warmup_epochs))},
      {"train.lr.warmup_mode",
       choice(FIELD(train.lr.warmup_mode), parse_warmup_mode, {"linear", "constant"})},
      {"train.lr.warmup_lr", number(FIELD(train.lr.warmup_lr))},
      {"train.augment.crop_pad", integer(FIELD(train.augment.crop_pad))},
      {"train.augment.flip", boolean(FIELD(train.augment.flip))},
      {"eval.every", integer(FIELD(eval.every))},
      {"eval.batch", integer(FIELD(eval.batch))},
  };
  return table;
}

#undef FIELD

const Parser* find_leaf(const std::string& key) {
  const auto& table = leaves();
  const auto it =
      std::find_if(table.begin(), table.end(), [&](const auto& leaf) { return leaf.first == key; });
  return it == table.end() ? nullptr : &it->second;
}

bool is_section(const std::string& key) {
  if (key.empty()) return true;
  return std::any_of(leaves().begin(), leaves().end(),
                     [&](const auto& leaf) { return leaf.first.rfind(key + ".", 0) == 0; });
}

// Every leaf and section name, for "did you mean".
std::vector<std::string> all_keys() {
  std::vector<std::string> keys;
  for (const auto& [leaf, parser] : leaves())
    for (size_t dot = leaf.find('.');; dot = leaf.find('.', dot + 1)) {
      const std::string key = leaf.substr(0, dot);
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
      if (dot == std::string::npos) break;
    }
  return keys;
}

void add_assignment(Assignment assignment, Assignments& out, Diagnostics& diagnostics) {
  const auto previous = std::find_if(out.begin(), out.end(),
                                     [&](const Assignment& a) { return a.key == assignment.key; });
  if (previous != out.end()) {
    diagnostics.error(assignment.mark, fmt::format("{}: set twice (first at line {})",
                                                   assignment.key, previous->mark.line + 1));
    return;
  }
  out.push_back(std::move(assignment));
}

}  // namespace

bool is_config_key(const std::string& key) { return find_leaf(key) || is_section(key); }

Result<int64_t> parse_integer(const YAML::Node& node) {
  return parse_scalar<int64_t>(node, "an integer");
}

bool check_key(const std::string& key, const YAML::Mark& mark, Where where,
               Diagnostics& diagnostics) {
  if (key == "train.seed") {
    diagnostics.error(mark,
                      "train.seed: not a key of a sweep; list seeds in the top-level "
                      "'seeds:' instead");
    return false;
  }
  if ((key == "dataset.dir" || key == "train.threads") && where != Where::kBase) {
    diagnostics.error(mark, fmt::format("{}: can only be set in base (machine-specific, so "
                                        "not part of the job key)",
                                        key));
    return false;
  }
  if (is_config_key(key)) return true;
  const std::string hint = closest_match(key, all_keys());
  diagnostics.error(mark,
                    fmt::format("unknown key '{}'{}", key,
                                hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
  return false;
}

void read_values(const std::string& key, const YAML::Node& value, const YAML::Mark& mark,
                 Where where, Assignments& out, Diagnostics& diagnostics) {
  if (const Parser* parse = find_leaf(key)) {
    auto apply = (*parse)(value);
    if (apply)
      add_assignment({key, mark, std::move(*apply)}, out, diagnostics);
    else
      diagnostics.error(mark, fmt::format("{}: {}", key, apply.error().message));
    return;
  }
  if (!value.IsMap()) {
    diagnostics.error(mark, fmt::format("{}: expected a mapping, got {}", key, describe(value)));
    return;
  }
  for (const auto& entry : value) {
    const YAML::Node& name = entry.first;
    if (!name.IsScalar()) {
      diagnostics.error(name.Mark(), fmt::format("expected a key, got {}", describe(name)));
      continue;
    }
    const std::string child = key.empty() ? name.Scalar() : key + "." + name.Scalar();
    if (check_key(child, name.Mark(), where, diagnostics))
      read_values(child, entry.second, mark_of(entry.second, name), where, out, diagnostics);
  }
}

}  // namespace stodepth::sweeps
