// The plan as a value: the default layout, the order and skips of the jobs to run, its
// refusals (the same in a dry run and a launch), and that refusing writes nothing.
#include "harness/plan.h"

#include <catch2/catch.hpp>

#include <sqlite3.h>

#include <filesystem>

#include "harness/machine.h"
#include "model/engine_info.h"
#include "results/store/schema.h"
#include "tests/temp_dir.h"

using namespace stodepth;
using stodepth::harness::choose_layout;
using stodepth::harness::DatabaseView;
using stodepth::harness::LaunchOptions;
using stodepth::harness::make_plan;
using stodepth::testing::TempDir;

namespace {

LaunchOptions with(int jobs, int threads_per_job) {
  LaunchOptions options;
  options.jobs = jobs;
  options.threads_per_job = threads_per_job;
  return options;
}

// 2 depths x 2 seeds on a small synthetic set: the depth-14 jobs cost more than the depth-8
// ones, and each pair of equal cost differs only by its seed.
std::string sweep_text(const std::string& seeds = "[1, 2]", const std::string& dataset_dir = "") {
  return "name: t\n"
         "base:\n"
         "  dataset: {name: synthetic, train_subset: 256, test_subset: 64" +
         (dataset_dir.empty() ? std::string() : ", dir: " + dataset_dir) +
         "}\n"
         "  model: {depth: 8}\n"
         "  train: {iterations: 3, batch: 32}\n"
         "  eval: {every: 2, batch: 32}\n"
         "grid:\n"
         "  model.depth: [8, 14]\n"
         "seeds: " + seeds + "\n";
}

sweeps::Sweep parse(const std::string& text) {
  auto sweep = sweeps::parse_sweep(text, "t.yaml");
  REQUIRE(sweep);
  return std::move(*sweep);
}

DatabaseView stored_as(const sweeps::Sweep& sweep, results::RunState state) {
  DatabaseView view;
  view.definition_hash = sweep.source_hash;
  for (const auto& job : sweep.jobs) view.runs[job.key] = {state, 2, "host:1"};
  return view;
}

}  // namespace

TEST_CASE("by default every core runs its own training") {
  const auto layout = choose_layout(LaunchOptions{}, /*sweep_jobs=*/8, /*cores=*/2);
  CHECK(layout.jobs == 2);
  CHECK(layout.threads_per_job == 1);
  const auto wide = choose_layout(LaunchOptions{}, 100, 16);
  CHECK(wide.jobs == 16);
  CHECK(wide.threads_per_job == 1);
}

TEST_CASE("by default a sweep of fewer jobs than cores shares the cores") {
  const auto single = choose_layout(LaunchOptions{}, /*sweep_jobs=*/1, /*cores=*/2);
  CHECK(single.jobs == 1);
  CHECK(single.threads_per_job == 2);
  const auto three = choose_layout(LaunchOptions{}, 3, 12);
  CHECK(three.jobs == 3);
  CHECK(three.threads_per_job == 4);
  const auto none = choose_layout(LaunchOptions{}, 0, 4);  // no jobs: still a valid layout
  CHECK(none.jobs == 1);
  CHECK(none.threads_per_job == 4);
}

TEST_CASE("threads per job alone decides how many jobs fit") {
  const auto layout = choose_layout(with(0, 2), 10, 8);
  CHECK(layout.jobs == 4);
  CHECK(layout.threads_per_job == 2);
  const auto more_than_cores = choose_layout(with(0, 4), 10, 2);
  CHECK(more_than_cores.jobs == 1);
  CHECK(more_than_cores.threads_per_job == 4);
}

TEST_CASE("explicit jobs are kept, threads split the cores among them") {
  const auto layout = choose_layout(with(1, 0), 8, 2);
  CHECK(layout.jobs == 1);
  CHECK(layout.threads_per_job == 2);
  const auto over = choose_layout(with(4, 0), 2, 2);  // the user's choice, even if idle
  CHECK(over.jobs == 4);
  CHECK(over.threads_per_job == 1);
  const auto both = choose_layout(with(3, 2), 8, 2);
  CHECK(both.jobs == 3);
  CHECK(both.threads_per_job == 2);
}

