// YAML reading for sweep files: errors located as "file:line:col: message", checks that
// yaml-cpp does not make (UTF-8, duplicate keys). Internal to the sweeps module.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <vector>

#include "model/base/result.h"

namespace stodepth::sweeps {

// Collects located errors so that one run reports every problem in a file.
class Diagnostics {
 public:
  explicit Diagnostics(std::string filename) : filename_(std::move(filename)) {}

  // A mark yaml-cpp does not know (a node that is not in the file) reads as 1:1.
  void error(const YAML::Mark& mark, const std::string& message);
  bool empty() const { return messages_.empty(); }
  // Every message, one per line, in the order found; repeats (the same bad value reached by
  // many combinations) appear once.
  Error to_error() const;

 private:
  std::string filename_;
  std::vector<std::string> messages_;
};

// Where to report a problem with `value`, the value of `key`: a null value (`depth:` with
// nothing after it) is marked at the start of the next line by yaml-cpp, so use the key's.
YAML::Mark mark_of(const YAML::Node& value, const YAML::Node& key);

// Parses `text` after checking it is UTF-8; nullopt (with the error reported) if it is not
// or is not YAML. Also reports duplicate mapping keys: yaml-cpp keeps both and lookups see
// only the first, so a repeated key would silently lose a value.
std::optional<YAML::Node> load_yaml(const std::string& text, Diagnostics& diagnostics);

}  // namespace stodepth::sweeps
