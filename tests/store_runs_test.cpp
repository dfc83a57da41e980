// Tests for the store's sweeps, jobs and runs (results/store/runs.cpp): registering sweeps
// and jobs, claims (once, across connections, with a checkpoint), machines, releases and
// the end of a run.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "results/store/store.h"
#include "tests/store_fixtures.h"
#include "tests/temp_dir.h"

using namespace stodepth;
using namespace stodepth::results;
using namespace stodepth::testing;

TEST_CASE("store: register_sweep is idempotent for the same definition only") {
  auto store = open_store(":memory:");
  require_ok(store->register_sweep(sample_sweep("a", "h1")));
  require_ok(store->register_sweep(sample_sweep("a", "h1")));
  require_ok(store->register_sweep(sample_sweep("b", "h2")));

  auto changed = store->register_sweep(sample_sweep("a", "h9"));
  REQUIRE_FALSE(changed.ok());
  CHECK(contains(changed.error().message,
                 "sweep 'a' already exists in DB with a different definition (rename the sweep "
                 "or use another --db)"));

  auto sweeps = store->sweeps();
  REQUIRE(sweeps.ok());
  REQUIRE(sweeps->size() == 2);
  CHECK((*sweeps)[0].name == "a");
  CHECK((*sweeps)[0].description == "a sweep");
  CHECK((*sweeps)[0].source_text == "name: a\n");
  CHECK((*sweeps)[0].source_hash == "h1");
  CHECK((*sweeps)[1].name == "b");
}

TEST_CASE("store: update_sweep_text replaces a sweep's definition, its runs untouched") {
  auto store = store_with_runs();
  auto before = store->runs("s");
  REQUIRE(before.ok());
  require_ok(store->update_sweep_text({"s", "grown", "name: s\nseeds: [1, 2]\n", "h2"}));
  // Registering the new definition is now idempotent; the old one is refused.
  require_ok(store->register_sweep({"s", "grown", "name: s\nseeds: [1, 2]\n", "h2"}));
  CHECK_FALSE(store->register_sweep(sample_sweep("s")).ok());
  auto sweeps = store->sweeps();
  REQUIRE(sweeps.ok());
  REQUIRE(sweeps->size() == 1);
  CHECK((*sweeps)[0].description == "grown");
  CHECK((*sweeps)[0].source_text == "name: s\nseeds: [1, 2]\n");
  CHECK((*sweeps)[0].source_hash == "h2");
  auto after = store->runs("s");
  REQUIRE(after.ok());
  REQUIRE(after->size() == before->size());
  for (size_t i = 0; i < after->size(); ++i) {
    CHECK((*after)[i].key == (*before)[i].key);
    CHECK((*after)[i].state == (*before)[i].state);
  }
}

TEST_CASE("store: the redefinition error says what the new definition loses, if known") {
  CHECK(redefined_sweep_error("x.db", "s").message ==
        "x.db: sweep 's' already exists in DB with a different definition (rename the sweep or "
        "use another --db)");
  const Error lost = redefined_sweep_error("x.db", "s", "removes 1 job (seed 2)");
  CHECK(lost.kind == ErrorKind::kBadInput);
  CHECK(lost.message ==
        "x.db: sweep 's' already exists in DB with a different definition: the file removes 1 "
        "job (seed 2); a sweep file may add jobs to a stored sweep but not change or remove any "
        "(undo that, or rename the sweep or use another --db)");
}

TEST_CASE("store: add_jobs queues runs once, with their parameters as columns") {
  auto store = store_with_runs();
  require_ok(store->add_jobs({sample_job("r1", "s", 56), sample_job("r3", "s")}));

  auto rows = store->runs(std::nullopt);
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 3);
  CHECK((*rows)[0].key == "r1");
  CHECK((*rows)[1].key == "r2");
  CHECK((*rows)[2].key == "r3");

  const RunRow& r1 = (*rows)[0];
  CHECK(r1.sweep == "s");
  CHECK(r1.state == RunState::kQueued);
  CHECK(r1.config.model.depth == 20);  // the existing run was left as it was
  CHECK(r1.config.data.name == "synthetic");
  CHECK(r1.config.model.width == 2);
  CHECK(r1.config.model.shortcut == Shortcut::kB);
  CHECK(r1.config.sd.rule == SurvivalRule::kUniform);
  CHECK(r1.config.sd.p_L == 0.5);
  CHECK(r1.config.train.lr.kind == LrScheduleKind::kCosine);
  CHECK(r1.config.train.lr.base == 0.05);
  CHECK(r1.config.train.batch == 64);
  CHECK(r1.config.train.epochs == 3);
  CHECK(r1.config.train.iterations == 120);
  CHECK(r1.config.train.seed == 7);
  CHECK(r1.config_json == sample_job("r1", "s").config_json);
  CHECK(r1.started_at.empty());
  CHECK_FALSE(r1.wall_seconds);
  CHECK((*rows)[1].config.sd.p_L == 0.8);
}

