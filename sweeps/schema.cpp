#include "sweeps/schema.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

#include "model/config/settings.h"

namespace stodepth::sweeps {
namespace {

using Apply = std::function<void(TrainConfig&)>;

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

// Readers of a leaf's value, by the type of its member.
template <typename T>
  requires std::is_integral_v<T> && (!std::is_same_v<T, bool>)
Result<Apply> read_leaf(MemberRef<T> member, const YAML::Node& node) {
  auto value = parse_integer(node);
  if (!value) return value.error();
  if (!std::in_range<T>(*value)) return bad_input(fmt::format("{} is out of range", *value));
  return Apply([member, v = T(*value)](TrainConfig& c) { member(c) = v; });
}

Result<Apply> read_leaf(MemberRef<double> member, const YAML::Node& node) {
  auto value = parse_number(node);
  if (!value) return value.error();
  return Apply([member, v = *value](TrainConfig& c) { member(c) = v; });
}

Result<Apply> read_leaf(MemberRef<std::vector<double>> member, const YAML::Node& node) {
  if (!node.IsSequence()) return expected("a list of numbers", node);
  std::vector<double> values;
  for (const auto& item : node) {
    auto value = parse_number(item);
    if (!value) return value.error();
    values.push_back(*value);
  }
  return Apply([member, values](TrainConfig& c) { member(c) = values; });
}

Result<Apply> read_leaf(MemberRef<bool> member, const YAML::Node& node) {
  bool value;
  if (!is_plain_scalar(node) || !YAML::convert<bool>::decode(node, value))
    return expected("true or false", node);
  return Apply([member, value](TrainConfig& c) { member(c) = value; });
}

Result<Apply> read_leaf(MemberRef<std::string> member, const YAML::Node& node) {
  if (!node.IsScalar()) return expected("a string", node);
  return Apply([member, value = node.Scalar()](TrainConfig& c) { member(c) = value; });
}

Result<Apply> read_leaf(const EnumMember& member, const YAML::Node& node) {
  const std::vector<std::string>& names = member.names->names;
  const auto value = node.IsScalar() ? member.names->parse(node.Scalar()) : std::nullopt;
  if (value) return Apply([set = member.set, v = *value](TrainConfig& c) { set(c, v); });
  const std::string hint = node.IsScalar() ? closest_match(node.Scalar(), names) : "";
  return bad_input(fmt::format("expected one of {}, got {}{}", fmt::join(names, ", "),
                               describe(node),
                               hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
}

// The settings a sweep file names: all but the seed, which has its own `seeds:` list.
bool is_leaf(const Setting& setting) { return setting.scope != Scope::kSeed; }

const Setting* find_leaf(const std::string& key) {
  const Setting* setting = find_setting(key);
  return setting && is_leaf(*setting) ? setting : nullptr;
}

bool is_section(const std::string& key) {
  if (key.empty()) return true;
  const auto settings = stodepth::settings();
  return std::any_of(settings.begin(), settings.end(), [&](const Setting& setting) {
    return is_leaf(setting) && std::string_view(setting.key).starts_with(key + ".");
  });
}

// Every leaf and section name, for "did you mean".
std::vector<std::string> all_keys() {
  std::vector<std::string> keys;
  for (const Setting& setting : settings()) {
    if (!is_leaf(setting)) continue;
    const std::string leaf = setting.key;
    for (size_t dot = leaf.find('.');; dot = leaf.find('.', dot + 1)) {
      const std::string key = leaf.substr(0, dot);
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
      if (dot == std::string::npos) break;
    }
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
  const Setting* setting = find_setting(key);
  if (setting && setting->scope == Scope::kSeed) {
    diagnostics.error(mark, fmt::format("{}: not a key of a sweep; list seeds in the top-level "
                                        "'seeds:' instead",
                                        key));
    return false;
  }
  if (setting && setting->scope == Scope::kMachine && where != Where::kBase) {
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
  if (const Setting* setting = find_leaf(key)) {
    auto apply =
        std::visit([&](const auto& member) { return read_leaf(member, value); }, setting->member);
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
