#include "results/report/pairing.h"

#include <fmt/format.h>

#include <map>
#include <set>

#include "model/config/distinguishing.h"
#include "model/config/settings.h"

namespace stodepth::results {
namespace {

// The settings two arms of a pair share: everything but the survival rule, p_L and seed.
std::string pair_key(const RunRow& r) { return settings_key(r.config_json, true); }

std::string arm_key(const RunRow& r) {
  const TrainConfig& c = r.config;
  return is_baseline(c) ? pair_key(r) + "|plain"
                        : fmt::format("{}|{}|{}|{}", pair_key(r), to_string(c.sd.rule), c.sd.p_L,
                                      to_string(c.sd.mode));
}

// The main parameters, for headings.
std::string describe(const TrainConfig& c) {
  std::string t = fmt::format("{}, ResNet-{}", c.data.name, c.model.depth);
  if (c.model.width != 1) t += fmt::format(" ×{}", c.model.width);
  t += fmt::format(", shortcut {}, {} lr {}, batch {}", to_string(c.model.shortcut),
                   to_string(c.train.lr.kind), c.train.lr.base, c.train.batch);
  if (c.train.precision != Precision::kF32) t += fmt::format(", {}", to_string(c.train.precision));
  return t + (c.train.iterations > 0 ? fmt::format(", {} iterations", c.train.iterations)
                                     : fmt::format(", {} epochs", c.train.epochs));
}

// Short titles name the depth and whatever other setting differs between pairs.
void set_short_titles(std::vector<Pair>& pairs) {
  std::vector<std::string> configs;
  for (const Pair& p : pairs) configs.push_back(p.stochastic->runs.front().config_json);
  const auto differences =
      distinguishing_settings(configs, {section_of(&TrainConfig::sd),
                                        setting_of(&TrainConfig::train, &TrainSettings::seed).key,
                                        setting_of(&TrainConfig::model, &ModelConfig::depth).key});
  for (size_t i = 0; i < pairs.size(); ++i) {
    pairs[i].short_title = fmt::format("ResNet-{}", pairs[i].stochastic->config.model.depth);
    if (!differences[i].empty()) pairs[i].short_title += ", " + differences[i];
  }
}

}  // namespace

bool is_baseline(const TrainConfig& config) { return config.sd.p_L >= 1.0; }

std::string arm_label(const TrainConfig& config, bool with_mode) {
  // bf16 changes every number of the arm, so its label always says so.
  const std::string precision = config.train.precision == Precision::kF32
                                    ? ""
                                    : fmt::format(", {}", to_string(config.train.precision));
  if (is_baseline(config)) return "ResNet (p_L = 1)" + precision;
  std::string label = fmt::format("SD {} p_L = {}", to_string(config.sd.rule), config.sd.p_L);
  if (with_mode) label += fmt::format(", {} mode", to_string(config.sd.mode));
  return label + precision;
}

std::vector<Arm> group_into_arms(const std::vector<RunRow>& runs) {
  std::set<DropMode> modes;  // of the stochastic runs: plain ResNets drop nothing
  for (const RunRow& r : runs)
    if (!is_baseline(r.config)) modes.insert(r.config.sd.mode);
  std::vector<Arm> arms;
  std::map<std::string, size_t> arm_index;
  for (const RunRow& r : runs) {
    auto [it, inserted] = arm_index.try_emplace(arm_key(r), arms.size());
    if (inserted) arms.push_back({arm_label(r.config, modes.size() > 1), r.config, {}});
    arms[it->second].runs.push_back(r);
  }
  return arms;
}

std::vector<Pair> pair_arms(const std::vector<Arm>& arms) {
  std::map<std::string, const Arm*> baselines;
  for (const Arm& arm : arms)
    if (is_baseline(arm.config)) baselines[pair_key(arm.runs.front())] = &arm;
  std::vector<Pair> pairs;
  for (const Arm& arm : arms) {
    if (is_baseline(arm.config)) continue;
    auto it = baselines.find(pair_key(arm.runs.front()));
    if (it == baselines.end()) continue;
    Pair p;
    p.title = describe(arm.config);
    p.baseline = it->second;
    p.stochastic = &arm;
    pairs.push_back(std::move(p));
  }
  set_short_titles(pairs);
  return pairs;
}

}  // namespace stodepth::results
