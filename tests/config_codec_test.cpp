// Tests for model/config_codec and model/base/json: the canonical text (its bytes are hashed
// into job keys, so they are compared with fmt and with text stored by earlier builds), reading
// it back into every field, and the errors that name the key.
#include "model/config/config_codec.h"

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "model/base/json.h"

using namespace stodepth;

namespace {

TrainConfig parse_ok(const std::string& json) {
  auto config = parse_config_json(json);
  INFO(json);
  if (!config) FAIL(config.error().message);
  return std::move(config).value();
}

std::string parse_error(const std::string& json) {
  auto config = parse_config_json(json);
  INFO(json);
  REQUIRE_FALSE(config.ok());
  CHECK(config.error().kind == ErrorKind::kBadInput);
  return config.error().message;
}

// `json` with the first `from` replaced by `to`.
std::string replaced(std::string json, const std::string& from, const std::string& to) {
  const size_t at = json.find(from);
  REQUIRE(at != std::string::npos);
  return json.replace(at, from.size(), to);
}

uint64_t bits(double x) {
  uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

// Doubles of every kind: random bit patterns (subnormals to 1e308), random decimals as people
// write them, integers around 2^53, 1e15, 1e16 and 2^63 (where nlohmann's and fmt's forms part),
// powers of ten, and the signed zeros.
std::vector<double> many_doubles() {
  std::vector<double> xs = {0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 1e-4, 1e-5, 1e15, 1e16, 1e17, 1e21,
                            std::numeric_limits<double>::min(), std::numeric_limits<double>::max(),
                            std::numeric_limits<double>::denorm_min(), 1e15 + 0.5,
                            9007199254740993.0, 123456789012345680.0};
  for (int e = -30; e <= 30; ++e) xs.push_back(std::pow(10.0, e));
  for (double around : {9007199254740992.0, 1e15, 1e16, 9223372036854775808.0})
    for (int d = -3; d <= 3; ++d) xs.push_back(around + d * std::max(1.0, around * 1e-16));
  std::mt19937_64 random(42);
  while (xs.size() < 200000) {
    double x;
    const uint64_t b = random();
    std::memcpy(&x, &b, sizeof x);
    if (std::isfinite(x)) xs.push_back(x);
    xs.push_back(double(random() % 100000) / std::pow(10.0, double(random() % 8)));
  }
  return xs;
}

}  // namespace

TEST_CASE("canonical text stored by earlier builds reads back and is written identically") {
  // Copied from databases written before the codec (the quickstart and a 36-run grid), and
  // from `launch --dry-run` configs of sweeps/lr-schedules.yaml (milestones, warmup, floor).
  const std::vector<std::string> stored = {
      R"({"dataset":{"name":"fashion-mnist","synthetic_seed":0,"test_subset":0,)"
      R"("train_subset":10000},"eval":{"batch":400,"every":10},"model":{"depth":20,)"
      R"("shortcut":"A","width":1},"stochastic_depth":{"p_L":0.5,"rule":"linear"},)"
      R"("train":{"augment":{"crop_pad":0,"flip":false},"batch":128,"epochs":3,"iterations":0,)"
      R"("lr":{"base":0.1,"floor":0,"gamma":0.1,"milestones":[],"schedule":"cosine","warmup":0},)"
      R"("momentum":0.9,"nesterov":true,"seed":1,"weight_decay":0.0001}})",
      R"({"dataset":{"name":"synthetic","synthetic_seed":0,"test_subset":200,"train_subset":600},)"
      R"("eval":{"batch":100,"every":2},"model":{"depth":8,"shortcut":"A","width":1},)"
      R"("stochastic_depth":{"p_L":0.8,"rule":"uniform"},"train":{"augment":{"crop_pad":0,)"
      R"("flip":false},"batch":50,"epochs":2,"iterations":0,"lr":{"base":0.05,"floor":0,)"
      R"("gamma":0.1,"milestones":[],"schedule":"cosine","warmup":0},"momentum":0.9,)"
      R"("nesterov":true,"seed":1,"weight_decay":0.0001}})",
      R"({"dataset":{"name":"synthetic","synthetic_seed":0,"test_subset":200,"train_subset":600},)"
      R"("eval":{"batch":100,"every":2},"model":{"depth":8,"shortcut":"A","width":1},)"
      R"("stochastic_depth":{"p_L":1,"rule":"linear"},"train":{"augment":{"crop_pad":0,)"
      R"("flip":false},"batch":50,"epochs":2,"iterations":0,"lr":{"base":0.05,"floor":0,)"
      R"("gamma":0.1,"milestones":[],"schedule":"cosine","warmup":0},"momentum":0.9,)"
      R"("nesterov":true,"seed":3,"weight_decay":0.0001}})",
  };
  for (const std::string& json : stored) {
    INFO(json);
    CHECK(canonical_config_json(parse_ok(json)) == json);
  }
  const TrainConfig c = parse_ok(stored[1]);
  CHECK(c.data.name == "synthetic");
  CHECK(c.data.train_subset == 600);
  CHECK(c.model.depth == 8);
  CHECK(c.sd.rule == SurvivalRule::kUniform);
  CHECK(c.sd.p_L == 0.8);
  CHECK(c.train.lr.kind == LrScheduleKind::kCosine);
  CHECK(c.train.lr.base == 0.05);
  CHECK(c.train.optimizer.weight_decay == 0.0001);
}

TEST_CASE("every field is written and read back") {
  TrainConfig c;
  c.data.name = "cifar10";
  c.data.dir = "/data/cifar";  // the machine's: not in the text
  c.data.train_subset = 5000;
  c.data.test_subset = 1000;
  c.data.synthetic_seed = 18446744073709551615ULL;
  c.model.depth = 56;
  c.model.width = 4;
  c.model.shortcut = Shortcut::kC;
  c.sd.rule = SurvivalRule::kUniform;
  c.sd.p_L = 0.25;
  c.train.epochs = 7;
  c.train.iterations = 12345678901;
  c.train.batch = 32;
  c.train.lr.kind = LrScheduleKind::kStep;
  c.train.lr.base = 0.3;
  c.train.lr.milestones = {2, 4.5, 6};
  c.train.lr.gamma = 0.2;
  c.train.lr.floor = 0.001;
  c.train.lr.warmup_epochs = 1.5;
  c.train.optimizer.momentum = 0.8;
  c.train.optimizer.nesterov = false;
  c.train.optimizer.weight_decay = 5e-4;
  c.train.augment.crop_pad = 4;
  c.train.augment.flip = true;
  c.train.seed = 99;
  c.train.threads = 3;  // the machine's: not in the text
  c.eval.every = 5;
  c.eval.batch = 250;
  c.data.extra = true;
  c.data.validation = 5000;
  c.data.validation_seed = 7;
  c.sd.mode = DropMode::kSample;
  c.train.lr.warmup_mode = WarmupMode::kConstant;
  c.train.lr.warmup_lr = 0.02;

  const std::string json = canonical_config_json(c);
  CHECK(json.find("/data/cifar") == std::string::npos);
  CHECK(json.find("threads") == std::string::npos);
  const TrainConfig r = parse_ok(json);
  CHECK(r.data.name == "cifar10");
  CHECK(r.data.dir.empty());
  CHECK(r.data.train_subset == 5000);
  CHECK(r.data.test_subset == 1000);
  CHECK(r.data.synthetic_seed == 18446744073709551615ULL);
  CHECK(r.model.depth == 56);
  CHECK(r.model.width == 4);
  CHECK(r.model.shortcut == Shortcut::kC);
  CHECK(r.sd.rule == SurvivalRule::kUniform);
  CHECK(r.sd.p_L == 0.25);
  CHECK(r.train.epochs == 7);
  CHECK(r.train.iterations == 12345678901);
  CHECK(r.train.batch == 32);
  CHECK(r.train.lr.kind == LrScheduleKind::kStep);
  CHECK(r.train.lr.base == 0.3);
  CHECK(r.train.lr.milestones == std::vector<double>{2, 4.5, 6});
  CHECK(r.train.lr.gamma == 0.2);
  CHECK(r.train.lr.floor == 0.001);
  CHECK(r.train.lr.warmup_epochs == 1.5);
  CHECK(r.train.optimizer.momentum == 0.8);
  CHECK_FALSE(r.train.optimizer.nesterov);
  CHECK(r.train.optimizer.weight_decay == 5e-4);
  CHECK(r.train.augment.crop_pad == 4);
  CHECK(r.train.augment.flip);
  CHECK(r.train.seed == 99);
  CHECK(r.train.threads == TrainConfig{}.train.threads);
  CHECK(r.eval.every == 5);
  CHECK(r.eval.batch == 250);
  CHECK(r.data.extra);
  CHECK(r.data.validation == 5000);
  CHECK(r.data.validation_seed == 7);
  CHECK(r.sd.mode == DropMode::kSample);
  CHECK(r.train.lr.warmup_mode == WarmupMode::kConstant);
  CHECK(r.train.lr.warmup_lr == 0.02);
  CHECK(canonical_config_json(r) == json);
}

TEST_CASE("settings added later are written only when set, and read as their defaults when absent") {
  const TrainConfig defaults;
  const std::string json = canonical_config_json(defaults);
  for (const char* added : {"extra", "validation", "\"mode\"", "warmup_mode", "warmup_lr"}) {
    INFO(added);
    CHECK(json.find(added) == std::string::npos);
  }
  const TrainConfig r = parse_ok(json);
  CHECK_FALSE(r.data.extra);
  CHECK(r.data.validation == 0);
  CHECK(r.sd.mode == DropMode::kBatch);
  CHECK(r.train.lr.warmup_mode == WarmupMode::kLinear);
  CHECK(r.train.lr.warmup_lr == defaults.train.lr.warmup_lr);

  TrainConfig sample = defaults;
  sample.sd.mode = DropMode::kSample;
  const std::string with_mode = canonical_config_json(sample);
  CHECK(with_mode.find(R"("mode":"sample")") != std::string::npos);
  CHECK(parse_ok(with_mode).sd.mode == DropMode::kSample);
}

TEST_CASE("numbers are written as fmt \"{}\" writes them and read back exactly") {
  // nlohmann alone would write 1.0 as "1.0", 1e15 as "1e+15" and ~0.1% of doubles with Grisu2
  // digits that are not the shortest: each of those would change job keys.
  size_t checked = 0;
  for (const double x : many_doubles()) {
    const std::string expected = fmt::format("{}", x == 0 ? 0.0 : x);
    INFO(expected);
    REQUIRE(json_number(x) == expected);
    TrainConfig c;
    c.sd.p_L = x;
    c.train.lr.milestones = {x, x};
    const std::string json = canonical_config_json(c);
    REQUIRE(json.find(fmt::format(R"("p_L":{},)", expected)) != std::string::npos);
    REQUIRE(json.find(fmt::format(R"("milestones":[{},{}])", expected, expected)) !=
            std::string::npos);
    const TrainConfig r = parse_ok(json);
    REQUIRE(bits(r.sd.p_L) == bits(x == 0 ? 0.0 : x));
    REQUIRE(bits(r.train.lr.milestones.at(1)) == bits(x == 0 ? 0.0 : x));
    ++checked;
  }
  CHECK(checked >= 200000);
}

TEST_CASE("non-finite doubles are written as null and read back as NaN") {
  for (const double x : {std::numeric_limits<double>::infinity(),
                         -std::numeric_limits<double>::infinity(),
                         std::numeric_limits<double>::quiet_NaN()}) {
    TrainConfig c;
    c.train.lr.gamma = x;
    const std::string json = canonical_config_json(c);
    CHECK(json.find(R"("gamma":null,)") != std::string::npos);
    CHECK(std::isnan(parse_ok(json).train.lr.gamma));
    CHECK(canonical_config_json(parse_ok(json)) == json);
  }
}

TEST_CASE("strings: control characters as stored text always had them, invalid UTF-8 replaced") {
  TrainConfig c;
  c.data.name = "q\"b\\s\nn\tt\rr\bb\ff\x01u\x7f\xc3\xa9";
  const std::string json = canonical_config_json(c);
  CHECK(json.find(R"("name":"q\"b\\s\nn\tt\u000dr\u0008b\u000cf\u0001u)"
                  "\x7f\xc3\xa9\"") != std::string::npos);
  CHECK(parse_ok(json).data.name == c.data.name);

  c.data.name = "bad\xff";
  CHECK(canonical_config_json(c).find("\"bad\xef\xbf\xbd\"") != std::string::npos);
  CHECK(json_string("\r\b", ShortEscapes::kNewlineReturnTab) == R"("\r\u0008")");
}

TEST_CASE("any key order and spacing reads as the canonical text") {
  TrainConfig c;
  c.sd.p_L = 1;
  const std::string canonical = canonical_config_json(c);
  Json tree = Json::parse(canonical);
  tree["stochastic_depth"]["p_L"] = 1.0;
  const std::string spaced = tree.dump(2);
  REQUIRE(spaced.find(R"("p_L": 1.0)") != std::string::npos);  // nlohmann's form of a double
  CHECK(canonical_config_json(parse_ok(spaced)) == canonical);
  OrderedJson reversed = OrderedJson::object();
  for (auto it = tree.rbegin(); it != tree.rend(); ++it) reversed[it.key()] = *it;
  REQUIRE(reversed.dump().rfind(R"({"train":)", 0) == 0);
  CHECK(canonical_config_json(parse_ok(reversed.dump())) == canonical);
}

TEST_CASE("a missing, mistyped or unknown key is an error naming it") {
  const std::string json = canonical_config_json(TrainConfig{});
  CHECK(parse_error(replaced(json, R"("depth":110,)", "")) == "model.depth: missing");
  CHECK(parse_error(replaced(json, R"("depth":110)", R"("depth":"110")")) ==
        "model.depth: expected an integer, got string");
  CHECK(parse_error(replaced(json, R"("depth":110)", R"("depth":110.5)")) ==
        "model.depth: expected an integer, got 110.5");
  CHECK(parse_error(replaced(json, R"("depth":110)", R"("depth":4294967296)")) ==
        "model.depth: 4294967296 is out of range");
  CHECK(parse_error(replaced(json, R"("seed":1)", R"("seed":-1)")) ==
        "train.seed: -1 is out of range");
  CHECK(parse_error(replaced(json, R"("flip":false)", R"("flip":0)")) ==
        "train.augment.flip: expected true or false, got 0");
  CHECK(parse_error(replaced(json, R"("p_L":0.5)", R"("p_L":"0.5")")) ==
        "stochastic_depth.p_L: expected a number, got string");
  CHECK(parse_error(replaced(json, R"("milestones":[])", R"("milestones":[1,true])")) ==
        "train.lr.milestones: [1]: expected a number, got boolean");
  CHECK(parse_error(replaced(json, R"("shortcut":"A")", R"("shortcut":"D")")) ==
        R"(model.shortcut: unknown value "D")");
  CHECK(parse_error(replaced(json, R"("width":1)", R"("width":1,"height":2)")) ==
        "model.height: unknown key");
  CHECK(parse_error(replaced(json, R"("eval":{)", R"("extra":{"x":1},"eval":{)")) ==
        "extra: unknown key");
  CHECK(parse_error(replaced(json, R"("model":{"depth":110,"shortcut":"A","width":1})",
                             R"("model":7)")) == "model.depth: missing");
  CHECK(parse_error(replaced(json, R"("model":{"depth":110,"shortcut":"A","width":1})",
                             R"("model":[110])")) == "model.depth: missing");
  CHECK_THAT(parse_error(replaced(json, R"("p_L":0.5)", R"("p_L":1e999)")),
             Catch::StartsWith("not JSON (") && Catch::Contains("number overflow"));
  CHECK(parse_error("[1,2]") == "expected an object, got array");
  CHECK(parse_error(R"({"key":"r1"})") == "dataset.name: missing");
  CHECK_THAT(parse_error(json.substr(0, 40)), Catch::StartsWith("not JSON ("));
}
