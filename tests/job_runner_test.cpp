// The job runner on a temporary database and the synthetic dataset: claim, train, finish;
// runs it may not claim; Ctrl-C and resuming from a checkpoint; checkpoints that are damaged
// or cannot be written.
#include "harness/job_runner.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <vector>

#include "harness/machine.h"
#include "harness/plan.h"
#include "model/engine_info.h"
#include "tests/temp_dir.h"

using namespace stodepth;
using stodepth::harness::JobOutcome;
using stodepth::harness::JobRunner;
using stodepth::harness::RunnerSetup;
using stodepth::testing::TempDir;

namespace {

constexpr int64_t kIterations = 6;

// One job of kIterations iterations of batch 32, its sweep registered in a fresh database.
struct Fixture {
  TempDir dir;
  sweeps::Sweep sweep;
  RunnerSetup setup;
  data::Dataset dataset;

  // `precision`: the job's train.precision; a bf16 job is planned as for Slurm nodes, where
  // the runner checks the CPU.
  explicit Fixture(const std::string& precision = "f32") {
    auto parsed = sweeps::parse_sweep(
        "name: r\n"
        "base:\n"
        "  dataset: {name: synthetic, train_subset: 320, test_subset: 64}\n"
        "  model: {depth: 8}\n"
        "  train: {iterations: " + std::to_string(kIterations) + ", batch: 32, precision: " +
            precision + "}\n"
        "  eval: {every: 2, batch: 32}\n",
        "r.yaml");
    REQUIRE(parsed);
    sweep = std::move(*parsed);
    harness::LaunchOptions options;
    options.db_path = dir.file("results.db");
    options.trains_here = precision == "f32";
    auto plan = harness::plan_launch(sweep, options);
    REQUIRE(plan);
    REQUIRE_FALSE(plan->refusal);
    dataset = plan->dataset_of(job());
    setup.db_path = options.db_path;
    setup.checkpoint_dir = harness::checkpoint_dir(options.db_path);
    setup.host = harness::launcher_id();
    setup.machine = harness::collect_machine_facts(1);
    setup.checkpoint_every = 2;
  }
  const sweeps::Job& job() const { return sweep.jobs.front(); }
  std::string checkpoint() const { return harness::checkpoint_path(setup.checkpoint_dir, job().key); }

  std::unique_ptr<JobRunner> open() const {
    auto runner = JobRunner::open(setup);
    REQUIRE(runner);
    return std::move(*runner);
  }
  results::RunRow row() const {
    auto store = results::Store::open(setup.db_path, results::OpenMode::kReadOnly);
    REQUIRE(store);
    auto runs = (*store)->runs(sweep.name);
    REQUIRE(runs);
    REQUIRE(runs->size() == 1);
    return runs->front();
  }
  std::vector<IterationRecord> curve() const {
    auto store = results::Store::open(setup.db_path, results::OpenMode::kReadOnly);
    REQUIRE(store);
    auto rows = (*store)->curve(job().key);
    REQUIRE(rows);
    return *rows;
  }
};

// Records what the runner shows; requests a stop after iteration `stop_at` (as Ctrl-C).
struct Recorder : harness::JobObserver {
  int starts = 0, ends = 0;
  std::vector<int64_t> iterations;
  std::vector<std::string> notices;
  results::RunState end_state = results::RunState::kQueued;
  int64_t stop_at = -1;

  void on_job_start(const sweeps::Job&) override { ++starts; }
  void on_job_iteration(const sweeps::Job&, const IterationRecord& r, int64_t) override {
    iterations.push_back(r.iteration);
    if (r.iteration == stop_at) harness::stop_requested() = true;
  }
  void on_job_end(const sweeps::Job&, results::RunState state, const std::string&) override {
    ++ends;
    end_state = state;
  }
  void on_notice(const std::string& message) override { notices.push_back(message); }
};

// Resets the process-wide stop flag when a test that sets it ends.
struct StopReset {
  ~StopReset() { harness::stop_requested() = false; }
};

}  // namespace

TEST_CASE("a runner claims, trains and finishes a job, and returns how it went") {
  Fixture f;
  auto runner = f.open();
  Recorder seen;
  const JobOutcome outcome = runner->run(f.job(), 0, f.dataset, seen);
  REQUIRE(runner->close());

  REQUIRE(outcome.state);
  CHECK(*outcome.state == results::RunState::kDone);
  CHECK_FALSE(outcome.storage_error);
  CHECK_FALSE(outcome.resumed);
  CHECK(outcome.summary.iterations == kIterations);
  CHECK(outcome.images == kIterations * f.job().config.train.batch);
  CHECK(outcome.summary.time.network_ms > 0);
  CHECK(seen.starts == 1);
  CHECK(seen.ends == 1);
  CHECK(seen.end_state == results::RunState::kDone);
  CHECK(seen.iterations.size() == size_t(kIterations));

  const auto row = f.row();
  CHECK(row.state == results::RunState::kDone);
  CHECK(row.host == f.setup.host);
  CHECK(row.threads == f.setup.machine.threads);
  CHECK(f.curve().size() == size_t(kIterations));
  CHECK(runner->writer_stats().transactions > 0);
  // The run saved checkpoints (every 2 iterations) and deleted them when it was done.
  CHECK(std::filesystem::is_directory(f.setup.checkpoint_dir));
  CHECK_FALSE(std::filesystem::exists(f.checkpoint()));
}

