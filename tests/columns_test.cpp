// Tests for results/store/columns: the parameter-column table agrees with the canonical config
// JSON it mirrors, with the runs table's schema, and with what the store writes.
#include "results/store/columns.h"

#include <fmt/format.h>

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "model/base/json.h"
#include "model/config/config_codec.h"
#include "model/config/distinguishing.h"
#include "results/store/store.h"

using namespace stodepth;
using namespace stodepth::results;

namespace {

TrainConfig sample_config() {
  TrainConfig c;
  c.data.name = "cifar10";
  c.model.depth = 56;
  c.model.width = 4;
  c.model.shortcut = Shortcut::kC;
  c.sd.rule = SurvivalRule::kUniform;
  c.sd.p_L = 0.25;
  c.train.lr.kind = LrScheduleKind::kCosine;
  c.train.lr.base = 0.3;
  c.train.batch = 32;
  c.train.epochs = 7;
  c.train.iterations = 12345678901;
  c.train.seed = 99;
  return c;
}

// The value as canonical JSON writes it.
std::string json_text(const SqlValue& value) {
  if (const auto* text = std::get_if<std::string>(&value))
    return json_string(*text, ShortEscapes::kNewlineTab);
  if (const auto* x = std::get_if<double>(&value)) return json_number(*x);
  return fmt::format("{}", std::get<int64_t>(value));
}

}  // namespace

TEST_CASE("the parameter columns, in query's order, each with its text form") {
  const TrainConfig c = sample_config();
  std::vector<std::string> names, texts;
  for (const ParameterColumn& column : parameter_columns()) {
    names.push_back(column.name);
    texts.push_back(column.text(c));
    CHECK(column.is_seed == (std::string(column.name) == "seed"));
  }
  CHECK(names == std::vector<std::string>{"dataset", "depth", "width", "shortcut", "rule", "p_L",
                                          "schedule", "lr", "batch", "epochs", "iterations",
                                          "seed"});
  CHECK(texts == std::vector<std::string>{"cifar10", "56", "4", "C", "uniform", "0.25", "cosine",
                                          "0.3", "32", "7", "12345678901", "99"});
}

TEST_CASE("each column mirrors its leaf of the canonical config JSON") {
  const TrainConfig c = sample_config();
  std::map<std::string, std::string> leaves;
  for (const auto& [path, value] : flatten_json(canonical_config_json(c))) leaves[path] = value;
  for (const ParameterColumn& column : parameter_columns()) {
    INFO(column.name << " at " << column.json_path);
    REQUIRE(leaves.count(column.json_path) == 1);
    CHECK(leaves[column.json_path] == json_text(column.stored(c)));
  }
}

TEST_CASE("the store writes each parameter column as the table gives it") {
  auto store = Store::open(":memory:", OpenMode::kReadWrite);
  REQUIRE(store.ok());
  REQUIRE((*store)->register_sweep({"s", "", "name: s\n", "h"}).ok());
  const TrainConfig c = sample_config();
  REQUIRE((*store)->add_jobs({{"k", "s", c, canonical_config_json(c)}}).ok());

  std::string sql = "SELECT ";
  for (const ParameterColumn& column : parameter_columns())
    sql += fmt::format("{}typeof({}), {}", sql.size() > 7 ? ", " : "", column.name, column.name);
  auto table = (*store)->select(sql + " FROM runs");
  REQUIRE(table.ok());
  REQUIRE(table->rows.size() == 1);
  const auto& row = table->rows[0];
  size_t i = 0;
  for (const ParameterColumn& column : parameter_columns()) {
    INFO(column.name);
    const SqlValue stored = column.stored(c);
    const char* type = std::holds_alternative<std::string>(stored) ? "text"
                       : std::holds_alternative<double>(stored)    ? "real"
                                                                   : "integer";
    CHECK(row[i++] == std::optional<std::string>(type));
    CHECK(row[i++] == std::optional(column.text(c)));  // SQLite's text of 0.25 and 0.3 too
  }
  auto runs = (*store)->runs(std::nullopt);
  REQUIRE(runs.ok());
  CHECK(canonical_config_json(runs->at(0).config) == canonical_config_json(c));
}
