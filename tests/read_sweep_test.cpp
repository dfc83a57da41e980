// Reading a sweep for the report (results/report/read_sweep.h): which sweep, and each run's
// curve reduced to the series the report uses.
#include "results/report/read_sweep.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "model/config/config_codec.h"

using namespace stodepth;
using namespace stodepth::results;

namespace {

IterationRecord record(int64_t iteration, int64_t epoch, std::optional<double> accuracy,
                       std::optional<double> loss) {
  IterationRecord r;
  r.iteration = iteration;
  r.epoch = epoch;
  r.learning_rate = 0.1 / double(epoch);
  r.test_accuracy = accuracy;
  r.test_loss = loss;
  return r;
}

std::unique_ptr<Store> store_with(const std::vector<std::string>& sweeps) {
  auto store = Store::open(":memory:", OpenMode::kReadWrite);
  REQUIRE(store.ok());
  for (const auto& name : sweeps) REQUIRE((*store)->register_sweep({name, "", "", "hash"}));
  return std::move(*store);
}

}  // namespace

TEST_CASE("a curve becomes the learning rate everywhere and the test values where evaluated") {
  const RunSeries s = series_of({record(1, 1, std::nullopt, std::nullopt), record(2, 1, 0.5, 1.5),
                                 record(3, 1, std::nullopt, std::nullopt),
                                 record(4, 2, 0.7, std::nullopt), record(5, 2, std::nullopt, 9)});
  CHECK(s.iterations == std::vector<double>{1, 2, 3, 4, 5});
  CHECK(s.learning_rate == std::vector<double>{0.1, 0.1, 0.1, 0.05, 0.05});
  CHECK(s.steps_per_epoch == 3);
  CHECK(s.eval_iterations == std::vector<double>{2, 4});
  CHECK(s.test_accuracy == std::vector<double>{0.5, 0.7});
  REQUIRE(s.test_loss.size() == 2);
  CHECK(s.test_loss[0] == 1.5);
  CHECK(std::isnan(s.test_loss[1]));  // evaluated without a loss
}

TEST_CASE("the sweep read is the last one created, or the one named") {
  auto store = store_with({"first", "second"});
  TrainConfig c;
  c.data.name = "synthetic";
  const std::string json = canonical_config_json(c);
  REQUIRE(store->add_jobs({{"run-a", "first", c, json}, {"run-b", "first", c, json}}));
  REQUIRE(store->claim_run("run-a", false, "test:1", 1).value());
  REQUIRE(store->append_iterations("run-a", {record(1, 1, 0.5, 1.0), record(2, 1, 0.6, 0.9)}));

  auto last = read_sweep(*store, std::nullopt);
  REQUIRE(last.ok());
  CHECK(last->sweep.name == "second");
  CHECK(last->runs.empty());

  auto first = read_sweep(*store, "first");
  REQUIRE(first.ok());
  REQUIRE(first->runs.size() == 2);
  CHECK(first->runs[0].key == "run-a");
  REQUIRE(first->series.size() == 2);  // a run without records has empty series
  CHECK(first->series.at("run-a").test_accuracy == std::vector<double>{0.5, 0.6});
  CHECK(first->series.at("run-b").iterations.empty());
}

TEST_CASE("no sweep, or an unknown name, is bad input") {
  auto empty = store_with({});
  auto none = read_sweep(*empty, std::nullopt);
  REQUIRE_FALSE(none.ok());
  CHECK(none.error().kind == ErrorKind::kBadInput);
  CHECK_THAT(none.error().message, Catch::Contains("holds no sweep"));

  auto store = store_with({"quickstart", "grid"});
  auto unknown = read_sweep(*store, "gird");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().kind == ErrorKind::kBadInput);
  CHECK(unknown.error().message ==
        "--sweep: no sweep 'gird' in the database, did you mean 'grid'? (have: quickstart, grid)");
}