TEST_CASE("an unknown core count counts as one core") {
  const auto layout = choose_layout(LaunchOptions{}, 8, 0);
  CHECK(layout.jobs == 1);
  CHECK(layout.threads_per_job == 1);
}

TEST_CASE("a new sweep's plan runs every job, longest first, ties in sweep order") {
  const auto sweep = parse(sweep_text());
  const auto plan = make_plan(sweep, LaunchOptions{}, DatabaseView{}, /*cores=*/8);
  REQUIRE_FALSE(plan.refusal);
  CHECK(plan.sweep == &sweep);
  REQUIRE(plan.to_run.size() == 4);
  CHECK(plan.finished == 0);
  CHECK(plan.not_selected == 0);
  // Expansion order is depth 8 (seeds 1, 2), then depth 14 (seeds 1, 2).
  CHECK(plan.to_run[0].job == &sweep.jobs[2]);
  CHECK(plan.to_run[1].job == &sweep.jobs[3]);
  CHECK(plan.to_run[2].job == &sweep.jobs[0]);
  CHECK(plan.to_run[3].job == &sweep.jobs[1]);
  for (size_t i = 1; i < plan.to_run.size(); ++i)
    CHECK(harness::estimated_cost(plan.to_run[i - 1].job->config, 60000) >=
          harness::estimated_cost(plan.to_run[i].job->config, 60000));
  for (const auto& planned : plan.to_run) CHECK_FALSE(planned.state);
  // The layout follows the sweep's 4 jobs on 8 cores.
  CHECK(plan.layout.jobs == 4);
  CHECK(plan.layout.threads_per_job == 2);
  CHECK(harness::describe(plan) == "4 jobs to run, 0 already finished; 4 at a time, 2 threads each");
}

TEST_CASE("a plan skips finished jobs and keeps each job's database state") {
  const auto sweep = parse(sweep_text());
  auto stored = stored_as(sweep, results::RunState::kDone);
  stored.runs[sweep.jobs[1].key].state = results::RunState::kInterrupted;
  stored.runs[sweep.jobs[2].key].state = results::RunState::kFailed;
  stored.runs.erase(sweep.jobs[3].key);  // not in the database yet

  const auto plan = make_plan(sweep, LaunchOptions{}, stored, 2);
  REQUIRE_FALSE(plan.refusal);
  CHECK(plan.finished == 2);  // done, and failed without --retry-failed
  REQUIRE(plan.to_run.size() == 2);
  CHECK(plan.to_run[0].job == &sweep.jobs[3]);
  CHECK_FALSE(plan.to_run[0].state);
  CHECK(plan.to_run[1].job == &sweep.jobs[1]);
  CHECK(plan.to_run[1].state == results::RunState::kInterrupted);
  CHECK(plan.to_run[1].previous_threads == 2);
  // The layout comes from the sweep's size, not from what is left.
  CHECK(plan.layout.jobs == 2);
  CHECK(harness::describe(plan) == "2 jobs to run, 2 already finished; 2 at a time, 1 thread each");

  LaunchOptions retry;
  retry.retry_failed = true;
  const auto retried = make_plan(sweep, retry, stored, 2);
  CHECK(retried.finished == 1);
  REQUIRE(retried.to_run.size() == 3);
  CHECK(retried.to_run[0].job == &sweep.jobs[2]);
  CHECK(retried.to_run[0].state == results::RunState::kFailed);
}

TEST_CASE("a plan runs the jobs --only selects by key prefix and counts the others") {
  const auto sweep = parse(sweep_text());
  LaunchOptions options;
  options.only = {sweep.jobs[1].key.substr(0, 6)};
  const auto plan = make_plan(sweep, options, DatabaseView{}, 2);
  REQUIRE_FALSE(plan.refusal);
  REQUIRE(plan.to_run.size() == 1);
  CHECK(plan.to_run[0].job == &sweep.jobs[1]);
  CHECK(plan.not_selected == 3);
}

