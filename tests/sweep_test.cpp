// Tests for sweeps/: expansion order and semantics, job-key stability, canonical JSON,
// source hashes, located validation errors, and the sweep files shipped in sweeps/.
#include "sweeps/sweep.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "model/config/config_codec.h"

namespace fs = std::filesystem;
using namespace stodepth;
using namespace stodepth::sweeps;

namespace {

Sweep parse_ok(const std::string& text, const ExpandOptions& options = {}) {
  auto sweep = parse_sweep(text, "test.yaml", options);
  INFO(text);
  if (!sweep) FAIL(sweep.error().message);
  return std::move(sweep).value();
}

std::vector<std::string> keys(const Sweep& sweep) {
  std::vector<std::string> out;
  for (const Job& job : sweep.jobs) out.push_back(job.key);
  return out;
}

// depth, p_L, seed of every job, in order.
std::vector<std::tuple<int, double, uint64_t>> depth_pl_seed(const Sweep& sweep) {
  std::vector<std::tuple<int, double, uint64_t>> out;
  for (const Job& job : sweep.jobs)
    out.emplace_back(job.config.model.depth, job.config.sd.p_L, job.config.train.seed);
  return out;
}

fs::path shipped_sweeps_dir() { return fs::path(__FILE__).parent_path().parent_path() / "sweeps"; }

}  // namespace

TEST_CASE("grid product: axes in file order, last axis fastest, then seeds fastest") {
  const Sweep sweep = parse_ok(R"(
name: order
base: {train: {epochs: 1}}
grid:
  model.depth: [20, 56]
  stochastic_depth.p_L: [1.0, 0.5]
seeds: [3, 1]
)");
  using T = std::tuple<int, double, uint64_t>;
  CHECK(depth_pl_seed(sweep) == std::vector<T>{{20, 1.0, 3},
                                               {20, 1.0, 1},
                                               {20, 0.5, 3},
                                               {20, 0.5, 1},
                                               {56, 1.0, 3},
                                               {56, 1.0, 1},
                                               {56, 0.5, 3},
                                               {56, 0.5, 1}});
  CHECK(sweep.name == "order");
  CHECK(sweep.jobs[0].config.train.epochs == 1);
}

TEST_CASE("no grid: base alone, seeds default to 1") {
  const Sweep sweep = parse_ok("name: single\nbase: {model: {depth: 20}}\n");
  REQUIRE(sweep.jobs.size() == 1);
  CHECK(sweep.jobs[0].config.model.depth == 20);
  CHECK(sweep.jobs[0].config.train.seed == 1);
  CHECK(sweep.jobs[0].config.train.epochs == TrainConfig{}.train.epochs);
}

TEST_CASE("exclude by a key inside a mapping axis, then includes on top of base") {
  const Sweep sweep = parse_ok(R"(
name: ex
base:
  model: {depth: 20}
  stochastic_depth: {p_L: 1.0}
  train: {epochs: 2, lr: {schedule: step, milestones: [1]}}
grid:
  model.depth: [20, 56]
  train.lr: [{schedule: step, base: 0.2}, {schedule: cosine}]
exclude: [{model.depth: 56, train.lr.schedule: cosine}]
include: [{model.depth: 110, stochastic_depth.p_L: 0.5}]
)");
  REQUIRE(sweep.jobs.size() == 4);
  const auto& j = sweep.jobs;
  CHECK(j[0].config.model.depth == 20);
  CHECK(j[0].config.train.lr.kind == LrScheduleKind::kStep);
  CHECK(j[0].config.train.lr.base == 0.2);
  CHECK(j[1].config.model.depth == 20);
  CHECK(j[1].config.train.lr.kind == LrScheduleKind::kCosine);
  CHECK(j[2].config.model.depth == 56);
  CHECK(j[2].config.train.lr.kind == LrScheduleKind::kStep);
  CHECK(j[3].config.model.depth == 110);
  CHECK(j[3].config.sd.p_L == 0.5);
  CHECK(j[3].config.train.lr.kind == LrScheduleKind::kStep);  // base's, not the grid's
  CHECK(j[3].config.train.lr.base == 0.1);
}

TEST_CASE("a mapping axis value overrides only the keys it names") {
  const Sweep sweep = parse_ok(R"(
name: merge
base: {train: {lr: {schedule: step, base: 0.05, gamma: 0.2, milestones: [3]}}}
grid: {train.lr: [{schedule: cosine, floor: 0.001}]}
)");
  const LrSchedule& lr = sweep.jobs.at(0).config.train.lr;
  CHECK(lr.kind == LrScheduleKind::kCosine);
  CHECK(lr.floor == 0.001);
  CHECK(lr.base == 0.05);
  CHECK(lr.gamma == 0.2);
  CHECK(lr.milestones == std::vector<double>{3});
}

