// Tests for the store's Slurm records (results/store/cluster.cpp): submissions, the runs
// they hold, and why runs stopped.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "results/store/store.h"
#include "tests/store_fixtures.h"

using namespace stodepth;
using namespace stodepth::results;
using namespace stodepth::testing;

namespace {

// Every row of the tables a submission writes, and the runs' states and holders.
std::string submission_tables(Store& store) {
  std::string out;
  for (const char* sql :
       {"SELECT group_concat(job_id) FROM slurm_submissions",
        "SELECT group_concat(run || ':' || job_id || '_' || array_index) FROM slurm_tasks",
        "SELECT group_concat(key || ':' || status || ':' || ifnull(host, '-') || ':' || "
        "ifnull(threads, '-')) FROM runs"}) {
    auto table = store.select(sql);
    REQUIRE(table.ok());
    out += table->rows[0][0].value_or("NULL") + "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("store: record_submission marks each run running under its array task") {
  auto store = store_with_runs();
  require_ok(store->register_sweep(sample_sweep("t")));
  require_ok(store->add_jobs({sample_job("r9", "t")}));
  require_ok(store->add_jobs({sample_job("r1", "t")}));  // r1 is shared by s and t
  REQUIRE(*store->claim_run("r2", false, "h:1", 2));
  require_ok(store->finish_run("r2", RunState::kFailed, nullptr, "boom"));

  require_ok(store->record_submission(sample_submission("500", {"r2", "r1"})));
  RunRow r1 = run_row(*store, "r1");
  CHECK(r1.state == RunState::kRunning);
  CHECK(r1.host == "slurm:500_1");
  CHECK(r1.threads == 6);
  CHECK(run_row(*store, "r2").host == "slurm:500_0");
  CHECK(run_row(*store, "r2").state == RunState::kRunning);
  CHECK_FALSE(*store->claim_run("r1", true, "h:1", 2));  // a local launcher leaves it alone
  require_ok(store->release_stale_runs("s", "h:1"));
  CHECK(run_row(*store, "r1").state == RunState::kRunning);

  auto tasks = store->slurm_tasks(std::nullopt);
  REQUIRE(tasks.ok());
  REQUIRE(tasks->size() == 2);
  CHECK((*tasks)[0].key == "r1");  // by key
  CHECK((*tasks)[0].sweep == "s");
  CHECK((*tasks)[0].job_id == "500");
  CHECK((*tasks)[0].array_index == 1);
  CHECK((*tasks)[1].key == "r2");
  CHECK((*tasks)[1].array_index == 0);
  auto of_t = store->slurm_tasks(std::string("t"));  // the shared run counts
  REQUIRE(of_t.ok());
  REQUIRE(of_t->size() == 1);
  CHECK((*of_t)[0].key == "r1");

  auto submissions = store->submissions("s");
  REQUIRE(submissions.ok());
  REQUIRE(submissions->size() == 1);
  const SlurmSubmission& s = (*submissions)[0];
  CHECK(s.job_id == "500");
  CHECK(s.sweep == "s");
  CHECK(s.options_json == sample_submission("", {}).options_json);
  CHECK(s.script == sample_submission("", {}).script);
  CHECK(s.threads == 6);
  CHECK(s.keys == std::vector<std::string>{"r2", "r1"});
  CHECK(s.submitted_at.size() == 20);
  CHECK(store->submissions("t")->empty());

  SECTION("a resubmitted run moves to the later submission") {
    require_ok(store->finish_run("r2", RunState::kInterrupted, nullptr, ""));
    require_ok(store->add_jobs({sample_job("r4", "s", 44)}));
    require_ok(store->record_submission(sample_submission("501", {"r4", "r2"})));
    CHECK(run_row(*store, "r2").host == "slurm:501_1");
    auto later = store->submissions("s");
    REQUIRE(later->size() == 2);
    CHECK((*later)[0].job_id == "500");
    CHECK((*later)[0].keys == std::vector<std::string>{"r1"});  // r2 is 501's now
    CHECK((*later)[1].job_id == "501");
    CHECK((*later)[1].keys == std::vector<std::string>{"r4", "r2"});  // in array order
    auto all = store->slurm_tasks(std::nullopt);
    REQUIRE(all->size() == 3);
    CHECK((*all)[1].key == "r2");
    CHECK((*all)[1].job_id == "501");
    CHECK((*all)[1].array_index == 1);
  }
}

TEST_CASE("store: a submission with a run running, done or missing records nothing") {
  auto store = store_with_runs();
  require_ok(store->add_jobs({sample_job("r3", "s")}));
  std::string key = "r2", expected;
  SECTION("done") {
    REQUIRE(*store->claim_run("r2", false, "h:1", 2));
    require_ok(store->finish_run("r2", RunState::kDone, nullptr, ""));
    expected = "run r2 cannot be submitted: it is done";
  }
  SECTION("running under another holder") {
    REQUIRE(*store->claim_run("r2", false, "h:1", 2));
    expected = "run r2 cannot be submitted: it is running, held by h:1";
  }
  SECTION("missing") {
    key = "ghost";
    expected = "run ghost cannot be submitted: there is no such run";
  }
  const std::string before = submission_tables(*store);
  auto refused = store->record_submission(sample_submission("600", {"r1", key, "r3"}));
  REQUIRE_FALSE(refused.ok());
  INFO(refused.error().message);
  CHECK(refused.error().kind == ErrorKind::kBadInput);
  CHECK(contains(refused.error().message, expected));
  CHECK(submission_tables(*store) == before);  // r1 not marked, no submission, no task
  CHECK(run_row(*store, "r1").state == RunState::kQueued);
  CHECK(store->submissions("s")->empty());
}

TEST_CASE("store: a run's stops are kept oldest first, across a new claim") {
  auto store = store_with_runs();
  REQUIRE(*store->claim_run("r1", false, "h:1", 2));
  require_ok(store->append_iterations("r1", iterations(1, 20)));
  require_ok(store->record_stop("r1", {"ignored", 20, "time-limit", "900_3", true}));
  require_ok(store->finish_run("r1", RunState::kInterrupted, nullptr, ""));
  REQUIRE(*store->claim_run("r1", false, "h:2", 2));  // starts over: iterations deleted
  CHECK(store->curve("r1")->empty());
  require_ok(store->record_stop("r1", {"", 7, "interrupted", "", false}));

  auto stops = store->stops("r1");
  REQUIRE(stops.ok());
  REQUIRE(stops->size() == 2);
  const RunStop& first = (*stops)[0];
  CHECK(first.at.size() == 20);  // the store's clock, not the caller's
  CHECK(first.iteration == 20);
  CHECK(first.cause == "time-limit");
  CHECK(first.slurm_job == "900_3");
  CHECK(first.requeued);
  const RunStop& second = (*stops)[1];
  CHECK(second.iteration == 7);
  CHECK(second.cause == "interrupted");
  CHECK(second.slurm_job.empty());
  CHECK_FALSE(second.requeued);
  CHECK(store->select("SELECT count(*) FROM run_stops WHERE slurm_job IS NULL")->rows[0][0] == "1");
  CHECK(store->stops("r2")->empty());
  CHECK_FALSE(store->record_stop("ghost", {"", 1, "terminated", "", false}).ok());
}
