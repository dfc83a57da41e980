// Tests for the AsyncWriter (results/store/writer.h): records enqueued from several threads
// committed once each, in batches, without a flush, and the first write error kept.
#include "results/store/writer.h"

#include <catch2/catch.hpp>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "results/store/store.h"
#include "tests/store_fixtures.h"
#include "tests/temp_dir.h"

using namespace stodepth;
using namespace stodepth::results;
using namespace stodepth::testing;

TEST_CASE("writer: records enqueued from several threads are all committed exactly once") {
  TempDir dir;
  const std::string path = dir.file("results.db");
  constexpr int kRuns = 4, kIterations = 1000, kChunk = 7;
  {
    auto store = open_store(path);
    require_ok(store->register_sweep(sample_sweep("s")));
    std::vector<JobRecord> jobs;
    for (int r = 0; r < kRuns; ++r) jobs.push_back(sample_job("run" + std::to_string(r), "s"));
    require_ok(store->add_jobs(jobs));
  }
  auto writer = AsyncWriter::open(path);
  REQUIRE(writer.ok());
  auto reader = open_store(path, OpenMode::kReadOnly);

  std::vector<std::thread> trainers;
  for (int r = 0; r < kRuns; ++r) {
    trainers.emplace_back([&, r] {
      const std::string key = "run" + std::to_string(r);
      for (int first = 1; first <= kIterations; first += kChunk) {
        const int last = std::min(first + kChunk - 1, kIterations);
        (*writer)->enqueue_iterations(key, iterations(first, last));
      }
      (*writer)->enqueue_test_evals(key, {test_eval(1), test_eval(2)});
      const RunSummary summary = sample_summary();
      (*writer)->enqueue_finish(key, RunState::kDone, &summary, "");
    });
  }
  for (auto& t : trainers) t.join();
  require_ok((*writer)->flush());

  for (int r = 0; r < kRuns; ++r) {
    const std::string key = "run" + std::to_string(r);
    auto curve = reader->curve(key);
    REQUIRE(curve->size() == size_t(kIterations));
    std::set<int64_t> seen;
    for (const auto& row : *curve) seen.insert(row.iteration);
    CHECK(seen.size() == size_t(kIterations));
    CHECK(reader->test_evals(key)->size() == 2);
    const RunRow row = run_row(*reader, key);
    CHECK(row.state == RunState::kDone);
    CHECK(row.final_test_accuracy == 0.875);
  }
  auto count = reader->select("SELECT count(*) FROM iterations");
  CHECK(count->rows[0][0] == std::to_string(kRuns * kIterations));
  require_ok((*writer)->close());
}

TEST_CASE("writer: close commits what is still queued") {
  auto store = store_with_runs();
  Store* view = store.get();  // the test reads through the same connection after close()
  AsyncWriter writer(std::move(store));
  writer.enqueue_iterations("r1", iterations(1, 3));
  writer.enqueue_finish("r1", RunState::kFailed, nullptr, "boom");
  require_ok(writer.close());
  require_ok(writer.close());
  CHECK(view->curve("r1")->size() == 3);
  CHECK(run_row(*view, "r1").error == "boom");
  writer.enqueue_iterations("r1", iterations(4, 5));  // after close: dropped
  require_ok(writer.flush());
  CHECK(view->curve("r1")->size() == 3);
}

TEST_CASE("writer: the first write error is returned and later records are dropped") {
  TempDir dir;
  const std::string path = dir.file("results.db");
  store_with_runs(path);
  auto writer = AsyncWriter::open(path);
  REQUIRE(writer.ok());
  (*writer)->enqueue_iterations("r1", iterations(1, 5));
  require_ok((*writer)->flush());
  CHECK((*writer)->healthy());

  (*writer)->enqueue_iterations("ghost", iterations(1, 5));  // violates the foreign key
  auto flushed = (*writer)->flush();
  REQUIRE_FALSE(flushed.ok());
  CHECK(contains(flushed.error().message, "FOREIGN KEY"));
  CHECK_FALSE((*writer)->healthy());

  (*writer)->enqueue_iterations("r1", iterations(6, 10));
  CHECK_FALSE((*writer)->flush().ok());
  auto closed = (*writer)->close();
  REQUIRE_FALSE(closed.ok());
  CHECK(closed.error().message == flushed.error().message);
  CHECK(open_store(path, OpenMode::kReadOnly)->curve("r1")->size() == 5);
}

TEST_CASE("writer: records are committed without a flush (full batch or timer)") {
  TempDir dir;
  const std::string path = dir.file("results.db");
  store_with_runs(path);
  auto writer = AsyncWriter::open(path);
  REQUIRE(writer.ok());
  auto reader = open_store(path, OpenMode::kReadOnly);
  auto wait_for_rows = [&](const std::string& key, size_t rows) {
    for (int attempt = 0; attempt < 300 && reader->curve(key)->size() < rows; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return reader->curve(key)->size();
  };
  (*writer)->enqueue_iterations("r1", iterations(1, int64_t(AsyncWriter::kBatchRows)));
  CHECK(wait_for_rows("r1", AsyncWriter::kBatchRows) == AsyncWriter::kBatchRows);
  (*writer)->enqueue_iterations("r2", iterations(1, 3));
  CHECK(wait_for_rows("r2", 3) == 3);
  require_ok((*writer)->close());
}