TEST_CASE("exclude compares resolved values: 1 matches 1.0, a matches A") {
  const Sweep sweep = parse_ok(R"(
name: spelling
base: {model: {depth: 20}}
grid:
  model.shortcut: [A, B]
  stochastic_depth.p_L: [1.0, 0.5]
exclude: [{stochastic_depth.p_L: 1, model.shortcut: a}]
)");
  REQUIRE(sweep.jobs.size() == 3);
  CHECK(sweep.jobs[0].config.model.shortcut == Shortcut::kA);
  CHECK(sweep.jobs[0].config.sd.p_L == 0.5);
}

TEST_CASE("jobs with an already seen key are dropped, the first kept") {
  const Sweep sweep = parse_ok(R"(
name: dup
base: {model: {depth: 20}}
grid: {stochastic_depth.p_L: [0.5, 1, 0.50]}
include: [{stochastic_depth.p_L: 1.0}, {model.depth: 56}]
seeds: [1, 2]
)");
  using T = std::tuple<int, double, uint64_t>;
  CHECK(depth_pl_seed(sweep) ==
        std::vector<T>{
            {20, 0.5, 1}, {20, 0.5, 2}, {20, 1.0, 1}, {20, 1.0, 2}, {56, 0.5, 1}, {56, 0.5, 2}});
  const auto k = keys(sweep);
  CHECK(std::set<std::string>(k.begin(), k.end()).size() == k.size());
}

TEST_CASE("job keys ignore spelling: key order, 1 vs 1.0, defaults, nesting, comments") {
  const Sweep a = parse_ok(R"(
name: a
base:
  model: {depth: 20}
  stochastic_depth: {p_L: 1, rule: linear}
  train: {epochs: 2, lr: {base: 0.1}}
grid: {train.batch: [64, 128]}
)");
  const Sweep b = parse_ok(R"(
name: b   # another name: keys depend on the config only
base:
  train:
    lr: {base: 1.0e-1, schedule: step, gamma: 0.1, warmup: 0}  # explicit defaults
    epochs: +2
    momentum: 0.90
  stochastic_depth.p_L: 1.0
  model.depth: 20
  model: {width: 1, shortcut: A}
  dataset: {dir: /elsewhere}   # not part of the key
  train.threads: 3             # nor this
grid: {train.batch: [64, 128]}
)");
  CHECK(keys(a) == keys(b));
  CHECK(a.jobs[0].config_json == b.jobs[0].config_json);
  CHECK(b.jobs[0].config.data.dir == "/elsewhere");
  CHECK(b.jobs[0].config.train.threads == 3);
}

TEST_CASE("adding an axis value or a one-value axis keeps the existing keys") {
  const std::string head = "name: grow\nbase: {model: {depth: 20}}\nseeds: [1, 2]\n";
  const auto before = keys(parse_ok(head + "grid: {stochastic_depth.p_L: [1.0, 0.5]}\n"));
  const auto after = keys(parse_ok(head + "grid: {stochastic_depth.p_L: [1.0, 0.8, 0.5]}\n"));
  REQUIRE(before.size() == 4);
  REQUIRE(after.size() == 6);
  CHECK(std::vector<std::string>(after.begin(), after.begin() + 2) ==
        std::vector<std::string>(before.begin(), before.begin() + 2));
  CHECK(std::vector<std::string>(after.end() - 2, after.end()) ==
        std::vector<std::string>(before.end() - 2, before.end()));
  const auto with_axis =
      keys(parse_ok(head + "grid: {stochastic_depth.p_L: [1.0, 0.5], model.width: [1]}\n"));
  CHECK(with_axis == before);
}

