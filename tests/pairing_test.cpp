// Grouping runs into arms and pairing each stochastic-depth arm with its plain baseline
// (results/report/pairing.h), from hand-built runs.
#include "results/report/pairing.h"

#include <catch2/catch.hpp>

#include "model/config/config_codec.h"

using namespace stodepth;
using namespace stodepth::results;

namespace {

// A run as the store reads it: its config, and that config's canonical JSON.
RunRow run(const std::string& key, int depth, double p_L, SurvivalRule rule, uint64_t seed) {
  RunRow r;
  r.key = key;
  r.config.data.name = "synthetic";
  r.config.model.depth = depth;
  r.config.sd.p_L = p_L;
  r.config.sd.rule = rule;
  r.config.train.seed = seed;
  r.config_json = canonical_config_json(r.config);
  return r;
}

constexpr auto kLinear = SurvivalRule::kLinear;
constexpr auto kUniform = SurvivalRule::kUniform;

std::vector<RunRow> sweep_runs() {
  return {run("plain-1", 20, 1.0, kLinear, 1),    run("plain-2", 20, 1.0, kUniform, 2),
          run("linear-1", 20, 0.5, kLinear, 1),   run("linear-2", 20, 0.5, kLinear, 2),
          run("uniform-1", 20, 0.5, kUniform, 1), run("deep-1", 56, 0.5, kLinear, 1)};
}

std::vector<std::string> keys(const Arm& arm) {
  std::vector<std::string> out;
  for (const RunRow& r : arm.runs) out.push_back(r.key);
  return out;
}

}  // namespace

TEST_CASE("labels: the plain ResNet whatever its rule, else the rule and p_L") {
  TrainConfig c;
  c.sd.p_L = 1.0;
  c.sd.rule = kUniform;
  CHECK(is_baseline(c));
  CHECK(arm_label(c) == "ResNet (p_L = 1)");
  c.sd.p_L = 0.8;
  CHECK_FALSE(is_baseline(c));
  CHECK(arm_label(c) == "SD uniform p_L = 0.8");
  c.train.precision = Precision::kBf16;
  CHECK(arm_label(c, true) == "SD uniform p_L = 0.8, batch mode, bf16");
  c.sd.p_L = 1.0;
  CHECK(arm_label(c) == "ResNet (p_L = 1), bf16");
}

TEST_CASE("runs of one configuration across seeds form an arm, plain runs of any rule share one") {
  const auto arms = group_into_arms(sweep_runs());
  REQUIRE(arms.size() == 4);
  CHECK(keys(arms[0]) == std::vector<std::string>{"plain-1", "plain-2"});
  CHECK(arms[0].label == "ResNet (p_L = 1)");
  CHECK(keys(arms[1]) == std::vector<std::string>{"linear-1", "linear-2"});
  CHECK(arms[1].label == "SD linear p_L = 0.5");
  CHECK(keys(arms[2]) == std::vector<std::string>{"uniform-1"});
  CHECK(keys(arms[3]) == std::vector<std::string>{"deep-1"});
}

TEST_CASE("each stochastic arm is paired with the baseline of its other settings, if any") {
  const auto arms = group_into_arms(sweep_runs());
  const auto pairs = pair_arms(arms);
  REQUIRE(pairs.size() == 2);  // ResNet-56 has no plain arm
  CHECK(pairs[0].stochastic == &arms[1]);
  CHECK(pairs[1].stochastic == &arms[2]);
  for (const Pair& p : pairs) {
    CHECK(p.baseline == &arms[0]);
    // Only the survival settings tell the pairs apart, and titles leave those to the arms.
    CHECK(p.short_title == "ResNet-20");
    CHECK_THAT(p.title, Catch::StartsWith("synthetic, ResNet-20, shortcut A"));
  }
}

TEST_CASE("short titles name the settings that differ between pairs") {
  auto runs = sweep_runs();
  runs.push_back(run("plain-deep", 56, 1.0, kLinear, 1));
  const auto arms = group_into_arms(runs);
  const auto pairs = pair_arms(arms);
  REQUIRE(pairs.size() == 3);
  CHECK(pairs[2].stochastic->runs.front().key == "deep-1");
  CHECK(pairs[2].short_title == "ResNet-56");
  CHECK(pairs[0].short_title == "ResNet-20");
}

TEST_CASE("drop modes: separate arms, each paired with the one plain arm, labels name the mode") {
  auto with_mode = [](RunRow r, DropMode mode) {
    r.config.sd.mode = mode;
    r.config_json = canonical_config_json(r.config);
    return r;
  };
  const std::vector<RunRow> runs = {
      run("plain-1", 20, 1.0, kLinear, 1),
      with_mode(run("plain-sample-1", 20, 1.0, kLinear, 1), DropMode::kSample),
      run("batch-1", 20, 0.5, kLinear, 1),
      with_mode(run("sample-1", 20, 0.5, kLinear, 1), DropMode::kSample)};
  auto arms = group_into_arms(runs);
  REQUIRE(arms.size() == 3);  // a plain ResNet drops nothing: its modes share one arm
  CHECK(arms[0].label == "ResNet (p_L = 1)");
  CHECK(keys(arms[0]) == std::vector<std::string>{"plain-1", "plain-sample-1"});
  // Both are seed 1, the same training: the statistics count it once.
  for (RunRow& r : arms[0].runs) r.state = RunState::kDone;
  REQUIRE(arms[0].done().size() == 1);
  CHECK(arms[0].done()[0]->key == "plain-1");
  CHECK(arms[1].label == "SD linear p_L = 0.5, batch mode");
  CHECK(arms[2].label == "SD linear p_L = 0.5, sample mode");
  const auto pairs = pair_arms(arms);
  REQUIRE(pairs.size() == 2);
  CHECK(pairs[0].baseline == &arms[0]);
  CHECK(pairs[1].baseline == &arms[0]);
  // One mode in the sweep: the label stays as before.
  CHECK(group_into_arms({runs[0], runs[3]})[1].label == "SD linear p_L = 0.5");
}
