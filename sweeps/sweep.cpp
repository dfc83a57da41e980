// Reading a sweep file into its definition, then expanding it into jobs (order in sweep.h).
#include "sweeps/sweep.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <sstream>

#include "model/config/config_codec.h"
#include "sweeps/canonical.h"
#include "sweeps/schema.h"
#include "sweeps/yaml_check.h"

namespace stodepth::sweeps {
namespace {

using Axis = std::vector<Assignments>;  // one list of assignments per value

// An include or exclude entry.
struct Entry {
  YAML::Mark mark;
  Assignments values;
};

struct Definition {
  std::string name, description;
  bool has_name = false;
  Assignments base;
  YAML::Mark base_mark, exclude_mark, grid_mark;
  std::vector<Axis> grid;
  std::vector<Entry> exclude, include;
  std::vector<uint64_t> seeds = {1};
};

const std::vector<std::string> kTopKeys = {"name",    "description", "base", "grid",
                                           "exclude", "include",     "seeds"};

// A loop, not std::regex: libstdc++'s regex recurses per character and overflows the stack
// on a long name (found by fuzzing).
bool is_valid_name(const std::string& name) {
  constexpr size_t kMaxLength = 200;
  return !name.empty() && name.size() <= kMaxLength &&
         std::all_of(name.begin(), name.end(), [](unsigned char c) {
           return std::isalnum(c) || c == '.' || c == '_' || c == '-';
         });
}

void read_name(const YAML::Node& node, const YAML::Mark& mark, Definition& def, Diagnostics& d) {
  def.has_name = true;
  if (node.IsScalar() && is_valid_name(node.Scalar()))
    def.name = node.Scalar();
  else
    d.error(mark,
            "name: expected 1 to 200 letters, digits, '.', '_' and '-' only"
            " (the sweep's name in the database)");
}

void read_description(const YAML::Node& node, const YAML::Mark& mark, Definition& def,
                      Diagnostics& d) {
  if (node.IsScalar())
    def.description = node.Scalar();
  else if (!node.IsNull())
    d.error(mark, "description: expected text");
}

void read_base(const YAML::Node& node, const YAML::Mark& mark, Definition& def, Diagnostics& d) {
  def.base_mark = mark;
  if (node.IsMap())
    read_values("", node, mark, Where::kBase, def.base, d);
  else if (!node.IsNull())
    d.error(mark, "base: expected a mapping of config keys");
}

void read_axis(const YAML::Node& key, const YAML::Node& values, Definition& def, Diagnostics& d) {
  const std::string name = key.Scalar();
  if (!check_key(name, key.Mark(), Where::kVaried, d)) return;
  if (!values.IsSequence()) {
    d.error(mark_of(values, key), fmt::format("grid axis '{}': expected a list of values", name));
    return;
  }
  if (values.size() == 0) {
    d.error(values.Mark(), fmt::format("grid axis '{}' is empty", name));
    return;
  }
  Axis axis;
  for (const auto& value : values)
    read_values(name, value, value.Mark(), Where::kVaried, axis.emplace_back(), d);
  def.grid.push_back(std::move(axis));
}

void read_grid(const YAML::Node& node, const YAML::Mark& mark, Definition& def, Diagnostics& d) {
  def.grid_mark = mark;
  if (!node.IsMap()) {
    d.error(mark, "grid: expected a mapping of dotted keys to lists of values");
    return;
  }
  for (const auto& entry : node) read_axis(entry.first, entry.second, def, d);
}

std::vector<Entry> read_entries(const char* what, const YAML::Node& node, const YAML::Mark& mark,
                                Diagnostics& d) {
  std::vector<Entry> entries;
  if (!node.IsSequence()) {
    d.error(mark, fmt::format("{}: expected a list of mappings of dotted keys", what));
    return entries;
  }
  for (const auto& item : node) {
    if (!item.IsMap() || item.size() == 0) {
      d.error(item.Mark(), fmt::format("{}: expected a non-empty mapping of dotted keys", what));
      continue;
    }
    Entry& entry = entries.emplace_back(Entry{item.Mark(), {}});
    read_values("", item, item.Mark(), Where::kVaried, entry.values, d);
  }
  return entries;
}

void read_seeds(const YAML::Node& node, const YAML::Mark& mark, Definition& def, Diagnostics& d) {
  if (!node.IsSequence() || node.size() == 0) {
    d.error(mark, "seeds: expected a non-empty list of non-negative integers");
    return;
  }
  def.seeds.clear();
  for (const auto& item : node) {
    auto seed = parse_integer(item);
    if (!seed)
      d.error(item.Mark(), "seeds: " + seed.error().message);
    else if (*seed < 0)
      d.error(item.Mark(), fmt::format("seeds: {} must be a non-negative integer", *seed));
    else if (std::count(def.seeds.begin(), def.seeds.end(), uint64_t(*seed)))
      d.error(item.Mark(), fmt::format("seeds: {} is listed twice", *seed));
    else
      def.seeds.push_back(uint64_t(*seed));
  }
}

void read_top_entry(const YAML::Node& key, const YAML::Node& value, Definition& def,
                    Diagnostics& d) {
  const std::string name = key.IsScalar() ? key.Scalar() : "";
  const YAML::Mark mark = mark_of(value, key);
  if (name == "name") {
    read_name(value, mark, def, d);
  } else if (name == "description") {
    read_description(value, mark, def, d);
  } else if (name == "base") {
    read_base(value, mark, def, d);
  } else if (name == "grid") {
    read_grid(value, mark, def, d);
  } else if (name == "exclude") {
    def.exclude_mark = mark;
    def.exclude = read_entries("exclude", value, mark, d);
  } else if (name == "include") {
    def.include = read_entries("include", value, mark, d);
  } else if (name == "seeds") {
    read_seeds(value, mark, def, d);
  } else if (is_config_key(name)) {  // a common slip: say where it goes
    d.error(key.Mark(), fmt::format("unknown key '{}' (config keys go under 'base:')", name));
  } else {
    const std::string hint = closest_match(name, kTopKeys);
    d.error(key.Mark(), fmt::format("unknown key '{}'{}; a sweep's keys are {}", name,
                                    hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint),
                                    fmt::join(kTopKeys, ", ")));
  }
}

Definition read_definition(const YAML::Node& root, Diagnostics& d) {
  Definition def;
  if (!root.IsMap()) {
    d.error(root.Mark(),
            fmt::format("expected a mapping with the keys {}", fmt::join(kTopKeys, ", ")));
    return def;
  }
  def.base_mark = def.exclude_mark = def.grid_mark = root.Mark();
  for (const auto& entry : root) read_top_entry(entry.first, entry.second, def, d);
  if (!def.has_name) d.error(root.Mark(), "missing required key 'name'");
  return def;
}

constexpr size_t kMaxSize = std::numeric_limits<size_t>::max();
size_t saturating_add(size_t a, size_t b) { return a > kMaxSize - b ? kMaxSize : a + b; }
size_t saturating_multiply(size_t a, size_t b) {
  return b != 0 && a > kMaxSize / b ? kMaxSize : a * b;
}

// Jobs before exclusions and duplicate removal, counted without building them.
size_t job_count(const Definition& def) {
  size_t combinations = 1;
  for (const Axis& axis : def.grid) combinations = saturating_multiply(combinations, axis.size());
  combinations = saturating_add(combinations, def.include.size());
  return saturating_multiply(combinations, def.seeds.size());
}

// Base followed by the assignments layered on it; later layers override earlier ones.
using Layers = std::vector<const Assignments*>;

TrainConfig resolve(const Layers& layers) {
  TrainConfig config;
  for (const Assignments* layer : layers)
    for (const Assignment& a : *layer) a.apply(config);
  return config;
}

// Where the value that made `message` ("key: ...") came from: the last layer
// setting that key, else base.
YAML::Mark locate(const std::string& message, const Layers& layers, const YAML::Mark& base) {
  for (auto layer = layers.rbegin(); layer != layers.rend(); ++layer)
    for (const Assignment& a : **layer)
      if (message.rfind(a.key + ":", 0) == 0) return a.mark;
  return base;
}

// The config of `layers` if it passes validate(); else reports where it fails.
std::optional<TrainConfig> valid_config(const Layers& layers, const Definition& def,
                                        Diagnostics& d) {
  TrainConfig config = resolve(layers);
  if (const Status status = validate(config); !status) {
    d.error(locate(status.error().message, layers, def.base_mark), status.error().message);
    return std::nullopt;
  }
  return config;
}

// Whether the entry's values are already the config's (so 1 matches 1.0 and `a` matches A).
bool matches(const TrainConfig& config, const std::string& config_json, const Entry& entry) {
  TrainConfig patched = config;
  for (const Assignment& a : entry.values) a.apply(patched);
  return canonical_config_json(patched) == config_json;
}

// Marks the exclude entries matching `config` in `used`; true if any does.
bool mark_exclusions(const TrainConfig& config, const std::vector<Entry>& exclude,
                     std::vector<bool>& used) {
  if (exclude.empty()) return false;
  const std::string json = canonical_config_json(config);
  bool excluded = false;
  for (size_t e = 0; e < exclude.size(); ++e)
    if (matches(config, json, exclude[e])) excluded = used[e] = true;
  return excluded;
}

// Advances a mixed-radix counter over the axes, the last axis fastest; false after the end.
bool advance(std::vector<size_t>& index, const std::vector<Axis>& grid) {
  for (size_t i = grid.size(); i-- > 0;) {
    if (++index[i] < grid[i].size()) return true;
    index[i] = 0;
  }
  return false;
}

// The grid's combinations minus the excluded ones, each as base + one value per axis.
std::vector<Layers> grid_combinations(const Definition& def, Diagnostics& d) {
  std::vector<Layers> kept;
  std::vector<bool> used(def.exclude.size(), false);
  std::vector<size_t> index(def.grid.size(), 0);
  do {
    Layers layers = {&def.base};
    for (size_t i = 0; i < def.grid.size(); ++i) layers.push_back(&def.grid[i][index[i]]);
    if (!mark_exclusions(resolve(layers), def.exclude, used)) kept.push_back(std::move(layers));
  } while (advance(index, def.grid));
  for (size_t e = 0; e < def.exclude.size(); ++e)
    if (!used[e]) d.error(def.exclude[e].mark, "exclude: this entry matches no grid combination");
  return kept;
}

std::vector<Job> expand(const Definition& def, Diagnostics& d) {
  std::vector<Layers> combinations = grid_combinations(def, d);
  for (const Entry& entry : def.include) combinations.push_back({&def.base, &entry.values});
  if (combinations.empty()) {
    d.error(def.exclude_mark, "every grid combination is excluded: the sweep has no jobs");
    return {};
  }
  std::vector<Job> jobs;
  std::set<std::string> seen;
  for (const Layers& layers : combinations) {
    std::optional<TrainConfig> config = valid_config(layers, def, d);
    for (size_t s = 0; config && s < def.seeds.size(); ++s) {
      config->train.seed = def.seeds[s];
      Job job{"", *config, canonical_config_json(*config)};
      job.key = hash_hex(job.config_json);
      if (seen.insert(job.key).second) jobs.push_back(std::move(job));
    }
  }
  return jobs;
}

}  // namespace

