// Crash safety of `stodepth launch`: a sweep of 12 short jobs is SIGKILLed at random moments
// (during schema creation, between jobs, in the middle of writes and checkpoints) and
// relaunched each time. At the end every job is done, every run has exactly one row per
// iteration, the database passes PRAGMA integrity_check, and every run's metrics are
// bit-identical to an uninterrupted launch of the same sweep without checkpoints.
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "model/base/rng.h"
#include "results/store/store.h"
#include "tests/temp_dir.h"

using namespace stodepth;
using stodepth::testing::TempDir;

namespace {

constexpr int kJobs = 12;
constexpr int64_t kIterations = 60;

// 12 jobs: p_L {1, 0.5} x 6 seeds; 1000/32 = 31 batches per epoch, so a run crosses an epoch.
void write_sweep(const std::string& path) {
  std::ofstream(path) << R"(name: crash
base:
  dataset: {name: synthetic, train_subset: 1000, test_subset: 200}
  model: {depth: 8}
  stochastic_depth: {rule: linear}
  train: {iterations: 60, batch: 32, lr: {schedule: cosine, base: 0.05},
          augment: {crop_pad: 2, flip: true}}
  eval: {every: 4, batch: 100}
grid:
  stochastic_depth.p_L: [1.0, 0.5]
seeds: [1, 2, 3, 4, 5, 6]
)";
}

