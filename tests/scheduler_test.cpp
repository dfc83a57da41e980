// launch(): a refused plan is refused as the dry run refuses it and reaches no executor; an
// accepted plan reaches the executor registered, with a runner setup of plain values.
#include "harness/scheduler.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "harness/machine.h"
#include "harness/tbb_executor.h"
#include "tests/temp_dir.h"

using namespace stodepth;
using stodepth::testing::TempDir;

namespace {

sweeps::Sweep parse(const std::string& seeds) {
  auto sweep = sweeps::parse_sweep(
      "name: s\n"
      "base:\n"
      "  dataset: {name: synthetic, train_subset: 256, test_subset: 64}\n"
      "  model: {depth: 8}\n"
      "  train: {iterations: 2, batch: 32}\n"
      "  eval: {every: 1, batch: 32}\n"
      "seeds: " + seeds + "\n",
      "s.yaml");
  REQUIRE(sweep);
  return std::move(*sweep);
}

// Records what launch() hands over instead of running anything.
struct RecordingExecutor : harness::Executor {
  int calls = 0;
  size_t to_run = 0;
  harness::Layout layout;
  harness::RunnerSetup setup;
  Result<harness::LaunchSummary> execute(const harness::Plan& plan,
                                         const harness::RunnerSetup& s,
                                         harness::JobObserver&) override {
    ++calls;
    to_run = plan.to_run.size();
    layout = plan.layout;
    setup = s;
    harness::LaunchSummary summary;
    summary.skipped = plan.finished;
    return summary;
  }
};

struct PlanSeen : harness::LaunchObserver {
  std::string described;
  void on_plan(const harness::Plan& plan) override { described = harness::describe(plan); }
};

}  // namespace

TEST_CASE("launch refuses an edited sweep with the dry run's line and runs nothing") {
  TempDir dir;
  harness::LaunchOptions options;
  options.db_path = dir.file("results.db");
  const auto sweep = parse("[1, 2]");
  harness::TbbExecutor tbb;
  PlanSeen seen;
  auto first = harness::launch(sweep, options, tbb, seen);
  REQUIRE(first);
  CHECK(first->done == 2);

  const auto edited = parse("[2, 3]");  // seed 1 dropped (a seed only added grows the sweep)
  auto dry = harness::plan_dry_run(edited, options);
  REQUIRE(dry);
  REQUIRE(dry->refusal);
  RecordingExecutor executor;
  PlanSeen refused_seen;
  auto refused = harness::launch(edited, options, executor, refused_seen);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message == dry->refusal->message);
  CHECK(refused.error().kind == ErrorKind::kBadInput);
  CHECK(executor.calls == 0);
  CHECK(refused_seen.described.empty());
}

TEST_CASE("launch hands the registered plan and a runner setup of plain values over") {
  TempDir dir;
  harness::LaunchOptions options;
  options.db_path = dir.file("results.db");
  options.jobs = 2;
  options.threads_per_job = 3;
  options.retry_failed = true;
  options.checkpoint_every = 7;
  const auto sweep = parse("[1, 2, 3]");
  RecordingExecutor executor;
  PlanSeen seen;
  auto summary = harness::launch(sweep, options, executor, seen);
  REQUIRE(summary);
  REQUIRE(executor.calls == 1);
  CHECK(executor.to_run == 3);
  CHECK(seen.described == "3 jobs to run, 0 already finished; 2 at a time, 3 threads each");
  CHECK(executor.setup.db_path == options.db_path);
  CHECK(executor.setup.checkpoint_dir == harness::checkpoint_dir(options.db_path));
  CHECK(executor.setup.host == harness::launcher_id());
  CHECK(executor.setup.machine.threads == 3);
  CHECK(executor.setup.machine.onednn_version == harness::collect_machine_facts(3).onednn_version);
  CHECK(executor.setup.retry_failed);
  CHECK(executor.setup.checkpoint_every == 7);
  CHECK_FALSE(executor.setup.keep_checkpoints);
  // Registered: the database holds the sweep's runs, queued.
  auto store = results::Store::open(options.db_path, results::OpenMode::kReadOnly);
  REQUIRE(store);
  auto runs = (*store)->runs(sweep.name);
  REQUIRE(runs);
  CHECK(runs->size() == 3);
  for (const auto& r : *runs) CHECK(r.state == results::RunState::kQueued);
}

TEST_CASE("launch removes the checkpoints a crash left behind finished runs") {
  TempDir dir;
  harness::LaunchOptions options;
  options.db_path = dir.file("results.db");
  const auto sweep = parse("[1]");
  harness::TbbExecutor tbb;
  PlanSeen seen;
  REQUIRE(harness::launch(sweep, options, tbb, seen));
  const std::string leftover =
      harness::checkpoint_path(harness::checkpoint_dir(options.db_path), sweep.jobs[0].key);
  std::ofstream(leftover) << "left by a crash";

  options.keep_checkpoints = true;
  RecordingExecutor executor;
  REQUIRE(harness::launch(sweep, options, executor, seen));
  CHECK(std::filesystem::exists(leftover));
  CHECK(seen.described == "0 jobs to run, 1 already finished; 1 at a time, " +
                              std::to_string(executor.layout.threads_per_job) + " thread" +
                              (executor.layout.threads_per_job == 1 ? "" : "s") + " each");
  options.keep_checkpoints = false;
  REQUIRE(harness::launch(sweep, options, executor, seen));
  CHECK_FALSE(std::filesystem::exists(leftover));
}