TEST_CASE("store: a run shared by two sweeps is listed under both") {
  auto store = store_with_runs();
  require_ok(store->register_sweep(sample_sweep("t")));
  require_ok(store->add_jobs({sample_job("r2", "t"), sample_job("r9", "t")}));

  auto of_t = store->runs(std::string("t"));
  REQUIRE(of_t.ok());
  REQUIRE(of_t->size() == 2);
  CHECK((*of_t)[0].key == "r2");
  CHECK((*of_t)[0].sweep == "s");  // owned by the sweep that registered it first
  CHECK((*of_t)[1].key == "r9");
  CHECK(store->runs(std::string("s"))->size() == 2);
  CHECK(store->runs(std::string("nope"))->empty());

  auto all = store->runs(std::nullopt);
  REQUIRE(all->size() == 3);  // ordered by owning sweep, then insertion
  CHECK((*all)[2].key == "r9");
}

TEST_CASE("store: a job of an unregistered sweep is refused") {
  auto store = open_store(":memory:");
  auto added = store->add_jobs({sample_job("r1", "ghost")});
  REQUIRE_FALSE(added.ok());
  CHECK(contains(added.error().message, "FOREIGN KEY"));
  CHECK(store->runs(std::nullopt)->empty());
}

TEST_CASE("store: finish_run records the summary or the error") {
  auto store = store_with_runs();
  REQUIRE(*store->claim_run("r1", false, "hostA", 4));
  const RunRow running = run_row(*store, "r1");
  CHECK(running.state == RunState::kRunning);
  CHECK(running.host == "hostA");
  CHECK(running.threads == 4);
  CHECK(running.started_at.size() == 20);  // 2024-01-02T03:04:05Z
  CHECK(running.ended_at.empty());

  const RunSummary summary = sample_summary();
  require_ok(store->finish_run("r1", RunState::kDone, &summary, ""));
  const RunRow done = run_row(*store, "r1");
  CHECK(done.state == RunState::kDone);
  CHECK(done.ended_at.size() == 20);
  CHECK(done.error.empty());
  CHECK(done.wall_seconds == 12.5);
  CHECK(done.mean_step_ms == 83.25);
  CHECK(done.images_per_second == 768);
  CHECK(done.expected_active_blocks == 7.25);
  CHECK(done.mean_active_blocks == 7.5);
  CHECK(done.final_test_accuracy == 0.875);
  CHECK(done.final_test_loss == 0.375);

  SECTION("diverged: the summary's message is the error text; absent test values are NULL") {
    RunSummary diverged = summary;
    diverged.status = RunStatus::kDiverged;
    diverged.message = "diverged at iteration 17 (loss nan)";
    diverged.final_test_accuracy.reset();
    diverged.final_test_loss.reset();
    require_ok(store->finish_run("r2", RunState::kDiverged, &diverged, ""));
    const RunRow row = run_row(*store, "r2");
    CHECK(row.state == RunState::kDiverged);
    CHECK(row.error == "diverged at iteration 17 (loss nan)");
    CHECK(row.wall_seconds == 12.5);
    CHECK_FALSE(row.final_test_accuracy);
    CHECK_FALSE(row.final_test_loss);
  }
  SECTION("failed: the error text and no summary") {
    require_ok(store->finish_run("r2", RunState::kFailed, nullptr, "out of memory"));
    const RunRow row = run_row(*store, "r2");
    CHECK(row.state == RunState::kFailed);
    CHECK(row.error == "out of memory");
    CHECK_FALSE(row.wall_seconds);
    CHECK_FALSE(row.mean_active_blocks);
  }
  SECTION("an unknown run or a non-final state is an error") {
    CHECK_FALSE(store->finish_run("ghost", RunState::kDone, &summary, "").ok());
    CHECK_FALSE(store->finish_run("r2", RunState::kRunning, nullptr, "").ok());
    CHECK_FALSE(store->finish_run("r2", RunState::kQueued, nullptr, "").ok());
    CHECK(run_row(*store, "r2").state == RunState::kQueued);
  }
}