TEST_CASE("canonical JSON: sorted keys, every field, shortest numbers, enum names") {
  TrainConfig c;
  CHECK(canonical_config_json(c) ==
        R"({"dataset":{"name":"fashion-mnist","synthetic_seed":0,"test_subset":0,)"
        R"("train_subset":0},"eval":{"batch":400,"every":10},"model":{"depth":110,)"
        R"("shortcut":"A","width":1},"stochastic_depth":{"p_L":0.5,"rule":"linear"},)"
        R"("train":{"augment":{"crop_pad":0,"flip":false},"batch":128,"epochs":500,)"
        R"("iterations":0,"lr":{"base":0.1,"floor":0,"gamma":0.1,"milestones":[],)"
        R"("schedule":"step","warmup":0},"momentum":0.9,"nesterov":true,"seed":1,)"
        R"("weight_decay":0.0001}})");
  const std::string key = job_key(c);
  CHECK(key.size() == 16);
  CHECK(key.find_first_not_of("0123456789abcdef") == std::string::npos);

  TrainConfig machine = c;  // data location and thread count are not the experiment
  machine.data.dir = "/data";
  machine.train.threads = 7;
  CHECK(job_key(machine) == key);

  TrainConfig other = c;
  other.train.lr.milestones = {250, 375.5};
  other.train.lr.floor = -0.0;
  other.sd.rule = SurvivalRule::kUniform;
  other.data.name = "a\"b";
  const std::string json = canonical_config_json(other);
  CHECK(json.find(R"("milestones":[250,375.5])") != std::string::npos);
  CHECK(json.find(R"("floor":0,)") != std::string::npos);
  CHECK(json.find(R"("rule":"uniform")") != std::string::npos);
  CHECK(json.find(R"("name":"a\"b")") != std::string::npos);
  CHECK(job_key(other) != key);
  other.train.seed = 2;
  CHECK(job_key(other) != job_key(c));
}

TEST_CASE("source hash ignores comments, layout and key order, not content") {
  const Sweep a = parse_ok(
      "name: s\nbase: {model: {depth: 20}, train: {epochs: 1}}\n"
      "grid: {stochastic_depth.p_L: [1.0, 0.5], model.width: [1, 2]}\n");
  const Sweep same = parse_ok(
      "# a comment\nname: s\ngrid:\n  stochastic_depth.p_L:\n    - 1.0\n    - 0.5\n"
      "  model.width: [1, 2]\nbase:\n  train: {epochs: 1}\n  model:\n    depth: 20\n");
  const Sweep value = parse_ok(
      "name: s\nbase: {model: {depth: 20}, train: {epochs: 2}}\n"
      "grid: {stochastic_depth.p_L: [1.0, 0.5], model.width: [1, 2]}\n");
  const Sweep axes = parse_ok(
      "name: s\nbase: {model: {depth: 20}, train: {epochs: 1}}\n"
      "grid: {model.width: [1, 2], stochastic_depth.p_L: [1.0, 0.5]}\n");
  CHECK(a.source_hash.size() == 16);
  CHECK(same.source_hash == a.source_hash);
  CHECK(value.source_hash != a.source_hash);
  CHECK(axes.source_hash != a.source_hash);  // axis order decides the job order
  CHECK(same.source_text != a.source_text);
}

TEST_CASE("job keys, canonical JSON and source hashes are those earlier builds stored") {
  // Computed by the build before the config codec (JSON written by hand) and kept in users'
  // databases: a changed byte would orphan every stored run. The description's escapes and
  // the numbers (0.30000000000000004, 1e-3, 2^53 - 1) are where JSON writers differ.
  const Sweep sweep = parse_ok(R"yaml(name: escapes
description: "tab\there, cr\rthere, bs\b ff\f bell\a nul-ish\x01 del\x7f é ü 日本 \U0001F600 quote\" backslash\\ newline\nend"
base:
  model: {depth: 8}
  model.width: 1
  train: {epochs: 1, lr: {schedule: step, milestones: [0.5, 0.75], warmup: 0.25, floor: 0.001}}
  dataset: {name: synthetic, train_subset: 100, test_subset: 50}
grid:
  train.lr: [{schedule: step, base: 0.1}, {schedule: cosine, base: 1e-2}]
  stochastic_depth.p_L: [1, 0.5, 0.30000000000000004, 1e-3]
  model.shortcut: [A, B]
exclude:
  - {train.lr.schedule: cosine, model.shortcut: B}
include:
  - {model.depth: 14, stochastic_depth: {p_L: 0.2, rule: uniform}}
seeds: [0, 9007199254740991, 7]
)yaml");
  CHECK(sweep.source_hash == "aeef5fa5f1ba1395");
  CHECK(keys(sweep) == std::vector<std::string>{
      "a21ecd417a0b485e", "23b07f88346869ec", "40b40cbe9d2d780b", "f427e7c5dd204f3f",
      "18682e0b7c9b8e33", "598dc10cf867ee5a", "b0ec9772fda164a8", "87ab383249bda01e",
      "57d61496b63ae7b1", "b7f89f3cfc3dcac9", "f7f25e8516df6305", "f2ca53fd190949c0",
      "d7722a6cc7f07a02", "1b6a2e902971eb20", "1ae959353de4c807", "cb04aa0abdffcf4f",
      "5f15ef4503903943", "d977922a0c74c6aa", "1eadac989f70a104", "0cee088f1e8f885a",
      "da78b10642ca2e85", "54d8936b2b4b0555", "6a02e0cd548302e1", "86f9c791d63f7494",
      "992ebddbf9ecfea1", "92af08bbfe2e085d", "d0e95e12d24e9298", "a8b499e9b585d68b",
      "b49d7e667723f3ef", "0a1f5a6c9263a6de", "bb3eee3dd6fce585", "5a540ea64d56e691",
      "ff73e9d033a35804", "e403c49f3e224407", "1c7133aae6057b9b", "a08c95d6c82df602",
      "7902f53adbbaca99", "f7803668cc5df695", "9777b9c7ad9dcf50"});
  CHECK(sweep.jobs.at(30).config_json ==
        R"({"dataset":{"name":"synthetic","synthetic_seed":0,"test_subset":50,"train_subset":100},)"
        R"("eval":{"batch":400,"every":10},"model":{"depth":8,"shortcut":"A","width":1},)"
        R"("stochastic_depth":{"p_L":0.30000000000000004,"rule":"linear"},"train":{"augment":)"
        R"({"crop_pad":0,"flip":false},"batch":128,"epochs":1,"iterations":0,"lr":{"base":0.01,)"
        R"("floor":0.001,"gamma":0.1,"milestones":[0.5,0.75],"schedule":"cosine","warmup":0.25},)"
        R"("momentum":0.9,"nesterov":true,"seed":0,"weight_decay":0.0001}})");

  const Sweep grid = parse_ok(R"yaml(name: grid
description: fixed database for byte-identical report checks
base:
  dataset: {name: synthetic, train_subset: 600, test_subset: 200}
  train: {epochs: 2, batch: 50, lr: {schedule: cosine, base: 0.05}}
  eval: {every: 2, batch: 100}
grid:
  model.depth: [8, 14]
  stochastic_depth.p_L: [1.0, 0.8, 0.5]
  stochastic_depth.rule: [linear, uniform]
seeds: [1, 2, 3]
)yaml");
  CHECK(grid.source_hash == "2b74f1523d9a06a0");
  CHECK(keys(grid) == std::vector<std::string>{  // the runs of that database, in order
      "66409c19f65e5c62", "0eb64d4a638ae023", "355bc679d333abfc", "da1af00e99e1b95d",
      "df3736fb5e0407e0", "a3dfe242c0313b27", "a1acc902cfdedbbd", "dbadf2a599773b40",
      "09d02d47693d2387", "2fe70d78f511ddb4", "d78aebdbc071fc81", "55d95742136aa4ba",
      "14cb814036ee89ac", "bde12d203aaa0219", "7fac4ebbe5edb412", "e01565d55a39a2b3",
      "eec955601e130572", "094a1b8282cd1679", "2bef472a73e8c4a9", "3c2fd8b5c076b8fc",
      "158a5f8650cded23", "8805dbcd595517f8", "d057e37ecd254175", "02f395882899bbee",
      "740a8cc9ab00d102", "a9d230633da939c3", "7d263d572f10a21c", "52dcb549500d95fd",
      "55605dfae2683d80", "7db00b3c5fbcc4c7", "b1aeead5f51c6c4b", "bbc94385f118696a",
      "dd2cd9154e9cbd31", "b9781b7588fb37de", "8c7467a46ce3564f", "6e878dce8a257468"});

  const std::vector<std::pair<std::string, std::string>> shipped = {
      {"depth-vs-survival.yaml", "00e558ead07d8603"}, {"lr-schedules.yaml", "1c29bed4c06b974a"},
      {"paper-cifar10.yaml", "7ed0a490094558a9"},     {"paper-svhn.yaml", "49d5ec207f1a3d42"},
      {"paper-cifar10-1202.yaml", "41814d3b409a99df"}, {"drop-modes.yaml", "fdd55a48ea6635bd"},
      {"quickstart.yaml", "661e53c3a431fc67"},        {"shortcuts.yaml", "7513e6af50a712f3"},
      {"survival-rules.yaml", "1b1bdd1dc2f30d35"}};
  for (const auto& [file, hash] : shipped) {
    auto loaded = load_sweep_file((shipped_sweeps_dir() / file).string());
    INFO(file);
    REQUIRE(loaded.ok());
    CHECK(loaded->source_hash == hash);
  }
}

TEST_CASE("the job limit is checked before expansion and can be raised") {
  const std::string text = R"(
name: big
base: {model: {depth: 20}}
grid:
  train.epochs: [1, 2, 3, 4, 5]
  train.batch: [1, 2, 3, 4, 5]
  eval.every: [1, 2, 3, 4, 5]
seeds: [1, 2]
)";
  auto limited = parse_sweep(text, "big.yaml", ExpandOptions{249});
  REQUIRE_FALSE(limited);
  CHECK(limited.error().message ==
        "big.yaml:5:3: sweep expands to 250 jobs "
        "(limit 249; pass --yes to allow)");
  CHECK(parse_ok(text, ExpandOptions{250}).jobs.size() == 250);
}

