#include "model/config/distinguishing.h"

#include <map>
#include <set>

#include "model/base/json.h"
#include "model/config/settings.h"

namespace stodepth {
namespace {

// Appends the leaves of `node` at `path` (no path at the top).
void flatten(const OrderedJson& node, const std::string& path,
             std::vector<std::pair<std::string, std::string>>& leaves) {
  if (!node.is_object()) {
    leaves.emplace_back(path, compact_json(node));
    return;
  }
  for (const auto& [key, member] : node.items())
    flatten(member, path.empty() ? key : path + "." + key, leaves);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> flatten_json(const std::string& json) {
  // Document order: ordered_json keeps the keys as written (canonical text has them sorted).
  const OrderedJson tree = OrderedJson::parse(json, nullptr, /*allow_exceptions=*/false);
  std::vector<std::pair<std::string, std::string>> leaves;
  if (!tree.is_discarded()) flatten(tree, "", leaves);
  return leaves;
}
std::string settings_key(const std::string& config_json, bool without_survival) {
  static const std::string survival = section_of(&TrainConfig::sd);
  std::string key;
  for (const auto& [path, value] : flatten_json(config_json)) {
    const Setting* setting = find_setting(path);
    if (setting && setting->scope == Scope::kSeed) continue;
    if (without_survival && path.starts_with(survival)) continue;
    key += path + "=" + value + ";";
  }
  return key;
}

std::vector<std::string> distinguishing_settings(const std::vector<std::string>& configs,
                                                 const std::vector<std::string>& ignored) {
  std::vector<std::vector<std::pair<std::string, std::string>>> flat;
  std::map<std::string, std::set<std::string>> values;
  for (const auto& json : configs) {
    flat.push_back(flatten_json(json));
    for (const auto& [path, value] : flat.back()) values[path].insert(value);
  }
  auto is_ignored = [&](const std::string& path) {
    for (const auto& prefix : ignored)
      if (path.rfind(prefix, 0) == 0) return true;
    return false;
  };
  std::vector<std::string> out;
  for (const auto& leaves : flat) {
    std::string text;
    for (const auto& [path, value] : leaves) {
      if (values[path].size() < 2 || is_ignored(path)) continue;
      text += (text.empty() ? "" : ", ") + path + "=" + value;
    }
    out.push_back(std::move(text));
  }
  return out;
}

std::vector<const Setting*> settings_to_show(std::span<const TrainConfig* const> configs) {
  static const TrainConfig defaults;
  std::vector<const Setting*> out;
  for (const Setting& setting : settings()) {
    if (setting.scope == Scope::kMachine) continue;
    for (const TrainConfig* config : configs) {
      const bool varies = !same_value(setting, *configs.front(), *config);
      const bool set = setting.shown_when_set && !same_value(setting, defaults, *config);
      if (!varies && !set) continue;
      out.push_back(&setting);
      break;
    }
  }
  return out;
}

std::string short_name(const Setting& setting) {
  if (setting.column) return setting.column;
  const auto last_part = [](std::string_view key) { return key.substr(key.rfind('.') + 1); };
  const std::string_view name = last_part(setting.key);
  for (const Setting& other : settings()) {
    if (&other == &setting) continue;
    if ((other.column && name == other.column) || last_part(other.key) == name) return setting.key;
  }
  return std::string(name);
}

}  // namespace stodepth