TEST_CASE("a plan is refused when --only selects nothing, before reading datasets") {
  // The dataset directory does not exist: the --only refusal comes first.
  const auto sweep = parse(sweep_text("[1, 2]", "/nonexistent/stodepth-data"));
  LaunchOptions options;
  options.only = {"zzzz", "yyyy"};
  const auto plan = make_plan(sweep, options, DatabaseView{}, 2);
  REQUIRE(plan.refusal);
  CHECK(plan.refusal->kind == ErrorKind::kBadInput);
  CHECK(plan.refusal->message ==
        "--only: no job of sweep 't' has a key starting with zzzz or yyyy (see 'launch --dry-run')");
  CHECK(plan.to_run.empty());
  CHECK(plan.datasets.empty());
  CHECK(harness::describe(plan) == plan.refusal->message);
}

// sweep_text(seeds) with its 3 iterations per job made `iterations`.
std::string with_iterations(int iterations, const std::string& seeds = "[1, 2]") {
  std::string text = sweep_text(seeds);
  const std::string from = "iterations: 3";
  return text.replace(text.find(from), from.size(), "iterations: " + std::to_string(iterations));
}

TEST_CASE("a plan is refused when the database holds another definition of the sweep") {
  const auto sweep = parse(sweep_text());
  const auto edited = parse(with_iterations(4));
  REQUIRE(edited.source_hash != sweep.source_hash);
  LaunchOptions options;
  options.db_path = "some/results.db";
  auto stored = stored_as(sweep, results::RunState::kDone);
  const auto plan = make_plan(edited, options, stored, 2);
  REQUIRE(plan.refusal);
  CHECK(plan.refusal->kind == ErrorKind::kBadInput);
  CHECK(plan.refusal->message ==
        "some/results.db: sweep 't' already exists in DB with a different definition (rename "
        "the sweep or use another --db)");
  CHECK(plan.to_run.empty());
  CHECK(harness::plan_notes(plan).empty());
  // With what the file changes, the refusal says it.
  stored.lost_jobs = "changes 4 jobs (train.iterations 3 → 4 in seeds 1–2)";
  CHECK(make_plan(edited, options, stored, 2).refusal->message ==
        "some/results.db: sweep 't' already exists in DB with a different definition: the file "
        "changes 4 jobs (train.iterations 3 → 4 in seeds 1–2); a sweep file may add jobs to a "
        "stored sweep but not change or remove any (undo that, or rename the sweep or use "
        "another --db)");
  // The same definition is accepted.
  CHECK_FALSE(make_plan(sweep, options, stored_as(sweep, results::RunState::kDone), 2).refusal);
}

TEST_CASE("a plan loads each distinct dataset of the jobs to run once") {
  const auto sweep = parse(sweep_text());
  const auto plan = make_plan(sweep, LaunchOptions{}, DatabaseView{}, 2);
  REQUIRE_FALSE(plan.refusal);
  REQUIRE(plan.datasets.size() == 1);  // every job has the same dataset options
  const data::Dataset& first = plan.dataset_of(*plan.to_run[0].job);
  CHECK(first.name == "synthetic");
  CHECK(first.train.size() == 256);
  CHECK(first.test.size() == 64);
  for (const auto& planned : plan.to_run) CHECK(&plan.dataset_of(*planned.job) == &first);

  // A plan made again reuses the loaded dataset; one with nothing to run holds none.
  const auto again = make_plan(sweep, LaunchOptions{}, DatabaseView{}, 2, plan.datasets);
  CHECK(&again.dataset_of(*again.to_run[0].job) == &first);
  const auto nothing = make_plan(sweep, LaunchOptions{}, stored_as(sweep, results::RunState::kDone),
                                 2, plan.datasets);
  CHECK(nothing.to_run.empty());
  CHECK(nothing.datasets.empty());
}