TEST_CASE("every problem in a file is reported, one per line") {
  auto sweep = parse_sweep(
      "name: two\nbase: {model: {depth: deep}}\ngrid: {stochastic_depth.p_L: []}\n", "t.yaml");
  REQUIRE_FALSE(sweep);
  CHECK(sweep.error().message ==
        "t.yaml:2:23: model.depth: expected an integer, got 'deep'\n"
        "t.yaml:3:30: grid axis 'stochastic_depth.p_L' is empty");
}

TEST_CASE("load_sweep_file names a missing file") {
  auto sweep = load_sweep_file("/nonexistent/sweep.yaml");
  REQUIRE_FALSE(sweep);
  CHECK(sweep.error().message.rfind("/nonexistent/sweep.yaml: cannot open", 0) == 0);
}

namespace {

struct BadSweep {
  const char* what;
  std::string text;
  const char* where;   // the expected "file:line:col: " prefix of the first error
  const char* needle;  // the key (and hint) the message must name
  size_t max_jobs = ExpandOptions{}.max_jobs;
};

// A grid of 10^6 combinations: over the limit, and counted without being built.
std::string million_job_grid() {
  std::string text = "name: huge\ngrid:\n";
  for (const char* key : {"train.epochs", "train.batch", "eval.every", "eval.batch",
                          "train.augment.crop_pad", "dataset.train_subset"})
    text += std::string("  ") + key + ": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n";
  return text;
}

const std::vector<BadSweep> kBadSweeps = {
    {"syntax: unclosed flow sequence", "name: t\ngrid: {model.depth: [20, 56}\n",
     "bad.yaml:2:28: ", "YAML syntax error"},
    {"syntax: tab indentation", "name: t\nbase:\n\tmodel: {depth: 20}\n",
     "bad.yaml:3:1: ", "tab used for indentation"},
    {"syntax: unterminated quote", "name: t\ndescription: \"never closed\ngrid: {seeds: [1]}\n",
     "bad.yaml:2:14: ", "unterminated quoted string"},
    {"a NUL byte", std::string("name: t\0\n", 9), "bad.yaml:1:8: ", "control character U+0000"},
    // Found by fuzzing (tests/fuzz/regressions/sweep): a billion-node alias bomb, a name that
    // overflowed std::regex's stack, a value whose line break split the message.
    {"alias bomb", "name: t\nl0: &l0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
                   "l1: &l1 [*l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0]\n"
                   "l2: &l2 [*l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1]\n"
                   "l3: &l3 [*l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2]\n"
                   "l4: &l4 [*l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3]\n"
                   "l5: &l5 [*l4, *l4, *l4, *l4, *l4, *l4, *l4, *l4, *l4, *l4]\n",
     "bad.yaml:1:1: ", "more than 100000 YAML nodes once aliases are expanded"},
    {"a 100,000-character name", "name: " + std::string(100000, 'a') + "\n", "bad.yaml:1:7: ",
     "name: expected 1 to 200 letters"},
    {"a line break inside a quoted value", "name: t\nbase: {model.depth: \"1\\n2\"}\n",
     "bad.yaml:2:21: ", "model.depth: expected an integer, got the string \"1\\n2\""},
    {"non-UTF-8 text", "name: t\ndescription: caf\xe9 au lait\n",
     "bad.yaml:2:17: ", "not UTF-8 text (byte 0xE9)"},
    {"empty file", "", "bad.yaml:1:1: ", "expected a mapping"},
    {"not a mapping", "- name\n- t\n", "bad.yaml:1:1: ", "expected a mapping"},
    {"missing name", "base: {model: {depth: 20}}\n",
     "bad.yaml:1:1: ", "missing required key 'name'"},
    {"bad name", "name: my sweep\n", "bad.yaml:1:7: ", "name:"},
    {"unknown top-level key", "name: t\ngird: {model.depth: [20]}\n",
     "bad.yaml:2:1: ", "unknown key 'gird' (did you mean 'grid'?)"},
    {"config key at top level", "name: t\nmodel: {depth: 20}\n",
     "bad.yaml:2:1: ", "unknown key 'model' (config keys go under 'base:')"},
    {"unknown section in base", "name: t\nbase:\n  modle: {depth: 20}\n",
     "bad.yaml:3:3: ", "unknown key 'modle' (did you mean 'model'?)"},
    {"unknown leaf in base", "name: t\nbase:\n  model: {dept: 20}\n",
     "bad.yaml:3:11: ", "unknown key 'model.dept' (did you mean 'model.depth'?)"},
    {"unknown grid axis", "name: t\ngrid:\n  stochastic_depth.pL: [0.5]\n",
     "bad.yaml:3:3: ", "unknown key 'stochastic_depth.pL' (did you mean 'stochastic_depth.p_L'?)"},
    {"unknown key inside a mapping axis", "name: t\ngrid:\n  train.lr: [{shedule: cosine}]\n",
     "bad.yaml:3:15: ", "unknown key 'train.lr.shedule' (did you mean 'train.lr.schedule'?)"},
    {"unknown key in exclude", "name: t\ngrid: {model.depth: [20]}\nexclude: [{model.dpth: 20}]\n",
     "bad.yaml:3:12: ", "unknown key 'model.dpth' (did you mean 'model.depth'?)"},
    {"string for an integer", "name: t\nbase:\n  model: {depth: twenty}\n",
     "bad.yaml:3:18: ", "model.depth: expected an integer, got 'twenty'"},
    {"quoted number", "name: t\nbase:\n  model: {depth: \"20\"}\n",
     "bad.yaml:3:18: ", "model.depth: expected an integer, got the string \"20\""},
    {"fraction for an integer", "name: t\nbase:\n  train: {batch: 12.5}\n",
     "bad.yaml:3:18: ", "train.batch: expected an integer, got '12.5'"},
    {"integer out of range", "name: t\nbase:\n  model: {width: 99999999999}\n",
     "bad.yaml:3:18: ", "model.width: 99999999999 is out of range"},
    {"list where a scalar is expected", "name: t\nbase:\n  stochastic_depth: {p_L: [0.5]}\n",
     "bad.yaml:3:27: ", "stochastic_depth.p_L: expected a number, got a list"},
    {"missing value", "name: t\nbase:\n  model:\n    depth:\n",
     "bad.yaml:4:5: ", "model.depth: expected an integer, got nothing"},
    {"scalar where a section is expected", "name: t\nbase:\n  model: 20\n",
     "bad.yaml:3:10: ", "model: expected a mapping, got '20'"},
    {"milestones not a list", "name: t\nbase:\n  train.lr.milestones: 250\n",
     "bad.yaml:3:24: ", "train.lr.milestones: expected a list of numbers, got '250'"},
    {"bad enum, with a hint", "name: t\nbase:\n  stochastic_depth: {rule: linaer}\n",
     "bad.yaml:3:28: ",
     "stochastic_depth.rule: expected one of linear, uniform, got 'linaer' "
     "(did you mean 'linear'?)"},
    {"bad shortcut", "name: t\ngrid:\n  model.shortcut: [A, D]\n",
     "bad.yaml:3:23: ", "model.shortcut: expected one of A, B, C, got 'D'"},
    {"bad boolean", "name: t\nbase:\n  train: {nesterov: maybe}\n",
     "bad.yaml:3:21: ", "train.nesterov: expected true or false, got 'maybe'"},
    {"grid not a mapping", "name: t\ngrid: [model.depth]\n", "bad.yaml:2:7: ", "grid:"},
    {"axis not a list", "name: t\ngrid:\n  model.depth: 20\n",
     "bad.yaml:3:16: ", "grid axis 'model.depth': expected a list of values"},
    {"empty axis", "name: t\ngrid:\n  model.depth: []\n",
     "bad.yaml:3:16: ", "grid axis 'model.depth' is empty"},
    {"scalar values for a section axis", "name: t\ngrid:\n  train.lr: [0.1]\n",
     "bad.yaml:3:14: ", "train.lr: expected a mapping, got '0.1'"},
    {"everything excluded", "name: t\ngrid: {model.depth: [20]}\nexclude: [{model.depth: 20}]\n",
     "bad.yaml:3:10: ", "every grid combination is excluded"},
    {"exclude matching nothing",
     "name: t\ngrid: {model.depth: [20, 56]}\n"
     "exclude: [{model.depth: 110}]\n",
     "bad.yaml:3:11: ", "exclude: this entry matches no grid combination"},
    {"NaN", "name: t\nbase:\n  stochastic_depth: {p_L: .nan}\n",
     "bad.yaml:3:27: ", "stochastic_depth.p_L: .nan is out of range"},
    {"infinity in an axis", "name: t\ngrid:\n  train.lr.base: [0.1, .inf]\n",
     "bad.yaml:3:24: ", "train.lr.base: .inf is out of range"},
    {"negative infinity", "name: t\nbase:\n  train: {momentum: -.Inf}\n",
     "bad.yaml:3:21: ", "train.momentum: -.Inf is out of range"},
    {"negative weight decay", "name: t\nbase:\n  train: {weight_decay: -1.0e-4}\n",
     "bad.yaml:3:25: ", "train.weight_decay: -0.0001 must be >= 0"},
    {"negative epochs", "name: t\nbase:\n  train: {epochs: -3}\n",
     "bad.yaml:3:19: ", "train.epochs: -3 must be >= 0"},
    {"depth not 6n+2 in the grid", "name: t\ngrid:\n  model.depth: [20, 21]\n",
     "bad.yaml:3:21: ", "model.depth: 21 is not 6n+2 with n >= 1 (try 20 or 26)"},
    {"depth not 6n+2 in base", "name: t\nbase:\n  model: {depth: 100}\n",
     "bad.yaml:3:18: ", "model.depth: 100 is not 6n+2"},
    {"depth not 6n+2 in an include",
     "name: t\nbase: {model: {depth: 20}}\ninclude:\n  - {model.depth: 22}\n",
     "bad.yaml:4:19: ", "model.depth: 22 is not 6n+2"},
    {"p_L zero", "name: t\ngrid:\n  stochastic_depth.p_L: [0, 0.5]\n",
     "bad.yaml:3:26: ", "stochastic_depth.p_L: 0 is outside (0, 1]"},
    {"p_L above 1", "name: t\nbase: {stochastic_depth: {p_L: 1.5}}\n",
     "bad.yaml:2:32: ", "stochastic_depth.p_L: 1.5 is outside (0, 1]"},
    {"unknown dataset, via validate", "name: t\nbase: {dataset: {name: fashion-mnst}}\n",
     "bad.yaml:2:24: ",
     "dataset.name: unknown dataset 'fashion-mnst', did you mean "
     "'fashion-mnist'?"},
    {"invalid only with the base (nesterov without momentum)",
     "name: t\nbase: {train: {momentum: 0}}\n",
     "bad.yaml:2:7: ", "train.nesterov: Nesterov needs momentum > 0"},
    {"too many jobs (default limit)", million_job_grid(),
     "bad.yaml:3:3: ", "sweep expands to 1000000 jobs (limit 100000; pass --yes to allow)"},
    {"too many jobs (a lower limit)",
     "name: t\ngrid:\n  stochastic_depth.p_L: [0.2, 0.4, 0.6]\nseeds: [1, 2, 3, 4]\n",
     "bad.yaml:3:3: ", "sweep expands to 12 jobs (limit 10;", 10},
    {"duplicate YAML key", "name: t\nbase:\n  model: {depth: 20}\n  model: {width: 2}\n",
     "bad.yaml:4:3: ", "duplicate key 'model' (first at line 3)"},
    {"duplicate axis", "name: t\ngrid:\n  model.depth: [20]\n  model.depth: [56]\n",
     "bad.yaml:4:3: ", "duplicate key 'model.depth' (first at line 3)"},
    {"key set twice, nested and dotted",
     "name: t\nbase:\n  model: {depth: 20}\n  model.depth: 56\n",
     "bad.yaml:4:16: ", "model.depth: set twice (first at line 3)"},
    {"negative seed", "name: t\nseeds: [1, -2]\n",
     "bad.yaml:2:12: ", "seeds: -2 must be a non-negative integer"},
    {"repeated seed", "name: t\nseeds: [1, 2, 1]\n", "bad.yaml:2:15: ", "seeds: 1 is listed twice"},
    {"fractional seed", "name: t\nseeds: [1.5]\n",
     "bad.yaml:2:9: ", "seeds: expected an integer, got '1.5'"},
    {"empty seeds", "name: t\nseeds: []\n", "bad.yaml:2:8: ", "seeds: expected a non-empty list"},
    {"train.seed in base", "name: t\nbase:\n  train: {seed: 3}\n",
     "bad.yaml:3:11: ", "train.seed: not a key of a sweep; list seeds in the top-level 'seeds:'"},
    {"dataset.dir in the grid", "name: t\ngrid:\n  dataset.dir: [a, b]\n",
     "bad.yaml:3:3: ", "dataset.dir: can only be set in base"},
    {"train.threads in an include", "name: t\ninclude: [{train: {threads: 2}}]\n",
     "bad.yaml:2:20: ", "train.threads: can only be set in base"},
};

}  // namespace

