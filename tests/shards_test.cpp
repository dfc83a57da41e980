// Store shards: created once with a rollback journal, read while their task writes, merged
// into the main database when their job has ended and retired with what lies beside them.
#include "harness/slurm/shards.h"

#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "harness/job_runner.h"
#include "harness/plan.h"
#include "tests/temp_dir.h"

using namespace stodepth;
using namespace stodepth::harness;
using stodepth::testing::TempDir;

namespace {

sweeps::Sweep two_jobs() {
  auto sweep = sweeps::parse_sweep(R"(name: shards
base:
  dataset: {name: synthetic, train_subset: 256, test_subset: 64}
  model: {depth: 8}
  train: {iterations: 4, batch: 32}
seeds: [1, 2]
)",
                                   "shards.yaml");
  REQUIRE(sweep);
  return std::move(*sweep);
}

std::unique_ptr<results::Store> open(const std::string& path) {
  auto store = results::Store::open(path, results::OpenMode::kReadWrite);
  REQUIRE(store);
  return std::move(*store);
}

// What a task does to a shard: claims the run, records `iterations` rows, ends it (or not).
void train_in_shard(const std::string& path, const std::string& key, int iterations,
                    bool finish) {
  auto shard = open(path);
  REQUIRE((*shard).claim_run(key, false, "node:1", 1));
  std::vector<IterationRecord> rows;
  for (int i = 1; i <= iterations; ++i) {
    IterationRecord r;
    r.iteration = i;
    r.epoch = 1;
    r.loss = 1.0 / i;
    rows.push_back(r);
  }
  REQUIRE(shard->append_iterations(key, rows));
  if (finish) {
    RunSummary summary;
    summary.iterations = iterations;
    REQUIRE(shard->finish_run(key, results::RunState::kDone, &summary, ""));
  }
}

}  // namespace

TEST_CASE("a shard is created once, with a rollback journal, holding its sweep and job") {
  TempDir dir;
  const auto sweep = two_jobs();
  const auto& job = sweep.jobs[0];
  auto created = create_shard(dir.path().string(), sweep, job);
  REQUIRE(created);
  CHECK(*created);
  const std::string path = shard_path(dir.path().string(), job.key);
  auto again = create_shard(dir.path().string(), sweep, job);
  REQUIRE(again);
  CHECK_FALSE(*again);
  auto store = open(path);
  auto runs = store->runs(std::nullopt);
  REQUIRE(runs);
  REQUIRE(runs->size() == 1);
  CHECK((*runs)[0].key == job.key);
  CHECK((*runs)[0].state == results::RunState::kQueued);
  CHECK(shard_keys(dir.path().string()) == std::vector<std::string>{job.key});
  CHECK_FALSE(std::filesystem::exists(path + "-wal"));
  CHECK_FALSE(std::filesystem::exists(path + ".new"));  // built beside, renamed into place
}

TEST_CASE("read_shard reports the iteration reached and the stops") {
  TempDir dir;
  const std::string d = dir.path().string();
  const auto sweep = two_jobs();
  const auto& job = sweep.jobs[0];
  REQUIRE(create_shard(d, sweep, job));
  train_in_shard(shard_path(d, job.key), job.key, 3, false);
  results::RunStop stop;
  stop.iteration = 3;
  stop.cause = "terminated";
  REQUIRE(open(shard_path(d, job.key))->record_stop(job.key, stop));
  auto progress = read_shard(d, job.key);
  REQUIRE(progress);
  CHECK(progress->state == results::RunState::kRunning);
  CHECK(progress->iteration == 3);
  REQUIRE(progress->stops.size() == 1);
  CHECK(progress->stops[0].cause == "terminated");
}

TEST_CASE("merge_shards folds ended shards in and retires them; others stay") {
  TempDir dir;
  const std::string db = dir.file("results.db"), d = shard_dir(db);
  std::filesystem::create_directories(d);
  const auto sweep = two_jobs();
  auto main = open(db);
  REQUIRE(record_sweep(*main, sweep));
  const auto& ended = sweep.jobs[0];
  const auto& running = sweep.jobs[1];
  for (const auto& job : sweep.jobs) REQUIRE(create_shard(d, sweep, job));
  train_in_shard(shard_path(d, ended.key), ended.key, 4, true);
  std::ofstream(checkpoint_path(d, ended.key)) << "checkpoint";
  train_in_shard(shard_path(d, running.key), running.key, 2, false);

  auto report = merge_shards(*main, d);
  REQUIRE(report);
  REQUIRE(report->merged.size() == 1);
  CHECK(report->merged[0].key == ended.key);
  CHECK(report->unfinished == 1);
  CHECK(report->refused.empty());
  CHECK(shard_keys(d) == std::vector<std::string>{running.key});
  CHECK_FALSE(std::filesystem::exists(checkpoint_path(d, ended.key)));
  auto curve = main->curve(ended.key);
  REQUIRE(curve);
  CHECK(curve->size() == 4);

  // A journal beside a shard: its task is mid-commit (or died there): not merged, not read.
  RunSummary summary;
  summary.iterations = 2;
  REQUIRE(open(shard_path(d, running.key))
              ->finish_run(running.key, results::RunState::kDone, &summary, ""));
  std::ofstream(shard_path(d, running.key) + "-journal") << "hot";
  report = merge_shards(*main, d);
  REQUIRE(report);
  CHECK(report->merged.empty());
  CHECK(report->unfinished == 1);
  CHECK_FALSE(read_shard(d, running.key));
  std::filesystem::remove(shard_path(d, running.key) + "-journal");
  report = merge_shards(*main, d);
  REQUIRE(report);
  CHECK(report->merged.size() == 1);
  CHECK(shard_keys(d).empty());
}
