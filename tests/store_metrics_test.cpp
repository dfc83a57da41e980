// Tests for the store's records of running runs (results/store/metrics.cpp): iterations and
// test evaluations, single calls and batches, with their refusals and ownership.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "results/store/store.h"
#include "tests/store_fixtures.h"

using namespace stodepth;
using namespace stodepth::results;
using namespace stodepth::testing;

TEST_CASE("store: iterations and test evaluations round-trip, NULLs included") {
  auto store = store_with_runs();
  const auto rows = iterations(1, 25);
  require_ok(store->append_iterations("r1", rows));
  require_ok(store->append_test_evals("r1", {test_eval(1), test_eval(2)}));

  auto curve = store->curve("r1");
  REQUIRE(curve.ok());
  REQUIRE(curve->size() == rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& a = (*curve)[i];
    const auto& b = rows[i];
    CHECK(a.iteration == b.iteration);
    CHECK(a.epoch == b.epoch);
    CHECK(a.learning_rate == b.learning_rate);
    CHECK(a.loss == b.loss);
    CHECK(a.train_accuracy == b.train_accuracy);
    CHECK(a.test_accuracy == b.test_accuracy);
    CHECK(a.test_loss == b.test_loss);
    CHECK(a.active_blocks == b.active_blocks);
    CHECK(a.step_ms == b.step_ms);
  }
  CHECK_FALSE((*curve)[0].test_accuracy);
  CHECK((*curve)[9].test_accuracy);

  auto evals = store->test_evals("r1");
  REQUIRE(evals.ok());
  REQUIRE(evals->size() == 2);
  CHECK((*evals)[1].epoch == 2);
  CHECK((*evals)[1].iteration == 20);
  CHECK((*evals)[1].accuracy == 0.52);
  CHECK((*evals)[1].loss == 1.25);

  CHECK(store->curve("r2")->empty());
  auto table = store->select("SELECT count(*) FROM iterations WHERE test_accuracy IS NULL");
  REQUIRE(table.ok());
  CHECK(table->rows[0][0] == "23");
}

TEST_CASE("store: a retried batch replaces its rows instead of duplicating them") {
  auto store = store_with_runs();
  require_ok(store->append_iterations("r1", iterations(1, 10)));
  auto changed = iterations(5, 12);
  changed[0].loss = 42;
  require_ok(store->append_iterations("r1", changed));
  require_ok(store->append_test_evals("r1", {test_eval(1)}));
  require_ok(store->append_test_evals("r1", {test_eval(1)}));

  auto curve = store->curve("r1");
  REQUIRE(curve->size() == 12);
  CHECK((*curve)[4].loss == 42);
  CHECK(store->test_evals("r1")->size() == 1);
}

TEST_CASE("store: records of an unknown run are refused, and the whole call rolls back") {
  auto store = store_with_runs();
  auto appended = store->append_iterations("ghost", iterations(1, 3));
  REQUIRE_FALSE(appended.ok());
  CHECK(contains(appended.error().message, "FOREIGN KEY"));
  CHECK_FALSE(store->append_test_evals("ghost", {test_eval(1)}).ok());

  Batch batch;
  batch.ops.push_back(Batch::Iterations{"r1", iterations(1, 5)});
  batch.ops.push_back(Batch::Iterations{"ghost", iterations(1, 5)});
  CHECK_FALSE(store->write_batch(batch).ok());
  CHECK(store->curve("r1")->empty());
}

TEST_CASE("store: a batch with an owner writes only into runs that owner holds") {
  auto store = store_with_runs();
  REQUIRE(*store->claim_run("r1", false, "launcher-a", 2));
  Batch batch;
  batch.owner = "launcher-a";
  batch.ops.push_back(Batch::Iterations{"r1", iterations(1, 3)});
  require_ok(store->write_batch(batch));
  CHECK(store->curve("r1")->size() == 3);

  SECTION("another launcher's run: the whole batch is refused") {
    REQUIRE(*store->claim_run("r2", false, "launcher-b", 2));
    batch.ops = {Batch::Iterations{"r1", iterations(4, 5)},
                 Batch::Iterations{"r2", iterations(1, 2)}};
    auto refused = store->write_batch(batch);
    REQUIRE_FALSE(refused.ok());
    CHECK_THAT(refused.error().message,
               Catch::Contains("run r2 is no longer held by this launcher (launcher-a)"));
    CHECK(store->curve("r1")->size() == 3);
    CHECK(store->curve("r2")->empty());
  }
  SECTION("a run released and re-claimed by another launcher") {
    require_ok(store->release_stale_runs("s", "launcher-a"));
    REQUIRE(*store->claim_run("r1", false, "launcher-b", 2));
    batch.ops = {Batch::Finish{"r1", RunState::kDone, sample_summary(), ""}};
    CHECK_FALSE(store->write_batch(batch).ok());
    CHECK(run_row(*store, "r1").state == RunState::kRunning);
  }
}

TEST_CASE("store: validation evaluations round-trip and give the test accuracy at the best one") {
  auto store = store_with_runs();
  // Validation peaks at epoch 2 (a tie with epoch 4 goes to the earlier); the test accuracy
  // keeps rising, so the final one and the paper's one differ.
  std::vector<TestEvalRecord> evals;
  const double validation[] = {0.60, 0.70, 0.65, 0.70};
  for (int epoch = 1; epoch <= 4; ++epoch) {
    TestEvalRecord r = test_eval(epoch);
    r.validation_accuracy = validation[epoch - 1];
    r.validation_loss = 2.0 - validation[epoch - 1];
    evals.push_back(r);
  }
  require_ok(store->append_test_evals("r1", evals));
  require_ok(store->append_test_evals("r2", {test_eval(1)}));  // no validation split

  auto read = store->test_evals("r1");
  REQUIRE(read.ok());
  REQUIRE(read->size() == 4);
  CHECK((*read)[2].validation_accuracy == 0.65);
  CHECK((*read)[2].validation_loss == 2.0 - 0.65);
  CHECK_FALSE((*store->test_evals("r2"))[0].validation_accuracy);

  auto runs = store->runs(std::nullopt);
  REQUIRE(runs.ok());
  REQUIRE(runs->size() == 2);
  const RunRow& r1 = (*runs)[0].key == "r1" ? (*runs)[0] : (*runs)[1];
  const RunRow& r2 = (*runs)[0].key == "r1" ? (*runs)[1] : (*runs)[0];
  REQUIRE(r1.best_validation);
  CHECK(r1.best_validation->epoch == 2);
  CHECK(r1.best_validation->validation_accuracy == 0.70);
  CHECK(r1.best_validation->test_accuracy == test_eval(2).accuracy);
  CHECK_FALSE(r2.best_validation);
}
