// sweep_status as a value, without Slurm: a local sweep with runs queued, running (with
// iteration rows) and done; each job's iteration, pace and ETA, the estimate of the jobs not
// running yet and the sweep's ETA, against values computed here by hand; and a store shard
// whose task is gone.
#include "harness/status.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <string>

#include "harness/plan.h"
#include "harness/slurm/shards.h"
#include "sweeps/sweep.h"
#include "tests/temp_dir.h"

using namespace stodepth;
using stodepth::harness::JobStatus;
using stodepth::harness::SweepStatus;
using stodepth::testing::TempDir;

namespace {

// 2 depths x 3 seeds, 1000 iterations each (fixed: no dataset is loaded for the totals).
constexpr const char* kSweep =
    "name: eta\n"
    "base:\n"
    "  dataset: {name: synthetic, train_subset: 256, test_subset: 64}\n"
    "  model: {depth: 8}\n"
    "  train: {iterations: 1000, batch: 32}\n"
    "grid:\n"
    "  model.depth: [8, 14]\n"
    "seeds: [1, 2, 3]\n";

sweeps::Sweep parse(const std::string& text) {
  auto sweep = sweeps::parse_sweep(text, "eta.yaml");
  REQUIRE(sweep);
  return std::move(*sweep);
}

std::unique_ptr<results::Store> open(const std::string& path) {
  auto store = results::Store::open(path, results::OpenMode::kReadWrite);
  REQUIRE(store);
  return std::move(*store);
}

const sweeps::Job& job_of(const sweeps::Sweep& sweep, int depth, uint64_t seed) {
  for (const auto& job : sweep.jobs)
    if (job.config.model.depth == depth && job.config.train.seed == seed) return job;
  FAIL("no job d" << depth << " seed " << seed);
  return sweep.jobs.front();
}

// Claims the run and records iterations 1..n, iteration i taking step_ms(i).
template <typename StepMs>
void run_iterations(results::Store& store, const std::string& key, int n, StepMs step_ms) {
  REQUIRE(store.claim_run(key, false, "here:1", 1));
  std::vector<IterationRecord> rows;
  for (int i = 1; i <= n; ++i) {
    IterationRecord r;
    r.iteration = i;
    r.epoch = 1;
    r.loss = 1;
    r.step_ms = step_ms(i);
    rows.push_back(r);
  }
  REQUIRE(store.append_iterations(key, rows));
}

const JobStatus& status_of(const SweepStatus& status, const std::string& key) {
  for (const auto& job : status.jobs)
    if (job.key == key) return job;
  FAIL("no status of " << key);
  return status.jobs.front();
}

}  // namespace