TEST_CASE("a plan is refused when a dataset does not load, naming the directory and the fix") {
  const auto missing = parse(sweep_text("[1, 2]", "/nonexistent/stodepth-data"));
  const auto plan = make_plan(missing, LaunchOptions{}, DatabaseView{}, 2);
  REQUIRE(plan.refusal);
  CHECK(plan.refusal->kind == ErrorKind::kBadInput);
  CHECK(plan.refusal->message ==
        "/nonexistent/stodepth-data: dataset.dir of sweep 't' (synthetic) not found (put the "
        "extracted dataset there, or set dataset.dir in the sweep file to where it is)");
  CHECK(plan.refusal->message.find('\n') == std::string::npos);
  CHECK(plan.to_run.empty());

  // A load that fails for another reason keeps the loader's message, naming the sweep.
  const auto no_files = parse(
      "name: big\nbase:\n  dataset: {name: mnist, dir: /}\n  model: {depth: 8}\n"
      "  train: {iterations: 1}\n");
  const auto refused = make_plan(no_files, LaunchOptions{}, DatabaseView{}, 2);
  REQUIRE(refused.refusal);
  CHECK(refused.refusal->message.rfind("sweep 'big': dataset mnist: ", 0) == 0);

  // Finished jobs need no dataset: nothing to run is no refusal.
  const auto finished =
      make_plan(missing, LaunchOptions{}, stored_as(missing, results::RunState::kDone), 2);
  CHECK_FALSE(finished.refusal);
  CHECK(finished.finished == 4);
}

TEST_CASE("dry run and launch refuse a missing dataset alike, and create no database") {
  TempDir dir;
  const auto sweep = parse(sweep_text("[1, 2]", dir.file("missing")));
  LaunchOptions options;
  options.db_path = dir.file("sub/results.db");
  auto dry = harness::plan_dry_run(sweep, options);
  REQUIRE(dry);
  auto real = harness::plan_launch(sweep, options);
  REQUIRE(real);
  REQUIRE(dry->refusal);
  REQUIRE(real->refusal);
  CHECK(real->refusal->message == dry->refusal->message);
  CHECK(real->refusal->kind == dry->refusal->kind);
  CHECK_FALSE(std::filesystem::exists(options.db_path));
  CHECK_FALSE(std::filesystem::exists(dir.file("sub")));
}

TEST_CASE("bf16 jobs this CPU cannot train are refused before anything is written") {
  TempDir dir;
  // Half the jobs bf16: the plain f32 ones alone would run.
  std::string text = sweep_text();
  text.replace(text.find("grid:\n"), 6, "grid:\n  train.precision: [f32, bf16]\n");
  const auto sweep = parse(text);
  REQUIRE(sweep.jobs.size() == 8);
  LaunchOptions options;
  options.db_path = dir.file("results.db");
  auto dry = harness::plan_dry_run(sweep, options);
  auto real = harness::plan_launch(sweep, options);
  REQUIRE(dry);
  REQUIRE(real);
  if (has_native_bf16()) {
    CHECK_FALSE(dry->refusal);
    CHECK(dry->to_run.size() == 8);
    return;
  }
  REQUIRE(dry->refusal);
  REQUIRE(real->refusal);
  CHECK(dry->refusal->kind == ErrorKind::kBadInput);
  CHECK_THAT(dry->refusal->message,
             Catch::StartsWith("sweep 't', 4 jobs to run: train.precision: bf16 needs a CPU "
                               "with bf16 arithmetic"));
  CHECK_THAT(dry->refusal->message, Catch::Contains("runs oneDNN at " + onednn_isa()));
  CHECK(real->refusal->message == dry->refusal->message);
  CHECK_FALSE(std::filesystem::exists(options.db_path));
  // Where the jobs train elsewhere (Slurm nodes), each task checks its own CPU instead.
  options.trains_here = false;
  auto on_nodes = harness::plan_dry_run(sweep, options);
  REQUIRE(on_nodes);
  CHECK_FALSE(on_nodes->refusal);
}

// The result of `sql` (one value) on the database at `path`, run through SQLite directly.
std::string sql_text(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  std::string text;
  auto keep = [](void* out, int, char** values, char**) {
    if (values[0]) *static_cast<std::string*>(out) = values[0];
    return 0;
  };
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), keep, &text, &error);
  const std::string message = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  INFO(message);
  REQUIRE(rc == SQLITE_OK);
  return text;
}