TEST_CASE("bad sweep files: every error is located and names the key") {
  REQUIRE(kBadSweeps.size() >= 25);
  for (const BadSweep& bad : kBadSweeps) {
    INFO(bad.what << "\n---\n" << bad.text << "---");
    auto sweep = parse_sweep(bad.text, "bad.yaml", ExpandOptions{bad.max_jobs});
    REQUIRE_FALSE(sweep);
    const std::string& message = sweep.error().message;
    INFO("error: " << message);
    CHECK(message.rfind(bad.where, 0) == 0);
    const std::string first_line = message.substr(0, message.find('\n'));
    CHECK(first_line.find(bad.needle) != std::string::npos);
  }
}

TEST_CASE("every shipped sweep file parses and validates") {
  const fs::path dir = shipped_sweeps_dir();
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  REQUIRE(files.size() >= 6);
  std::set<std::string> names;
  for (const fs::path& file : files) {
    INFO(file);
    auto sweep = load_sweep_file(file.string());
    if (!sweep) FAIL(sweep.error().message);
    CHECK(sweep->name == file.stem().string());
    CHECK_FALSE(sweep->description.empty());
    CHECK_FALSE(sweep->jobs.empty());
    CHECK(names.insert(sweep->name).second);
  }
}

TEST_CASE("quickstart: plain vs stochastic depth ResNet-20, two seeds, four jobs") {
  auto sweep = load_sweep_file((shipped_sweeps_dir() / "quickstart.yaml").string());
  if (!sweep) FAIL(sweep.error().message);
  using T = std::tuple<int, double, uint64_t>;
  CHECK(depth_pl_seed(*sweep) ==
        std::vector<T>{{20, 1.0, 1}, {20, 1.0, 2}, {20, 0.5, 1}, {20, 0.5, 2}});
  for (const Job& job : sweep->jobs) CHECK(job.config.data.name == "fashion-mnist");
}

