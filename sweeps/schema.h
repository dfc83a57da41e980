// The keys of a sweep file and how their values are read into a TrainConfig. Internal to
// the sweeps module.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/config/config.h"
#include "model/base/result.h"
#include "sweeps/yaml_check.h"

namespace stodepth::sweeps {

// One value of a leaf key, parsed once and applied to every combination containing it.
struct Assignment {
  std::string key;  // the setting's dotted key (model/config/settings.h)
  YAML::Mark mark;  // where the value is written, for errors found after expansion
  std::function<void(TrainConfig&)> apply;
};
using Assignments = std::vector<Assignment>;

// The machine's settings (Scope::kMachine) are not part of the job key, so varying them would
// only make duplicate jobs: they are allowed in `base` alone.
enum class Where { kBase, kVaried };

// True if `key` names a leaf (a setting's key) or a section (a part of one before a dot).
bool is_config_key(const std::string& key);

// True if `key` names a leaf or a section ("" is the root section) that may be set in
// `where`; otherwise reports why not (unknown key with a "did you mean", the seed, ...).
bool check_key(const std::string& key, const YAML::Mark& mark, Where where,
               Diagnostics& diagnostics);

// Reads `value`, the value of `key` (checked by check_key), into leaf assignments appended
// to `out`: a section's mapping recurses into its keys, a leaf's value is parsed. A mapping
// may give a leaf only once. Problems are reported, located at `mark` or inside `value`.
void read_values(const std::string& key, const YAML::Node& value, const YAML::Mark& mark,
                 Where where, Assignments& out, Diagnostics& diagnostics);

// A plain (unquoted) integer scalar; the error says what was found instead.
Result<int64_t> parse_integer(const YAML::Node& node);

}  // namespace stodepth::sweeps
