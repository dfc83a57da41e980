#include "sweeps/canonical.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "model/base/json.h"
#include "model/config/config_codec.h"
#include "sweeps/sweep.h"

namespace stodepth::sweeps {
namespace {

OrderedJson yaml_json(const YAML::Node& node, bool sort_keys = true);

// A mapping as a JSON object, its keys in document order or sorted. Validated sweep files
// have only known names as keys ([A-Za-z0-9._-]), so sorting by key orders them as the hashed
// text always had them (sorted as "key":value items).
OrderedJson yaml_object(const YAML::Node& map, bool sort_keys) {
  // (Sorted as JSON values: assigning a YAML::Node would rebind the tree it belongs to.)
  std::vector<std::pair<std::string, OrderedJson>> members;
  for (const auto& entry : map) members.emplace_back(entry.first.Scalar(), yaml_json(entry.second));
  if (sort_keys) {
    std::stable_sort(members.begin(), members.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  OrderedJson object = OrderedJson::object();
  for (auto& [key, value] : members) object[key] = std::move(value);
  return object;
}

// A YAML tree as JSON with every scalar a string; mapping keys sorted if `sort_keys`.
OrderedJson yaml_json(const YAML::Node& node, bool sort_keys) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return node.Scalar();
    case YAML::NodeType::Sequence: {
      OrderedJson items = OrderedJson::array();
      for (const auto& item : node) items.push_back(yaml_json(item));
      return items;
    }
    case YAML::NodeType::Map:
      return yaml_object(node, sort_keys);
    default:
      return nullptr;
  }
}

}  // namespace

std::string hash_hex(std::string_view bytes) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char ch : bytes) {
    hash ^= static_cast<unsigned char>(ch);
    hash *= 0x100000001b3ULL;
  }
  return fmt::format("{:016x}", hash);
}

std::string source_hash(const YAML::Node& root) {
  OrderedJson sections = yaml_object(root, true);
  if (root["grid"]) sections["grid"] = yaml_json(root["grid"], false);  // axis order is kept
  return hash_hex(compact_json(sections));
}

std::string job_key(const TrainConfig& config) { return hash_hex(canonical_config_json(config)); }

}  // namespace stodepth::sweeps