TEST_CASE("paper-cifar10 is the paper's ResNet-110 setting") {
  auto sweep = load_sweep_file((shipped_sweeps_dir() / "paper-cifar10.yaml").string());
  if (!sweep) FAIL(sweep.error().message);
  const TrainConfig& c = sweep->jobs.at(0).config;
  CHECK(c.data.name == "cifar10");
  CHECK(c.model.depth == 110);
  CHECK(c.train.epochs == 500);
  CHECK(c.train.lr.milestones == std::vector<double>{250, 375});
  CHECK(c.train.augment.crop_pad == 4);
  CHECK(c.train.augment.flip);
}

TEST_CASE("quotes, apostrophes and block scalars that are valid YAML are accepted") {
  const std::string base =
      "base:\n  dataset: {name: synthetic}\n  model: {depth: 8}\n  train: {iterations: 2}\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"description: it's the baseline, isn't it\n", "it's the baseline, isn't it"},
      {"description: ResNet-110 - 'til convergence\n", "ResNet-110 - 'til convergence"},
      {"description: x\t# see: 'foo\n", "x"},
      {"description: \"a # not a comment, 'b'\"\n", "a # not a comment, 'b'"},
      {"description: 'it''s quoted'\n", "it's quoted"},
      {"description: \"spans\n  two lines\"\n", "spans two lines"},
      {"description: |\n  plain ResNet's \"variance\n  and 'more\n", "plain ResNet's \"variance\nand 'more\n"},
      {"description: >-\n  folded 'text\n", "folded 'text"},
      {"description: !!str \"tagged\"\n", "tagged"},
  };
  for (const auto& [lines, expected] : cases) {
    const std::string text = "name: q\n" + lines + base;
    INFO(text);
    auto sweep = parse_sweep(text, "q.yaml", ExpandOptions{});
    INFO((sweep ? "" : sweep.error().message));
    REQUIRE(sweep.ok());
    CHECK(sweep->description == expected);
  }
  // A flow list of quoted values in the grid, and an include entry of two keys.
  const std::string grid = "name: q\n" + base +
                           "grid:\n  stochastic_depth.rule: ['linear', \"uniform\"]\n"
                           "include:\n  - model: {depth: 14}\n    train: {iterations: 3}\n";
  auto sweep = parse_sweep(grid, "q.yaml", ExpandOptions{});
  INFO((sweep ? "" : sweep.error().message));
  REQUIRE(sweep.ok());
  CHECK(sweep->jobs.size() == 3);
}