TEST_CASE("a refused launch leaves a database of an older schema unmigrated") {
  TempDir dir;
  LaunchOptions options;
  options.db_path = dir.file("results.db");
  for (int v = 0; v < 2; ++v) sql_text(options.db_path, results::migrations()[v]);
  sql_text(options.db_path,
           "PRAGMA application_id = " + std::to_string(results::kApplicationId) +
               "; PRAGMA user_version = 2");
  auto refused = harness::plan_launch(parse(sweep_text("[1]", "/nonexistent/data")), options);
  REQUIRE(refused);
  REQUIRE(refused->refusal);
  CHECK(sql_text(options.db_path, "PRAGMA user_version") == "2");
  CHECK(sql_text(options.db_path, "SELECT count(*) FROM sweeps") == "0");

  auto accepted = harness::plan_launch(parse(sweep_text("[1]")), options);
  REQUIRE(accepted);
  REQUIRE_FALSE(accepted->refusal);
  CHECK(sql_text(options.db_path, "PRAGMA user_version") ==
        std::to_string(results::schema_version()));
}

TEST_CASE("dry run and launch refuse an edited sweep alike, and the database is unchanged") {
  TempDir dir;
  const auto sweep = parse(sweep_text());
  LaunchOptions options;
  options.db_path = dir.file("results.db");
  auto registered = harness::plan_launch(sweep, options);
  REQUIRE(registered);
  REQUIRE_FALSE(registered->refusal);

  // One more seed, and every job's iterations changed.
  const auto edited = parse(with_iterations(4, "[1, 2, 3]"));
  auto dry = harness::plan_dry_run(edited, options);
  REQUIRE(dry);
  REQUIRE(dry->refusal);
  CHECK(dry->stored.runs.empty());  // none of the file's jobs is stored
  auto real = harness::plan_launch(edited, options);
  REQUIRE(real);
  REQUIRE(real->refusal);
  CHECK(real->refusal->message == dry->refusal->message);
  CHECK(real->refusal->message ==
        options.db_path +
            ": sweep 't' already exists in DB with a different definition: the file changes 4 "
            "jobs (train.iterations 3 → 4 in seeds 1–2 of model.depth=8, seeds 1–2 of "
            "model.depth=14); a sweep file may add jobs to a stored sweep but not change or "
            "remove any (undo that, or rename the sweep or use another --db)");

  auto store = results::Store::open(options.db_path, results::OpenMode::kReadOnly);
  REQUIRE(store);
  auto runs = (*store)->runs(std::nullopt);
  REQUIRE(runs);
  CHECK(runs->size() == 4);  // the edit's new jobs were not added
}

TEST_CASE("a launch's plan registers the sweep; a dry run writes nothing") {
  TempDir dir;
  const auto sweep = parse(sweep_text());
  LaunchOptions options;
  options.db_path = dir.file("sub/results.db");
  auto dry = harness::plan_dry_run(sweep, options);
  REQUIRE(dry);
  CHECK_FALSE(dry->refusal);
  CHECK(dry->to_run.size() == 4);
  CHECK_FALSE(std::filesystem::exists(options.db_path));

  auto real = harness::plan_launch(sweep, options);
  REQUIRE(real);
  REQUIRE_FALSE(real->refusal);
  CHECK(real->to_run.size() == 4);
  REQUIRE(real->stored.definition_hash);
  CHECK(*real->stored.definition_hash == sweep.source_hash);
  REQUIRE(real->stored.runs.size() == 4);
  for (const auto& planned : real->to_run) CHECK(planned.state == results::RunState::kQueued);
  // Once registered, a dry run sees the same plan.
  auto after = harness::plan_dry_run(sweep, options);
  REQUIRE(after);
  REQUIRE(after->to_run.size() == real->to_run.size());
  for (size_t i = 0; i < after->to_run.size(); ++i) {
    CHECK(after->to_run[i].job == real->to_run[i].job);
    CHECK(after->to_run[i].state == real->to_run[i].state);
  }
}

