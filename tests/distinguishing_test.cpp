// Tests for model/config/distinguishing: a stored config's flat settings, the key that groups
// runs differing only in their seed (or survival settings), and the settings that tell runs
// apart in labels.
#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "model/config/distinguishing.h"

using namespace stodepth;

TEST_CASE("flatten_json reads every leaf of a canonical config") {
  const std::string json =
      R"({"dataset":{"name":"synthetic","test_subset":200},"model":{"depth":8},)"
      R"("stochastic_depth":{"p_L":0.5,"rule":"linear"},)"
      R"("train":{"lr":{"milestones":[1,2.5],"warmup":0},"nesterov":true,"seed":3}})";
  const auto leaves = flatten_json(json);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"dataset.name", "\"synthetic\""},
      {"dataset.test_subset", "200"},
      {"model.depth", "8"},
      {"stochastic_depth.p_L", "0.5"},
      {"stochastic_depth.rule", "\"linear\""},
      {"train.lr.milestones", "[1,2.5]"},
      {"train.lr.warmup", "0"},
      {"train.nesterov", "true"},
      {"train.seed", "3"}};
  CHECK(leaves == expected);
  // Seeds never separate runs; survival settings only when asked.
  std::string other_seed = json;
  other_seed.replace(other_seed.find("\"seed\":3"), 8, "\"seed\":4");
  CHECK(settings_key(json, false) == settings_key(other_seed, false));
  std::string other_p = json;
  other_p.replace(other_p.find("0.5,"), 3, "1.0");
  CHECK(settings_key(json, false) != settings_key(other_p, false));
  CHECK(settings_key(json, true) == settings_key(other_p, true));
  std::string warmup = json;
  warmup.replace(warmup.find("\"warmup\":0"), 10, "\"warmup\":1");
  CHECK(settings_key(json, true) != settings_key(warmup, true));
}

TEST_CASE("settings_to_show names what differs, a setting added later included") {
  TrainConfig a, b, c;
  b.model.depth = 14;
  c.sd.mode = DropMode::kSample;  // added later: not in the canonical JSON of a and b
  c.train.seed = 3;
  c.train.threads = 7;  // the machine's: never a difference between runs
  auto keys = [](std::vector<const TrainConfig*> configs) {
    std::vector<std::string> out;
    for (const Setting* s : settings_to_show(configs)) out.push_back(s->key);
    return out;
  };
  CHECK(keys({&a, &b, &c}) ==
        std::vector<std::string>{"model.depth", "stochastic_depth.mode", "train.seed"});
  CHECK(keys({&a, &a}).empty());
  CHECK(keys({&a}).empty());
  // bf16 is shown wherever a run has it, even when every run listed does.
  TrainConfig bf16 = a;
  bf16.train.precision = Precision::kBf16;
  CHECK(keys({&bf16, &bf16}) == std::vector<std::string>{"train.precision"});
  CHECK(keys({&a, &bf16}) == std::vector<std::string>{"train.precision"});
  CHECK(keys({&b, &bf16}) == std::vector<std::string>{"model.depth", "train.precision"});
}

TEST_CASE("short_name: the column, else the unique last part of the key, else the key") {
  CHECK(short_name(*find_setting("stochastic_depth.p_L")) == "p_L");
  CHECK(short_name(*find_setting("train.lr.schedule")) == "schedule");
  CHECK(short_name(*find_setting("stochastic_depth.mode")) == "mode");
  CHECK(short_name(*find_setting("train.lr.warmup")) == "warmup");
  // train.batch has the column "batch"; eval.every is alone in its last part.
  CHECK(short_name(*find_setting("eval.batch")) == "eval.batch");
  CHECK(short_name(*find_setting("eval.every")) == "every");
  // Every short name names one setting.
  std::set<std::string> names;
  for (const Setting& s : settings()) CHECK(names.insert(short_name(s)).second);
}

TEST_CASE("distinguishing_settings names what differs, leaving out the ignored paths") {
  const std::vector<std::string> configs = {
      R"({"model":{"depth":8,"width":1},"train":{"lr":{"base":0.1},"seed":1}})",
      R"({"model":{"depth":14,"width":1},"train":{"lr":{"base":0.1},"seed":2}})",
      R"({"model":{"depth":8,"width":1},"train":{"lr":{"base":0.05},"seed":3}})"};
  CHECK(distinguishing_settings(configs, {"train.seed"}) ==
        std::vector<std::string>{"model.depth=8, train.lr.base=0.1",
                                 "model.depth=14, train.lr.base=0.1",
                                 "model.depth=8, train.lr.base=0.05"});
  CHECK(distinguishing_settings(configs, {"train."}) ==
        std::vector<std::string>{"model.depth=8", "model.depth=14", "model.depth=8"});
  // Nothing differs: every label is empty.
  CHECK(distinguishing_settings({configs[0], configs[0]}, {}) ==
        std::vector<std::string>{"", ""});
}
