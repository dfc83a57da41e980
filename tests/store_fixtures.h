// What the results store's tests share: files read whole, raw connections, stores opened (or
// the test stops there), runs looked up by key, and sample records of a small sweep.
#pragma once

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/base/result.h"
#include "model/config/config_codec.h"
#include "model/config/records.h"
#include "results/store/store.h"
#include "tests/result_checks.h"

namespace stodepth::testing {

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

inline void require_ok(const Status& status) {
  INFO((status ? "" : status.error().message));
  REQUIRE(status.ok());
}

// A raw connection, for setting up files the Store must refuse and for inspecting files.
class Raw {
 public:
  explicit Raw(const std::string& path) { REQUIRE(sqlite3_open(path.c_str(), &db_) == SQLITE_OK); }
  ~Raw() { sqlite3_close(db_); }
  void exec(const std::string& sql) {
    char* message = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
    INFO(sql << ": " << (message ? message : ""));
    sqlite3_free(message);
    REQUIRE(rc == SQLITE_OK);
  }
  std::string text(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
    const auto* value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    std::string result = value ? value : "";
    sqlite3_finalize(stmt);
    return result;
  }

 private:
  sqlite3* db_ = nullptr;
};

inline std::unique_ptr<results::Store> open_store(
    const std::string& path, results::OpenMode mode = results::OpenMode::kReadWrite,
    const results::OpenOptions& options = {}) {
  auto store = results::Store::open(path, mode, options);
  INFO((store ? "" : store.error().message));
  REQUIRE(store.ok());
  return std::move(store).value();
}

// The options a Slurm task's store shard is created with.
inline results::OpenOptions rollback_journal() {
  results::OpenOptions options;
  options.journal = results::Journal::kRollback;
  return options;
}

inline results::RunRow run_row(results::Store& store, const std::string& key) {
  auto rows = store.runs(std::nullopt);
  INFO((rows ? "" : rows.error().message));
  REQUIRE(rows.ok());
  for (const auto& row : *rows) {
    if (row.key == key) return row;
  }
  FAIL("no run " << key);
  return {};
}

// --- Sample records: sweep "s" with runs "r1" and "r2" ---------------------------------------

inline results::SweepRecord sample_sweep(const std::string& name, const std::string& hash = "h1") {
  return results::SweepRecord{name, "a sweep", "name: " + name + "\n", hash};
}

inline results::JobRecord sample_job(const std::string& key, const std::string& sweep,
                                     int depth = 20, double p_L = 0.5) {
  results::JobRecord job;
  job.key = key;
  job.sweep = sweep;
  job.config.data.name = "synthetic";
  job.config.model.depth = depth;
  job.config.model.width = 2;
  job.config.model.shortcut = Shortcut::kB;
  job.config.sd.rule = SurvivalRule::kUniform;
  job.config.sd.p_L = p_L;
  job.config.train.lr.kind = LrScheduleKind::kCosine;
  job.config.train.lr.base = 0.05;
  job.config.train.batch = 64;
  job.config.train.epochs = 3;
  job.config.train.iterations = 120;
  job.config.train.seed = 7;
  job.config_json = canonical_config_json(job.config);
  return job;
}

inline IterationRecord iteration(int64_t i, bool with_test = false) {
  IterationRecord r;
  r.iteration = i;
  r.epoch = 1 + (i - 1) / 10;
  r.learning_rate = 0.1 / double(i);
  r.loss = 2.0 - 0.01 * double(i);
  r.train_accuracy = 0.001 * double(i);
  r.active_blocks = int(i % 9);
  r.step_ms = 1.5 + double(i);
  if (with_test) {
    r.test_accuracy = 0.25 + 0.001 * double(i);
    r.test_loss = 1.75;
  }
  return r;
}

inline std::vector<IterationRecord> iterations(int64_t first, int64_t last) {
  std::vector<IterationRecord> rows;
  for (int64_t i = first; i <= last; ++i) rows.push_back(iteration(i, i % 10 == 0));
  return rows;
}

inline TestEvalRecord test_eval(int64_t epoch) {
  return {epoch, epoch * 10, 0.5 + 0.01 * epoch, 1.25};
}

inline RunSummary sample_summary() {
  RunSummary s;
  s.status = RunStatus::kDone;
  s.iterations = 120;
  s.wall_seconds = 12.5;
  s.train_seconds = 10;
  s.mean_step_ms = 83.25;
  s.images_per_second = 768;
  s.mean_active_blocks = 7.5;
  s.expected_active_blocks = 7.25;
  s.final_test_accuracy = 0.875;
  s.final_test_loss = 0.375;
  return s;
}

// A store with sweep "s" and queued runs "r1", "r2".
inline std::unique_ptr<results::Store> store_with_runs(const std::string& path = ":memory:") {
  auto store = open_store(path);
  require_ok(store->register_sweep(sample_sweep("s")));
  require_ok(store->add_jobs({sample_job("r1", "s"), sample_job("r2", "s", 32, 0.8)}));
  return store;
}

// Of sweep "s" (store_with_runs).
// The machine a launcher records for a run.
inline MachineFacts sample_machine() {
  MachineFacts m;
  m.cpu_model = "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz";
  m.isa = "Intel AVX-512 with Intel DL Boost";
  m.cores = 8;
  m.onednn_version = "2.6.3";
  return m;
}

inline results::SlurmSubmission sample_submission(const std::string& job_id,
                                                  std::vector<std::string> keys) {
  return results::SlurmSubmission{job_id,
                                  "s",
                                  R"({"partition":"gpu","time":"04:00:00"})",
                                  "#!/bin/bash\nexec stodepth run-task\n",
                                  std::move(keys),
                                  6,
                                  ""};
}

}  // namespace stodepth::testing