TEST_CASE("sweep_status: a local sweep's running jobs show iteration, pace and ETA") {
  TempDir dir;
  const std::string db = dir.file("results.db");
  const auto sweep = parse(kSweep);
  auto store = open(db);
  REQUIRE(harness::record_sweep(*store, sweep));

  // d8 seed 1 runs: 70 steps of 10 ms, then 50 of 20 ms: its recent pace is 20 ms.
  const auto& a = job_of(sweep, 8, 1);
  run_iterations(*store, a.key, 120, [](int i) { return i <= 70 ? 10.0 : 20.0; });
  // d14 seed 1 runs: 10 steps of 40 ms.
  const auto& b = job_of(sweep, 14, 1);
  run_iterations(*store, b.key, 10, [](int) { return 40.0; });
  // d8 seed 2 is done, at 16 ms a step.
  const auto& done = job_of(sweep, 8, 2);
  run_iterations(*store, done.key, 1000, [](int) { return 16.0; });
  RunSummary summary;
  summary.iterations = 1000;
  summary.mean_step_ms = 16;
  REQUIRE(store->finish_run(done.key, results::RunState::kDone, &summary, ""));

  auto status = harness::sweep_status(*store, db, std::string("eta"));
  REQUIRE(status);
  REQUIRE(status->jobs.size() == 6);
  CHECK(status->counts ==
        std::map<std::string, int>{{"done", 1}, {"running", 2}, {"not running", 3}});
  CHECK(status->left == 5);
  CHECK(status->running == 2);
  CHECK(status->unknown == 0);

  const JobStatus& ja = status_of(*status, a.key);
  CHECK(ja.running());
  CHECK(ja.label == "d8 linear p_L=0.5 seed 1");
  using Settings = std::vector<std::pair<std::string, std::string>>;
  CHECK(ja.settings == Settings{{"model.depth", "8"}, {"train.seed", "1"}});
  CHECK(ja.iteration == 120);
  CHECK(ja.total == 1000);
  CHECK(ja.step_ms == Approx(20));
  CHECK(ja.rate() == Approx(50));  // iterations per second
  REQUIRE(ja.eta_seconds);
  CHECK(*ja.eta_seconds == Approx(880 * 0.020));  // 17.6 s
  const JobStatus& jb = status_of(*status, b.key);
  CHECK(jb.iteration == 10);
  REQUIRE(jb.eta_seconds);
  CHECK(*jb.eta_seconds == Approx(990 * 0.040));  // 39.6 s
  const JobStatus& jd = status_of(*status, done.key);
  CHECK(jd.ended);
  CHECK_FALSE(jd.eta_seconds);

  // Not running yet: 1000 steps at the mean measured milliseconds per unit of step cost.
  const double c8 = harness::estimated_step_cost(a.config);
  const double c14 = harness::estimated_step_cost(b.config);
  REQUIRE(c14 > c8);
  const double ms_per_cost = (20 / c8 + 16 / c8 + 40 / c14) / 3;
  const double queued8 = 1000 * c8 * ms_per_cost / 1000, queued14 = 1000 * c14 * ms_per_cost / 1000;
  const JobStatus& q8 = status_of(*status, job_of(sweep, 8, 3).key);
  CHECK_FALSE(q8.running());
  CHECK(q8.iteration == 0);
  REQUIRE(q8.eta_seconds);
  CHECK(*q8.eta_seconds == Approx(queued8));
  for (uint64_t seed : {2, 3}) {
    const JobStatus& q14 = status_of(*status, job_of(sweep, 14, seed).key);
    REQUIRE(q14.eta_seconds);
    CHECK(*q14.eta_seconds == Approx(queued14));
  }
  // The work left, two jobs at a time.
  const double work = 17.6 + 39.6 + queued8 + 2 * queued14;
  REQUIRE(status->eta_seconds);
  CHECK(*status->eta_seconds == Approx(std::max(39.6, work / 2)));
  CHECK_FALSE(status->last_submission);  // a local launch submits nothing
}

TEST_CASE("sweep_status: no pace measured yet, every job ended, an unknown sweep") {
  TempDir dir;
  const std::string db = dir.file("results.db");
  const auto sweep = parse(kSweep);
  auto store = open(db);
  REQUIRE(harness::record_sweep(*store, sweep));

  // A run claimed but without iterations yet: nothing to estimate from.
  REQUIRE(store->claim_run(sweep.jobs[0].key, false, "here:1", 1));
  auto status = harness::sweep_status(*store, db, std::nullopt);
  REQUIRE(status);
  CHECK(status->running == 0);
  CHECK(status->unknown == 6);
  CHECK_FALSE(status->eta_seconds);
  CHECK(status->jobs[0].iteration == 0);
  CHECK_FALSE(status->jobs[0].eta_seconds);

  for (const auto& job : sweep.jobs) {
    if (job.key != sweep.jobs[0].key) REQUIRE(store->claim_run(job.key, false, "here:1", 1));
    REQUIRE(store->finish_run(job.key, results::RunState::kFailed, nullptr, "no luck"));
  }
  status = harness::sweep_status(*store, db, std::nullopt);
  REQUIRE(status);
  CHECK(status->left == 0);
  REQUIRE(status->eta_seconds);
  CHECK(*status->eta_seconds == 0);
  CHECK(status->jobs[0].note == "no luck");

  const auto unknown = harness::sweep_status(*store, db, std::string("et"));
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().kind == ErrorKind::kBadInput);
  CHECK(unknown.error().message == db + ": no sweep 'et', did you mean 'eta'? (stodepth query "
                                        "sweeps lists them)");
}

