#include "sweeps/canonical.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "sweeps/sweep.h"

namespace stodepth::sweeps {
namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;  // key, JSON value

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20)
          out += fmt::format("\\u{:04x}", ch);
        else
          out += ch;
    }
  }
  return out + "\"";
}

std::string object(Fields fields) {
  std::sort(fields.begin(), fields.end());
  std::vector<std::string> items;
  for (const auto& [key, value] : fields) items.push_back(quoted(key) + ":" + value);
  return fmt::format("{{{}}}", fmt::join(items, ","));
}

std::string array(const std::vector<std::string>& items) {
  return fmt::format("[{}]", fmt::join(items, ","));
}

// Shortest round-trip form, so 1 and 1.0 both print "1"; -0 prints as 0.
std::string number(double x) {
  if (!std::isfinite(x)) return "null";
  return fmt::format("{}", x == 0 ? 0.0 : x);
}
std::string number(int64_t x) { return fmt::format("{}", x); }
std::string boolean(bool b) { return b ? "true" : "false"; }

std::string numbers(const std::vector<double>& xs) {
  std::vector<std::string> items;
  for (double x : xs) items.push_back(number(x));
  return array(items);
}

std::string lr_json(const LrSchedule& lr) {
  return object({{"schedule", quoted(to_string(lr.kind))},
                 {"base", number(lr.base)},
                 {"milestones", numbers(lr.milestones)},
                 {"gamma", number(lr.gamma)},
                 {"floor", number(lr.floor)},
                 {"warmup", number(lr.warmup_epochs)}});
}

std::string train_json(const TrainSettings& t) {
  return object({{"epochs", number(t.epochs)},
                 {"iterations", number(t.iterations)},
                 {"batch", number(int64_t{t.batch})},
                 {"momentum", number(t.optimizer.momentum)},
                 {"nesterov", boolean(t.optimizer.nesterov)},
                 {"weight_decay", number(t.optimizer.weight_decay)},
                 {"seed", fmt::format("{}", t.seed)},
                 {"lr", lr_json(t.lr)},
                 {"augment", object({{"crop_pad", number(int64_t{t.augment.crop_pad})},
                                     {"flip", boolean(t.augment.flip)}})}});
}

// A YAML tree as JSON with every scalar a string; mapping keys sorted if `sort_keys`.
std::string yaml_json(const YAML::Node& node, bool sort_keys = true) {
  std::vector<std::string> items;
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return quoted(node.Scalar());
    case YAML::NodeType::Sequence:
      for (const auto& item : node) items.push_back(yaml_json(item));
      return array(items);
    case YAML::NodeType::Map:
      for (const auto& entry : node)
        items.push_back(yaml_json(entry.first) + ":" + yaml_json(entry.second));
      if (sort_keys) std::sort(items.begin(), items.end());
      return fmt::format("{{{}}}", fmt::join(items, ","));
    default:
      return "null";
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
  Fields fields;
  for (const auto& entry : root) {
    const std::string key = entry.first.Scalar();
    fields.emplace_back(key, yaml_json(entry.second, key != "grid"));
  }
  return hash_hex(object(std::move(fields)));
}

std::string canonical_json(const TrainConfig& c) {
  return object(
      {{"dataset", object({{"name", quoted(c.data.name)},
                           {"train_subset", number(c.data.train_subset)},
                           {"test_subset", number(c.data.test_subset)},
                           {"synthetic_seed", fmt::format("{}", c.data.synthetic_seed)}})},
       {"model", object({{"depth", number(int64_t{c.model.depth})},
                         {"width", number(int64_t{c.model.width})},
                         {"shortcut", quoted(to_string(c.model.shortcut))}})},
       {"stochastic_depth",
        object({{"rule", quoted(to_string(c.sd.rule))}, {"p_L", number(c.sd.p_L)}})},
       {"train", train_json(c.train)},
       {"eval", object({{"every", number(int64_t{c.eval.every})},
                        {"batch", number(int64_t{c.eval.batch})}})}});
}

std::string job_key(const TrainConfig& config) { return hash_hex(canonical_json(config)); }

}  // namespace stodepth::sweeps
