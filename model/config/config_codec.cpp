#include "model/config/config_codec.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <utility>

#include "model/base/json.h"
#include "model/config/settings.h"

namespace stodepth {
namespace {

// The settings the canonical JSON holds: all but those describing the machine.
bool in_canonical_json(const Setting& setting) { return setting.scope != Scope::kMachine; }

// --- Writing --------------------------------------------------------------------------------

Json json_value(const Setting& setting, const TrainConfig& config) {
  return visit_member(setting, config, [&](const auto& value) -> Json {
    if constexpr (std::is_same_v<std::decay_t<decltype(value)>, EnumMember>)
      return value.names->names.at(size_t(value.get(config)));
    else
      return value;  // std::string, bool, int, int64_t, uint64_t, double, std::vector<double>
  });
}

// --- Reading --------------------------------------------------------------------------------
// Each read_value gives why `value` does not fit (nullopt when it was read into `out`).

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

Problem read_value(const Json& value, TrainConfig& config, const EnumMember& member) {
  std::string name;
  if (Problem p = read_value(value, name)) return p;
  const std::optional<int> parsed = member.names->parse(name);
  if (!parsed) return fmt::format("unknown value {}", json_string(name, ShortEscapes::kNewlineTab));
  member.set(config, *parsed);
  return std::nullopt;
}

Problem read_setting(const Json& value, const Setting& setting, TrainConfig& config) {
  return visit_member(setting, config, [&](auto& member) {
    if constexpr (std::is_same_v<std::decay_t<decltype(member)>, EnumMember>)
      return read_value(value, config, member);
    else
      return read_value(value, member);
  });
}

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
  static const TrainConfig defaults;
  Json tree;
  for (const Setting& setting : settings()) {
    if (!in_canonical_json(setting)) continue;
    if (setting.added_later && same_value(setting, config, defaults)) continue;
    tree[settings_pointer(setting.key)] = json_value(setting, config);
  }
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
  std::set<std::string> fields, sections;
  for (const Setting& setting : settings()) {
    if (!in_canonical_json(setting)) continue;
    const std::string_view path = setting.key;
    fields.emplace(path);
    for (size_t dot = path.find('.'); dot != std::string_view::npos; dot = path.find('.', dot + 1))
      sections.emplace(path.substr(0, dot));
    const Json::json_pointer at = settings_pointer(path);
    if (!tree.contains(at)) {
      if (setting.added_later) continue;  // the config's default stands
      return bad_input(fmt::format("{}: missing", path));
    }
    if (Problem p = read_setting(tree.at(at), setting, config))
      return bad_input(fmt::format("{}: {}", path, *p));
  }
  if (auto unknown = unknown_key(tree, "", fields, sections))
    return bad_input(fmt::format("{}: unknown key", *unknown));
  return config;
}

}  // namespace stodepth