TEST_CASE("store: claim_run moves a claimable run to running exactly once") {
  auto store = store_with_runs();
  auto first = store->claim_run("r1", false, "h", 2);
  REQUIRE(first.ok());
  CHECK(*first);
  CHECK_FALSE(*store->claim_run("r1", false, "h", 2));
  CHECK_FALSE(*store->claim_run("r1", true, "h", 2));  // running is never claimable
  CHECK_FALSE(*store->claim_run("ghost", true, "h", 2));
  CHECK(run_row(*store, "r2").state == RunState::kQueued);
}

TEST_CASE("store: claiming again deletes the earlier attempt's metrics") {
  auto store = store_with_runs();
  const RunSummary summary = sample_summary();
  REQUIRE(*store->claim_run("r1", false, "h", 2));
  require_ok(store->append_iterations("r1", iterations(1, 30)));
  require_ok(store->append_test_evals("r1", {test_eval(1)}));
  require_ok(store->append_iterations("r2", iterations(1, 5)));  // another run's rows stay

  SECTION("interrupted runs are claimable") {
    require_ok(store->finish_run("r1", RunState::kInterrupted, &summary, ""));
    REQUIRE(*store->claim_run("r1", false, "h2", 8));
    CHECK(store->curve("r1")->empty());
    CHECK(store->test_evals("r1")->empty());
    const RunRow row = run_row(*store, "r1");
    CHECK(row.state == RunState::kRunning);
    CHECK(row.host == "h2");
    CHECK(row.threads == 8);
    CHECK_FALSE(row.wall_seconds);
    CHECK_FALSE(row.final_test_accuracy);
    CHECK(row.ended_at.empty());
  }
  SECTION("failed runs only with retry") {
    require_ok(store->finish_run("r1", RunState::kFailed, nullptr, "boom"));
    CHECK_FALSE(*store->claim_run("r1", false, "h", 2));
    CHECK(store->curve("r1")->size() == 30);
    REQUIRE(*store->claim_run("r1", true, "h", 2));
    CHECK(store->curve("r1")->empty());
    CHECK(run_row(*store, "r1").error.empty());
  }
  SECTION("diverged runs only with retry") {
    require_ok(store->finish_run("r1", RunState::kDiverged, &summary, ""));
    CHECK_FALSE(*store->claim_run("r1", false, "h", 2));
    CHECK(*store->claim_run("r1", true, "h", 2));
  }
  SECTION("done runs never") {
    require_ok(store->finish_run("r1", RunState::kDone, &summary, ""));
    CHECK_FALSE(*store->claim_run("r1", false, "h", 2));
    CHECK_FALSE(*store->claim_run("r1", true, "h", 2));
    CHECK(store->curve("r1")->size() == 30);
  }
  CHECK(store->curve("r2")->size() == 5);
}

TEST_CASE("store: release_stale_runs interrupts one host's running runs of one sweep") {
  auto store = store_with_runs();
  require_ok(store->register_sweep(sample_sweep("t")));
  require_ok(store->add_jobs({sample_job("t1", "t")}));
  REQUIRE(*store->claim_run("r1", false, "h", 1));
  REQUIRE(*store->claim_run("r2", false, "alive", 1));
  REQUIRE(*store->claim_run("t1", false, "h", 1));

  require_ok(store->release_stale_runs("s", "h"));
  CHECK(run_row(*store, "r1").state == RunState::kInterrupted);
  CHECK(run_row(*store, "r2").state == RunState::kRunning);  // another launcher's
  CHECK(run_row(*store, "t1").state == RunState::kRunning);  // another sweep's
  CHECK(*store->claim_run("r1", false, "h", 1));
}

TEST_CASE("store: two connections on one file claim a run once between them") {
  TempDir dir;
  const std::string path = dir.file("results.db");
  auto a = store_with_runs(path);
  auto b = open_store(path);
  CHECK(*a->claim_run("r1", false, "a", 1));
  CHECK_FALSE(*b->claim_run("r1", false, "b", 1));
  CHECK(*b->claim_run("r2", false, "b", 1));
  CHECK_FALSE(*a->claim_run("r2", false, "a", 1));
}

