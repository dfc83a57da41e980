// The in-process executor: workers take the plan's jobs in order, every job runs once, and
// after Ctrl-C or a storage failure no job starts.
#include "harness/tbb_executor.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <vector>

#include "harness/machine.h"
#include "tests/temp_dir.h"

using namespace stodepth;
using stodepth::testing::TempDir;

namespace {

// A registered sweep of 2 depths x 2 seeds and the runner setup of its launch.
struct Fixture {
  TempDir dir;
  sweeps::Sweep sweep;
  harness::LaunchOptions options;
  harness::Plan plan;
  harness::RunnerSetup setup;

  explicit Fixture(int jobs) {
    auto parsed = sweeps::parse_sweep(
        "name: x\n"
        "base:\n"
        "  dataset: {name: synthetic, train_subset: 256, test_subset: 64}\n"
        "  train: {iterations: 4, batch: 32}\n"
        "  eval: {every: 2, batch: 32}\n"
        "grid: {model.depth: [8, 14]}\n"
        "seeds: [1, 2]\n",
        "x.yaml");
    REQUIRE(parsed);
    sweep = std::move(*parsed);
    options.db_path = dir.file("results.db");
    options.jobs = jobs;
    options.threads_per_job = 1;
    options.checkpoint_every = 2;
    auto planned = harness::plan_launch(sweep, options);
    REQUIRE(planned);
    REQUIRE_FALSE(planned->refusal);
    plan = std::move(*planned);
    setup = {options.db_path, harness::checkpoint_dir(options.db_path), harness::launcher_id(),
             harness::collect_machine_facts(1), false, options.checkpoint_every, false};
  }
  int runs_in(results::RunState state) const {
    auto store = results::Store::open(options.db_path, results::OpenMode::kReadOnly);
    REQUIRE(store);
    auto runs = (*store)->runs(sweep.name);
    REQUIRE(runs);
    return int(std::count_if(runs->begin(), runs->end(),
                             [&](const results::RunRow& r) { return r.state == state; }));
  }
};

// Records the order jobs start in; optionally runs `on_first_start` when the first starts.
struct StartOrder : harness::JobObserver {
  std::mutex mutex;
  std::vector<std::string> keys;
  std::function<void()> on_first_start;
  void on_job_start(const sweeps::Job& job) override {
    std::lock_guard lock(mutex);
    keys.push_back(job.key);
    if (keys.size() == 1 && on_first_start) on_first_start();
  }
};

}  // namespace

TEST_CASE("one worker runs the plan's jobs in plan order") {
  Fixture f(/*jobs=*/1);
  REQUIRE(f.plan.layout.jobs == 1);
  StartOrder seen;
  harness::TbbExecutor executor;
  auto summary = executor.execute(f.plan, f.setup, seen);
  REQUIRE(summary);
  CHECK_FALSE(summary->storage_error);
  CHECK(summary->ran == 4);
  CHECK(summary->done == 4);
  CHECK(summary->skipped == f.plan.finished);
  CHECK(summary->images == 4 * 4 * 32);
  CHECK(summary->writer_transactions > 0);
  std::vector<std::string> planned;
  for (const auto& job : f.plan.to_run) planned.push_back(job.job->key);
  CHECK(seen.keys == planned);
  CHECK(f.runs_in(results::RunState::kDone) == 4);
}

TEST_CASE("concurrent workers run every job once") {
  Fixture f(/*jobs=*/2);
  REQUIRE(f.plan.layout.jobs == 2);
  StartOrder seen;
  harness::TbbExecutor executor;
  auto summary = executor.execute(f.plan, f.setup, seen);
  REQUIRE(summary);
  CHECK(summary->ran == 4);
  CHECK(summary->done == 4);
  CHECK(summary->not_claimed == 0);
  std::sort(seen.keys.begin(), seen.keys.end());
  CHECK(std::adjacent_find(seen.keys.begin(), seen.keys.end()) == seen.keys.end());
  CHECK(seen.keys.size() == 4);
  CHECK(f.runs_in(results::RunState::kDone) == 4);
}

TEST_CASE("after Ctrl-C no job starts") {
  Fixture f(1);
  harness::stop_requested() = true;
  StartOrder seen;
  harness::TbbExecutor executor;
  auto summary = executor.execute(f.plan, f.setup, seen);
  harness::stop_requested() = false;
  REQUIRE(summary);
  CHECK(summary->ran == 0);
  CHECK(seen.keys.empty());
  CHECK(f.runs_in(results::RunState::kQueued) == 4);
}

TEST_CASE("after a storage failure no job starts") {
  Fixture f(1);
  StartOrder seen;
  // While the first job runs, its checkpoint directory becomes a file: its checkpoint
  // cannot be written.
  seen.on_first_start = [&] {
    std::filesystem::remove_all(f.setup.checkpoint_dir);
    std::ofstream(f.setup.checkpoint_dir) << "not a directory";
  };
  harness::TbbExecutor executor;
  auto summary = executor.execute(f.plan, f.setup, seen);
  REQUIRE(summary);
  REQUIRE(summary->storage_error);
  CHECK(summary->storage_error->kind == ErrorKind::kStorage);
  CHECK(summary->ran == 1);
  CHECK(summary->interrupted == 1);
  CHECK(seen.keys.size() == 1);
  CHECK(f.runs_in(results::RunState::kInterrupted) == 1);
  CHECK(f.runs_in(results::RunState::kQueued) == 3);
}

TEST_CASE("a runner that cannot start is a storage failure with nothing run") {
  Fixture f(1);
  std::ofstream(f.setup.checkpoint_dir) << "not a directory";
  StartOrder seen;
  harness::TbbExecutor executor;
  auto summary = executor.execute(f.plan, f.setup, seen);
  REQUIRE(summary);
  REQUIRE(summary->storage_error);
  CHECK(summary->storage_error->kind == ErrorKind::kStorage);
  CHECK(summary->ran == 0);
  CHECK(seen.keys.empty());
}