TEST_CASE("sweep_status: a store shard's iteration and stops; its task gone, no pace") {
  TempDir dir;
  const std::string db = dir.file("results.db");
  const auto sweep = parse(kSweep);
  auto store = open(db);
  REQUIRE(harness::record_sweep(*store, sweep));
  // A cluster task trained 30 iterations into its shard, was stopped once, and is not in any
  // queue (no Slurm task is recorded for it): its run is left `running` there.
  const auto& job = sweep.jobs[0];
  const std::string shards = harness::shard_dir(db);
  std::filesystem::create_directories(shards);
  REQUIRE(harness::create_shard(shards, sweep, job));
  {
    auto shard = open(harness::shard_path(shards, job.key));
    run_iterations(*shard, job.key, 30, [](int) { return 25.0; });
    results::RunStop stop;
    stop.iteration = 20;
    stop.cause = "time-limit";
    stop.requeued = true;
    REQUIRE(shard->record_stop(job.key, stop));
  }
  auto status = harness::sweep_status(*store, db, std::string("eta"));
  REQUIRE(status);
  const JobStatus& js = status_of(*status, job.key);
  REQUIRE(js.shard_state);
  CHECK(*js.shard_state == results::RunState::kRunning);
  CHECK(js.iteration == 30);
  REQUIRE(js.stops.size() == 1);
  CHECK(js.stops[0].iteration == 20);
  CHECK_FALSE(js.running());  // its task is gone: no pace, however recent its steps
  CHECK(js.note.find("its task died without stopping it") == 0);
  CHECK(status->running == 0);
  CHECK_FALSE(status->eta_seconds);
}

TEST_CASE("sweep_status: an interrupted local run keeps its iteration, without a pace") {
  TempDir dir;
  const std::string db = dir.file("results.db");
  const auto sweep = parse(kSweep);
  auto store = open(db);
  REQUIRE(harness::record_sweep(*store, sweep));
  // d8 seed 1 trained 40 iterations at 10 ms, then its launcher was stopped.
  const auto& job = job_of(sweep, 8, 1);
  run_iterations(*store, job.key, 40, [](int) { return 10.0; });
  REQUIRE(store->release_stale_runs("eta", "here:1"));
  auto status = harness::sweep_status(*store, db, std::string("eta"));
  REQUIRE(status);
  const JobStatus& ji = status_of(*status, job.key);
  CHECK(ji.state == results::RunState::kInterrupted);
  CHECK(ji.iteration == 40);
  CHECK(ji.step_ms == 0);
  CHECK_FALSE(ji.running());
  CHECK(status->running == 0);
  CHECK(status->counts == std::map<std::string, int>{{"not running", 6}});
}

TEST_CASE("sweep_status: a setting without a column that differs joins the label") {
  TempDir dir;
  const std::string db = dir.file("results.db");
  const auto sweep = parse(
      "name: modes\n"
      "base:\n"
      "  dataset: {name: synthetic, train_subset: 256, test_subset: 64}\n"
      "  model: {depth: 8}\n"
      "  train: {iterations: 100, batch: 32}\n"
      "grid:\n"
      "  stochastic_depth.mode: [batch, sample]\n");
  auto store = open(db);
  REQUIRE(harness::record_sweep(*store, sweep));
  auto status = harness::sweep_status(*store, db, std::string("modes"));
  REQUIRE(status);
  REQUIRE(status->jobs.size() == 2);
  using Settings = std::vector<std::pair<std::string, std::string>>;
  for (const JobStatus& job : status->jobs) {
    const std::string mode = to_string(sweep.jobs[&job - status->jobs.data()].config.sd.mode);
    CHECK(job.label == "d8 linear p_L=0.5 seed 1 mode=" + mode);
    CHECK(job.settings == Settings{{"stochastic_depth.mode", mode}});
  }
  CHECK(status->jobs[0].label != status->jobs[1].label);
}