TEST_CASE("store: a claim with a checkpoint keeps the rows through it") {
  auto store = store_with_runs();
  REQUIRE(*store->claim_run("r1", false, "h", 2));
  require_ok(store->append_iterations("r1", iterations(1, 30)));
  require_ok(store->append_test_evals("r1", {test_eval(1), test_eval(2), test_eval(3)}));
  const RunSummary summary = sample_summary();
  require_ok(store->finish_run("r1", RunState::kInterrupted, &summary, ""));

  SECTION("all rows through the checkpoint are there: resume after it") {
    auto claim = store->claim_run("r1", false, "h2", 2, [] { return Result<int64_t>(20); });
    REQUIRE(claim.ok());
    CHECK(claim->claimed);
    CHECK(claim->resume_after == 20);
    CHECK(store->curve("r1")->size() == 20);
    CHECK(store->curve("r1")->back().iteration == 20);
    CHECK(store->test_evals("r1")->size() == 2);  // iterations 10 and 20, not 30
  }
  SECTION("rows missing before the checkpoint: start over") {
    auto claim = store->claim_run("r1", false, "h2", 2, [] { return Result<int64_t>(40); });
    REQUIRE(claim.ok());
    CHECK(claim->claimed);
    CHECK(claim->resume_after == 0);
    CHECK(store->curve("r1")->empty());
    CHECK(store->test_evals("r1")->empty());
  }
}

TEST_CASE("store: a resume point that cannot be read rolls the claim back") {
  auto store = store_with_runs();
  auto failed =
      store->claim_run("r1", false, "h", 2, [] { return Result<int64_t>(storage_error("io")); });
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().message == "io");
  CHECK(run_row(*store, "r1").state == RunState::kQueued);
  bool asked = false;
  REQUIRE(*store->claim_run("r1", false, "h", 2, [&] {
    asked = true;
    return Result<int64_t>(0);
  }));
  CHECK(asked);
  asked = false;
  CHECK_FALSE(*store->claim_run("r1", false, "h", 2, [&] {
    asked = true;
    return Result<int64_t>(0);
  }));
  CHECK_FALSE(asked);  // not read for a run that is not ours
}

TEST_CASE("store: finish_run records where the time went and the memory used") {
  auto store = store_with_runs();
  REQUIRE(*store->claim_run("r1", false, "h", 2));
  RunSummary summary = sample_summary();
  summary.time = {1.5, 900.25, 20.5, 0.75};
  summary.model_bytes = 123456789;
  summary.peak_rss = 987654321;
  require_ok(store->finish_run("r1", RunState::kDone, &summary, ""));
  auto table = store->select(
      "SELECT data_ms, network_ms, update_ms, record_ms, model_bytes, peak_rss_bytes FROM runs "
      "WHERE key = 'r1'");
  REQUIRE(table.ok());
  REQUIRE(table->rows.size() == 1);
  const std::vector<std::optional<std::string>> expected = {"1.5",  "900.25",    "20.5",
                                                            "0.75", "123456789", "987654321"};
  CHECK(table->rows[0] == expected);
}

TEST_CASE("store: record_machine stores a claimed run's machine, and a new claim clears it") {
  auto store = store_with_runs();
  REQUIRE(*store->claim_run("r1", false, "box:12", 3));
  require_ok(store->record_machine("r1", sample_machine()));
  RunRow row = run_row(*store, "r1");
  CHECK(row.machine.host == "box");
  CHECK(row.machine.threads == 3);
  CHECK(row.machine.cpu_model == sample_machine().cpu_model);
  CHECK(row.machine.isa == sample_machine().isa);
  CHECK(row.machine.cores == 8);
  CHECK(row.machine.onednn_version == "2.6.3");
  CHECK(row.host == "box:12");  // the owner id, which claims and batches check, is kept
  CHECK(run_row(*store, "r2").machine.cpu_model.empty());

  require_ok(store->finish_run("r1", RunState::kFailed, nullptr, "boom"));
  CHECK(run_row(*store, "r1").machine.isa == sample_machine().isa);  // kept with the result
  REQUIRE(*store->claim_run("r1", true, "other:7", 1));
  row = run_row(*store, "r1");
  CHECK(row.machine.host == "other");
  CHECK(row.machine.threads == 1);
  CHECK(row.machine.cpu_model.empty());
  CHECK(row.machine.cores == 0);

  MachineFacts unknown;  // what the launcher could not find out is stored as NULL
  require_ok(store->record_machine("r1", unknown));
  auto nulls = store->select(
      "SELECT count(*) FROM runs WHERE key = 'r1' AND cpu_model IS NULL AND cores IS NULL");
  CHECK(nulls->rows[0][0] == "1");

  auto not_running = store->record_machine("r2", sample_machine());
  REQUIRE_FALSE(not_running.ok());
  CHECK(contains(not_running.error().message, "run r2 is not running"));
}
