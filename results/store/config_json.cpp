#include "results/store/config_json.h"

#include <map>
#include <set>

namespace stodepth::results {

std::vector<std::pair<std::string, std::string>> flatten_json(const std::string& json) {
  std::vector<std::pair<std::string, std::string>> leaves;
  std::vector<std::string> path;  // enclosing object keys
  std::string key;
  size_t i = 0;
  auto read_string = [&] {
    std::string s;
    for (++i; i < json.size() && json[i] != '"'; ++i) {
      if (json[i] == '\\' && i + 1 < json.size()) s += json[i++];
      s += json[i];
    }
    ++i;  // closing quote
    return s;
  };
  auto joined = [&] {
    std::string p;
    for (const auto& part : path) p += part + ".";
    return p + key;
  };
  while (i < json.size()) {
    const char c = json[i];
    if (c == '{') {
      if (!key.empty()) path.push_back(key);
      key.clear();
      ++i;
    } else if (c == '}') {
      if (!path.empty()) path.pop_back();
      ++i;
    } else if (c == '"') {
      std::string s = read_string();
      if (i < json.size() && json[i] == ':') {
        key = std::move(s);
        ++i;
      } else {
        leaves.emplace_back(joined(), "\"" + s + "\"");
      }
    } else if (c == ',' || c == ' ' || c == '\n') {
      ++i;
    } else {  // a number, literal or array: up to the next delimiter at this level
      const size_t start = i;
      int depth = 0;
      for (; i < json.size(); ++i) {
        if (json[i] == '[') ++depth;
        if (json[i] == ']') --depth;
        if (depth == 0 && (json[i] == ',' || json[i] == '}')) break;
      }
      leaves.emplace_back(joined(), json.substr(start, i - start));
    }
  }
  return leaves;
}

std::string settings_key(const std::string& config_json, bool without_survival) {
  std::string key;
  for (const auto& [path, value] : flatten_json(config_json)) {
    if (path == "train.seed") continue;
    if (without_survival && path.rfind("stochastic_depth.", 0) == 0) continue;
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

}  // namespace stodepth::results