Result<Sweep> parse_sweep(const std::string& text, const std::string& filename,
                          const ExpandOptions& options) {
  Diagnostics d(filename);
  const std::optional<YAML::Node> root = load_yaml(text, d);
  if (!root || !d.empty()) return d.to_error();  // e.g. duplicate keys: nothing more to add
  Definition def = read_definition(*root, d);
  if (!d.empty()) return d.to_error();
  if (const size_t count = job_count(def); count > options.max_jobs) {
    d.error(def.grid_mark, fmt::format("sweep expands to {} jobs (limit {}; pass --yes to allow)",
                                       count, options.max_jobs));
    return d.to_error();
  }
  std::vector<Job> jobs = expand(def, d);
  if (!d.empty()) return d.to_error();
  return Sweep{def.name, def.description, text, source_hash(*root), std::move(jobs)};
}

Result<Sweep> load_sweep_file(const std::string& path, const ExpandOptions& options) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return bad_input(
        fmt::format("{}: is a directory, not a sweep file (give the .yaml file)", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) return bad_input(fmt::format("{}: cannot open the sweep file (does it exist?)", path));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return bad_input(fmt::format("{}: cannot read the sweep file", path));
  return parse_sweep(text.str(), path, options);
}

}  // namespace stodepth::sweeps