// Job keys name stored results: a relaunch of an old sweep on its old database must find them.
// tests/golden/shipped_sweep_job_keys.txt holds every shipped sweep's keys from before the
// protocol settings (drop mode, validation split, warm-up mode) existed. A setting added
// since, left at its default, must not change them; where a shipped sweep now sets one
// (paper-cifar10's validation split), resetting it must give the old key back.
TEST_CASE("settings added later leave the shipped sweeps' job keys as they were") {
  const fs::path golden = fs::path(__FILE__).parent_path() / "golden" / "shipped_sweep_job_keys.txt";
  std::ifstream in(golden);
  REQUIRE(in.good());
  std::map<std::string, std::vector<std::string>> expected;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.find(' ');
    REQUIRE(space != std::string::npos);
    expected[line.substr(0, space)].push_back(line.substr(space + 1));
  }
  REQUIRE(expected.size() == 6);
  for (const auto& [file, old_keys] : expected) {
    INFO(file);
    auto sweep = load_sweep_file((shipped_sweeps_dir() / file).string());
    REQUIRE(sweep.ok());
    std::vector<std::string> keys_without_new_settings;
    for (const Job& job : sweep->jobs) {
      TrainConfig config = job.config;
      const TrainConfig defaults;
      config.data.validation = defaults.data.validation;
      config.data.validation_seed = defaults.data.validation_seed;
      keys_without_new_settings.push_back(job_key(config));
      if (config.data.validation == job.config.data.validation) CHECK(job.key == job_key(config));
    }
    CHECK(keys_without_new_settings == old_keys);
  }
}

TEST_CASE("a setting added later changes the key only when it leaves its default") {
  const Sweep sweep = parse_ok(R"(
name: new-settings
base: {model: {depth: 8}, train: {epochs: 1, lr: {warmup: 1}}}
grid:
  stochastic_depth.mode: [batch, sample]
  train.lr.warmup_mode: [linear, constant]
  dataset.validation: [0, 100]
)");
  REQUIRE(sweep.jobs.size() == 8);
  const std::vector<std::string> all = keys(sweep);
  const std::set<std::string> distinct(all.begin(), all.end());
  CHECK(distinct.size() == 8);
  TrainConfig plain = sweep.jobs[0].config;
  CHECK(plain.sd.mode == DropMode::kBatch);
  CHECK(plain.train.lr.warmup_mode == WarmupMode::kLinear);
  CHECK(plain.data.validation == 0);
  CHECK(canonical_config_json(plain).find(R"("mode")") == std::string::npos);
  CHECK(canonical_config_json(plain).find("validation") == std::string::npos);
  CHECK(sweep.jobs.back().config.sd.mode == DropMode::kSample);
  CHECK(sweep.jobs.back().config_json.find(R"("mode":"sample")") != std::string::npos);
}