// Starts `stodepth launch` with its output appended to `log`; returns the child's pid.
pid_t start_launch(const std::string& sweep, const std::string& db, const std::string& log,
                   const std::vector<std::string>& extra) {
  std::vector<std::string> args = {STODEPTH_BIN, "launch", sweep, "--db", db, "--quiet",
                                   "--threads-per-job", "1"};
  args.insert(args.end(), extra.begin(), extra.end());
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    FILE* out = std::fopen(log.c_str(), "a");
    if (out) {
      dup2(fileno(out), 1);
      dup2(fileno(out), 2);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

int wait_status(pid_t pid) {
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return status;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string integrity(const std::string& db) {
  sqlite3* handle = nullptr;
  std::string result = "cannot open";
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(handle, "PRAGMA integrity_check", -1, &stmt, nullptr);
    result.clear();
    while (stmt && sqlite3_step(stmt) == SQLITE_ROW)
      result += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
  }
  sqlite3_close(handle);
  return result;
}

struct RunMetrics {
  results::RunState state;
  std::vector<IterationRecord> curve;
  std::vector<TestEvalRecord> evals;
  std::optional<double> final_accuracy;
};

std::map<std::string, RunMetrics> read_runs(const std::string& db) {
  auto store = results::Store::open(db, results::OpenMode::kReadOnly);
  REQUIRE(store.ok());
  auto runs = (*store)->runs(std::nullopt);
  REQUIRE(runs.ok());
  std::map<std::string, RunMetrics> out;
  for (const auto& r : *runs) {
    auto curve = (*store)->curve(r.key);
    auto evals = (*store)->test_evals(r.key);
    REQUIRE(curve.ok());
    REQUIRE(evals.ok());
    out[r.key] = {r.state, *curve, *evals, r.final_test_accuracy};
  }
  return out;
}

}  // namespace

TEST_CASE("launch survives SIGKILL at random moments with bit-identical results", "[crash]") {
  TempDir dir;
  const std::string sweep = dir.file("crash.yaml"), log = dir.file("launch.log");
  write_sweep(sweep);

  // The reference: one uninterrupted launch, no checkpoints.
  const std::string reference_db = dir.file("reference.db");
  const auto reference_start = std::chrono::steady_clock::now();
  const int reference_status =
      wait_status(start_launch(sweep, reference_db, log, {"--checkpoint-every", "0"}));
  const double reference_ms = std::chrono::duration<double, std::milli>(
                                  std::chrono::steady_clock::now() - reference_start)
                                  .count();
  REQUIRE(WIFEXITED(reference_status));
  REQUIRE(WEXITSTATUS(reference_status) == 0);
  const auto reference = read_runs(reference_db);
  REQUIRE(reference.size() == size_t(kJobs));

  // Kill, relaunch, kill, … at moments drawn from a fixed seed: the first few within the
  // first 60 ms (opening, schema creation, registering jobs), then anywhere in the sweep.
  const std::string db = dir.file("stressed.db");
  const std::vector<std::string> flags = {"--jobs", "2", "--checkpoint-every", "7"};
  Rng rng(20161008);
  int kills = 0, launches = 0;
  for (int attempt = 0; attempt < 40 && kills < 12; ++attempt) {
    // Later kills land anywhere in a window that scales with the build's speed (a sanitizer
    // build is many times slower), so that runs get far enough to checkpoint.
    const double max_ms = attempt < 3 ? 60 : std::max(1500.0, reference_ms / 6);
    const auto delay = std::chrono::microseconds(int64_t(rng.uniform() * max_ms * 1000));
    const pid_t pid = start_launch(sweep, db, log, flags);
    ++launches;
    std::this_thread::sleep_for(delay);
    kill(pid, SIGKILL);
    const int status = wait_status(pid);
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
      ++kills;
    } else {  // it finished before the kill: the sweep is done, nothing left to interrupt
      REQUIRE(WIFEXITED(status));
      REQUIRE(WEXITSTATUS(status) == 0);
      break;
    }
  }
  INFO("launch log:\n" << read_file(log));
  CHECK(kills >= 10);

  // Resume to the end, then once more: nothing is left to run.
  const int final_status = wait_status(start_launch(sweep, db, log, flags));
  REQUIRE(WIFEXITED(final_status));
  REQUIRE(WEXITSTATUS(final_status) == 0);
  const std::string before_last = read_file(log);
  REQUIRE(WEXITSTATUS(wait_status(start_launch(sweep, db, log, flags))) == 0);
  CHECK_THAT(read_file(log).substr(before_last.size()),
             Catch::Contains("ran 0 (") && Catch::Contains("skipped 12 already finished"));
  // Some runs must have continued from a checkpoint, or the resume path went untested.
  CHECK_THAT(before_last, Catch::Contains("resumed from a checkpoint"));

  CHECK(integrity(db) == "ok");
  const auto stressed = read_runs(db);
  REQUIRE(stressed.size() == size_t(kJobs));
  for (const auto& [key, expected] : reference) {
    INFO("run " << key);
    const auto& got = stressed.at(key);
    CHECK(got.state == results::RunState::kDone);
    REQUIRE(got.curve.size() == size_t(kIterations));
    for (size_t i = 0; i < got.curve.size(); ++i) {
      const auto &a = got.curve[i], &b = expected.curve[i];
      INFO("iteration " << b.iteration);
      REQUIRE(a.iteration == int64_t(i) + 1);
      CHECK(a.loss == b.loss);
      CHECK(a.train_accuracy == b.train_accuracy);
      CHECK(a.learning_rate == b.learning_rate);
      CHECK(a.active_blocks == b.active_blocks);
      CHECK(a.test_accuracy == b.test_accuracy);
      CHECK(a.test_loss == b.test_loss);
    }
    REQUIRE(got.evals.size() == expected.evals.size());
    for (size_t i = 0; i < got.evals.size(); ++i) {
      CHECK(got.evals[i].iteration == expected.evals[i].iteration);
      CHECK(got.evals[i].accuracy == expected.evals[i].accuracy);
      CHECK(got.evals[i].loss == expected.evals[i].loss);
    }
    CHECK(got.final_accuracy == expected.final_accuracy);
  }
  // Done runs leave no checkpoint behind.
  CHECK(std::filesystem::is_empty(db + ".checkpoints"));
  std::printf("survived %d SIGKILLs in %d launches\n", kills, launches + 2);
}