TEST_CASE("a launch's plan releases the runs of a launcher that died") {
  TempDir dir;
  const auto sweep = parse(sweep_text());
  LaunchOptions options;
  options.db_path = dir.file("results.db");
  REQUIRE(harness::plan_launch(sweep, options));
  {
    auto store = results::Store::open(options.db_path, results::OpenMode::kReadWrite);
    REQUIRE(store);
    // A launcher of another machine (may be alive: left alone) and one of this machine
    // whose process is gone (PID 0 is never a process's).
    auto claimed = (*store)->claim_run(sweep.jobs[0].key, false, "elsewhere:123", 1);
    REQUIRE(claimed);
    REQUIRE(*claimed);
    const std::string ours = harness::launcher_id();
    const std::string dead = ours.substr(0, ours.rfind(':')) + ":999999999";
    claimed = (*store)->claim_run(sweep.jobs[1].key, false, dead, 1);
    REQUIRE(claimed);
    REQUIRE(*claimed);
  }
  auto plan = harness::plan_launch(sweep, options);
  REQUIRE(plan);
  CHECK(plan->stored.runs.at(sweep.jobs[0].key).state == results::RunState::kRunning);
  CHECK(plan->stored.runs.at(sweep.jobs[1].key).state == results::RunState::kInterrupted);
}

TEST_CASE("a sweep file edited without changing its jobs is the same sweep, its text updated") {
  TempDir dir;
  const auto sweep = parse(sweep_text());
  LaunchOptions options;
  options.db_path = dir.file("results.db");
  REQUIRE(harness::plan_launch(sweep, options));

  // A description and a comment added: another source hash, the same jobs.
  const auto described = parse("# a comment\ndescription: what it shows\n" + sweep_text());
  REQUIRE(described.source_hash != sweep.source_hash);
  auto dry = harness::plan_dry_run(described, options);
  REQUIRE(dry);
  CHECK_FALSE(dry->refusal);
  CHECK(dry->stored.stored_text_outdated);
  auto real = harness::plan_launch(described, options);
  REQUIRE(real);
  REQUIRE_FALSE(real->refusal);
  CHECK(real->to_run.size() == 4);

  auto store = results::Store::open(options.db_path, results::OpenMode::kReadOnly);
  REQUIRE(store);
  auto sweeps = (*store)->sweeps();
  REQUIRE(sweeps);
  REQUIRE(sweeps->size() == 1);
  CHECK((*sweeps)[0].description == "what it shows");
  CHECK((*sweeps)[0].source_hash == described.source_hash);
  CHECK((*store)->runs(std::nullopt)->size() == 4);
}

namespace {

// Marks run `key` done, as a launcher that ran it would.
void finish(const std::string& db_path, const std::string& key) {
  auto store = results::Store::open(db_path, results::OpenMode::kReadWrite);
  REQUIRE(store);
  auto claimed = (*store)->claim_run(key, false, "elsewhere:1", 1);
  REQUIRE(claimed);
  REQUIRE(*claimed);
  REQUIRE((*store)->finish_run(key, results::RunState::kDone, nullptr, ""));
}

}  // namespace