TEST_CASE("a bf16 job on a CPU without bf16 fails before training, its reason recorded") {
  if (has_native_bf16()) {
    WARN("skipped: this CPU has bf16 (oneDNN runs at " << onednn_isa() << ")");
    return;
  }
  Fixture f("bf16");
  auto runner = f.open();
  Recorder seen;
  const JobOutcome outcome = runner->run(f.job(), 0, f.dataset, seen);
  REQUIRE(runner->close());
  REQUIRE(outcome.state);
  CHECK(*outcome.state == results::RunState::kFailed);
  CHECK_FALSE(outcome.storage_error);
  CHECK(outcome.summary.iterations == 0);
  CHECK_THAT(outcome.message, Catch::Contains("bf16 needs a CPU with bf16 arithmetic"));
  const auto row = f.row();
  CHECK(row.state == results::RunState::kFailed);
  CHECK_THAT(row.error, Catch::Contains("runs oneDNN at " + onednn_isa()));
  CHECK(f.curve().empty());
}

TEST_CASE("a runner keeps a finished run's checkpoint when asked to") {
  Fixture f;
  f.setup.keep_checkpoints = true;
  auto runner = f.open();
  Recorder seen;
  CHECK(runner->run(f.job(), 0, f.dataset, seen).state == results::RunState::kDone);
  CHECK(std::filesystem::exists(f.checkpoint()));
}

TEST_CASE("a runner leaves a run that another launcher holds, or that is finished") {
  Fixture f;
  {
    auto store = results::Store::open(f.setup.db_path, results::OpenMode::kReadWrite);
    REQUIRE(store);
    auto claimed = (*store)->claim_run(f.job().key, false, "elsewhere:1", 1);
    REQUIRE(claimed);
    REQUIRE(*claimed);
  }
  auto runner = f.open();
  Recorder seen;
  const JobOutcome held = runner->run(f.job(), 0, f.dataset, seen);
  CHECK_FALSE(held.state);
  CHECK_FALSE(held.storage_error);
  CHECK(seen.starts == 0);
  CHECK(f.row().host == "elsewhere:1");
}

TEST_CASE("a run stopped by Ctrl-C ends interrupted and resumes from its checkpoint") {
  Fixture f;
  StopReset reset;
  auto runner = f.open();
  Recorder first;
  first.stop_at = 3;
  const JobOutcome stopped = runner->run(f.job(), 0, f.dataset, first);
  REQUIRE(stopped.state);
  CHECK(*stopped.state == results::RunState::kInterrupted);
  CHECK_FALSE(stopped.storage_error);
  CHECK(stopped.summary.iterations == 3);
  REQUIRE(runner->close());
  CHECK(f.row().state == results::RunState::kInterrupted);
  CHECK(std::filesystem::exists(f.checkpoint()));  // kept: the run resumes from it

  harness::stop_requested() = false;
  runner = f.open();
  Recorder second;
  // The run started with 2 threads (as far as the runner knows): resuming with 1 is reported.
  const JobOutcome resumed = runner->run(f.job(), 2, f.dataset, second);
  REQUIRE(runner->close());
  REQUIRE(resumed.state);
  CHECK(*resumed.state == results::RunState::kDone);
  CHECK(resumed.resumed);
  CHECK(resumed.summary.iterations == kIterations);
  CHECK(second.iterations.front() == 4);
  REQUIRE(second.notices.size() == 1);
  CHECK(second.notices[0].find("resumes with threads per job 1, started with 2") !=
        std::string::npos);
  const auto curve = f.curve();
  REQUIRE(curve.size() == size_t(kIterations));
  for (size_t i = 0; i < curve.size(); ++i) CHECK(curve[i].iteration == int64_t(i) + 1);
}

TEST_CASE("a damaged checkpoint is reported and its run starts over") {
  Fixture f;
  auto runner = f.open();
  std::ofstream(f.checkpoint()) << "garbage";
  Recorder seen;
  const JobOutcome outcome = runner->run(f.job(), 0, f.dataset, seen);
  REQUIRE(outcome.state);
  CHECK(*outcome.state == results::RunState::kDone);
  CHECK_FALSE(outcome.resumed);
  CHECK(seen.iterations.front() == 1);
  REQUIRE(seen.notices.size() == 1);
  CHECK(seen.notices[0].find("starts from its beginning") != std::string::npos);
}

TEST_CASE("a checkpoint that cannot be written interrupts the run with a storage error") {
  Fixture f;
  auto runner = f.open();
  // The checkpoint directory becomes a file: writing a checkpoint fails (even as root).
  std::filesystem::remove_all(f.setup.checkpoint_dir);
  std::ofstream(f.setup.checkpoint_dir) << "not a directory";
  Recorder seen;
  const JobOutcome outcome = runner->run(f.job(), 0, f.dataset, seen);
  REQUIRE(outcome.state);
  CHECK(*outcome.state == results::RunState::kInterrupted);
  REQUIRE(outcome.storage_error);
  CHECK(outcome.storage_error->kind == ErrorKind::kStorage);
  CHECK(outcome.message == outcome.storage_error->message);
  REQUIRE(runner->close());
  CHECK(f.row().state == results::RunState::kInterrupted);  // resumable
}

TEST_CASE("a checkpoint directory that cannot be created is a storage error") {
  Fixture f;
  std::ofstream(f.dir.file("file")) << "x";
  f.setup.checkpoint_dir = f.dir.file("file/checkpoints");
  auto runner = JobRunner::open(f.setup);
  REQUIRE_FALSE(runner);
  CHECK(runner.error().kind == ErrorKind::kStorage);
  CHECK(runner.error().message.find("cannot create the checkpoint directory") !=
        std::string::npos);
  // Without checkpoints no directory is needed.
  f.setup.checkpoint_every = 0;
  CHECK(JobRunner::open(f.setup));
}
