// The Slurm pre-flight without a cluster (SlurmChecks::kOffline, as a dry run): the options
// are checked first, the plan's refusal is the Error, finished jobs are not submitted, and the
// scripts name the shard directory beside the database. Nothing is written.
#include "harness/slurm/launch_preparation.h"

#include <catch2/catch.hpp>
#include <filesystem>

#include "harness/plan.h"
#include "harness/slurm/shards.h"
#include "tests/temp_dir.h"

using namespace stodepth;
using namespace stodepth::harness;
using stodepth::testing::TempDir;

namespace {

std::string sweep_text(const std::string& seeds) {
  return "name: t\n"
         "base:\n"
         "  dataset: {name: synthetic, train_subset: 256, test_subset: 64}\n"
         "  model: {depth: 8}\n"
         "  train: {iterations: 3, batch: 32}\n"
         "seeds: " +
         seeds + "\n";
}

sweeps::Sweep parse(const std::string& text) {
  auto sweep = sweeps::parse_sweep(text, "t.yaml");
  REQUIRE(sweep);
  return std::move(*sweep);
}

SlurmLaunch slurm_launch() {
  SlurmLaunch launch;
  launch.stodepth = "/shared/bin/stodepth";
  launch.work_dir = "/shared/work";
  return launch;
}

}  // namespace

TEST_CASE("prepare_slurm_launch: every job of a new sweep in one array, nothing written") {
  TempDir dir;
  LaunchOptions options;
  options.db_path = dir.file("results.db");
  const auto sweep = parse(sweep_text("[1, 2, 3]"));
  auto prepared = prepare_slurm_launch(sweep, options, slurm_launch(), SlurmChecks::kOffline);
  REQUIRE(prepared);
  CHECK(prepared->shard_dir == shard_dir(options.db_path));
  CHECK(prepared->submission.to_submit.size() == 3);
  REQUIRE(prepared->arrays.size() == 1);
  CHECK(prepared->arrays[0].jobs.size() == 3);
  CHECK(prepared->arrays[0].script.find("#SBATCH --array=0-2\n") != std::string::npos);
  CHECK(prepared->arrays[0].script.find(prepared->shard_dir) != std::string::npos);
  for (const auto& job : sweep.jobs)
    CHECK(prepared->arrays[0].script.find(job.key) != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(options.db_path));
  CHECK_FALSE(std::filesystem::exists(prepared->shard_dir));
}

TEST_CASE("prepare_slurm_launch: the options first, then the plan's refusal") {
  TempDir dir;
  LaunchOptions options;
  options.db_path = dir.file("results.db");
  const auto sweep = parse(sweep_text("[1, 2]"));
  SlurmLaunch bad = slurm_launch();
  bad.options.cpus_per_task = 0;
  options.only = {"zzzz"};  // would refuse the plan too
  auto refused = prepare_slurm_launch(sweep, options, bad, SlurmChecks::kOffline);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().kind == ErrorKind::kBadInput);
  CHECK(refused.error().message.find("--cpus-per-task") == 0);

  auto plan_refused = prepare_slurm_launch(sweep, options, slurm_launch(), SlurmChecks::kOffline);
  REQUIRE_FALSE(plan_refused);
  CHECK(plan_refused.error().message ==
        "--only: no job of sweep 't' has a key starting with zzzz (see 'launch --dry-run')");
}

TEST_CASE("prepare_slurm_launch: finished jobs are not submitted again") {
  TempDir dir;
  LaunchOptions options;
  options.db_path = dir.file("results.db");
  const auto sweep = parse(sweep_text("[1, 2]"));
  {
    auto store = results::Store::open(options.db_path, results::OpenMode::kReadWrite);
    REQUIRE(store);
    REQUIRE(harness::record_sweep(**store, sweep));
    REQUIRE((*store)->claim_run(sweep.jobs[0].key, false, "here:1", 1));
    RunSummary summary;
    REQUIRE((*store)->finish_run(sweep.jobs[0].key, results::RunState::kDone, &summary, ""));
  }
  auto prepared = prepare_slurm_launch(sweep, options, slurm_launch(), SlurmChecks::kOffline);
  REQUIRE(prepared);
  CHECK(prepared->plan.finished == 1);
  REQUIRE(prepared->submission.to_submit.size() == 1);
  CHECK(prepared->submission.to_submit[0]->key == sweep.jobs[1].key);
}