TEST_CASE("a sweep file that adds seeds and values extends the sweep: only the new jobs run") {
  TempDir dir;
  const auto sweep = parse(sweep_text());
  LaunchOptions options;
  options.db_path = dir.file("results.db");
  REQUIRE(harness::plan_launch(sweep, options));
  for (const auto& job : sweep.jobs) finish(options.db_path, job.key);

  // Seeds 3 and 4, and depth 20: 3 depths × 4 seeds, 8 of them new beside the 4 done.
  std::string text = sweep_text("[1, 2, 3, 4]");
  text.replace(text.find("[8, 14]"), 7, "[8, 14, 20]");
  const auto grown = parse(text);
  REQUIRE(grown.jobs.size() == 12);
  auto dry = harness::plan_dry_run(grown, options);
  REQUIRE(dry);
  REQUIRE_FALSE(dry->refusal);
  CHECK(dry->stored.stored_text_outdated);
  REQUIRE(dry->stored.extension);
  CHECK(dry->stored.extension->jobs == 8);
  CHECK(harness::plan_notes(*dry) ==
        std::vector<std::string>{"extends sweep 't': +8 jobs (seeds 3–4; model.depth 20)"});
  CHECK(dry->finished == 4);
  CHECK(dry->to_run.size() == 8);

  auto real = harness::plan_launch(grown, options);
  REQUIRE(real);
  REQUIRE_FALSE(real->refusal);
  // The registered plan still says what the launch extended, though the database now holds
  // the file's definition.
  CHECK(harness::describe(*real) ==
        "extends sweep 't': +8 jobs (seeds 3–4; model.depth 20)\n8 jobs to run, 4 already "
        "finished; 2 at a time, 1 thread each");
  REQUIRE(real->to_run.size() == 8);
  for (const auto& planned : real->to_run) {
    CHECK(planned.state == results::RunState::kQueued);
    CHECK((planned.job->config.train.seed >= 3 || planned.job->config.model.depth == 20));
  }

  auto store = results::Store::open(options.db_path, results::OpenMode::kReadOnly);
  REQUIRE(store);
  auto sweeps = (*store)->sweeps();
  REQUIRE(sweeps);
  REQUIRE(sweeps->size() == 1);
  CHECK((*sweeps)[0].source_hash == grown.source_hash);
  CHECK((*sweeps)[0].source_text == grown.source_text);
  auto runs = (*store)->runs("t");
  REQUIRE(runs);
  CHECK(runs->size() == 12);
  int done = 0;
  for (const auto& run : *runs) done += run.state == results::RunState::kDone;
  CHECK(done == 4);

  // Launched again, the grown sweep is the stored one: nothing extended.
  auto again = harness::plan_dry_run(grown, options);
  REQUIRE(again);
  CHECK_FALSE(again->stored.extension);
  CHECK(harness::plan_notes(*again).empty());
  // The original file now lacks the added jobs: refused, naming them.
  auto shrunk = harness::plan_dry_run(sweep, options);
  REQUIRE(shrunk);
  REQUIRE(shrunk->refusal);
  CHECK_THAT(shrunk->refusal->message,
             Catch::Contains("the file removes 8 jobs (seeds 3–4 of model.depth=8, seeds 3–4 of "
                             "model.depth=14, seeds 1–4 of model.depth=20)"));
}

TEST_CASE("a renamed sweep says which of its jobs another sweep has done") {
  TempDir dir;
  const auto sweep = parse(sweep_text());
  LaunchOptions options;
  options.db_path = dir.file("results.db");
  REQUIRE(harness::plan_launch(sweep, options));
  for (size_t i = 0; i < 3; ++i) finish(options.db_path, sweep.jobs[i].key);

  std::string text = sweep_text();
  text.replace(0, 7, "name: u");
  const auto renamed = parse(text);
  auto dry = harness::plan_dry_run(renamed, options);
  REQUIRE(dry);
  REQUIRE_FALSE(dry->refusal);
  CHECK(harness::plan_notes(*dry) ==
        std::vector<std::string>{"3 jobs are already done under sweep 't' and are reused"});
  CHECK(dry->to_run.size() == 1);
  auto real = harness::plan_launch(renamed, options);
  REQUIRE(real);
  CHECK(harness::plan_notes(*real) == harness::plan_notes(*dry));
  // The sweep that did them reuses nothing.
  auto original = harness::plan_dry_run(sweep, options);
  REQUIRE(original);
  CHECK(harness::plan_notes(*original).empty());
  // One job: singular.
  text = sweep_text("[2]");
  text.replace(0, 7, "name: v");
  text.replace(text.find("[8, 14]"), 7, "[8]");
  const auto one = parse(text);  // seed 2 of depth 8: done under 't'
  auto single = harness::plan_dry_run(one, options);
  REQUIRE(single);
  CHECK(harness::plan_notes(*single) ==
        std::vector<std::string>{"1 job is already done under sweep 't' and is reused"});
}
