// Approved baselines of the rendered report: the HTML, Markdown and CSV files that
// write_report() makes of a fixed fixture database are compared byte for byte with the
// approved copies in tests/approved/, as Catch2 checks its reporters. The substring tests
// (render_*_test) check what each part says; these catch any change of layout.
//
// On a mismatch the test writes what it received beside the build's other outputs,
// <build>/tests/received/<name>.received.<ext>, and prints the first differing line and the
// commands to compare and to approve. After an intended change of the report, regenerate
// the approved files and review them with git diff before committing:
//
//   tools/approve-reports                      (builds and runs this test in approve mode)
//   STODEPTH_APPROVE=1 ctest --test-dir build -R render_baseline
//
// The fixture fixes everything a report could take from the machine or the clock: the
// machine facts are recorded rows, the version is the Comparison's field, the store is in
// memory, and the report itself shows no date.
#include <fmt/format.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "model/config/config_codec.h"
#include "results/report/report.h"
#include "tests/temp_dir.h"

using namespace stodepth;
using namespace stodepth::results;
namespace fs = std::filesystem;

namespace {

const fs::path kApprovedDir = STODEPTH_APPROVED_DIR;
const fs::path kReceivedDir = STODEPTH_RECEIVED_DIR;

bool approving() {
  const char* approve = std::getenv("STODEPTH_APPROVE");
  return approve != nullptr && std::string(approve) == "1";
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
  out.close();
  REQUIRE(out.good());
}

// report.html → report.received.html: the received file keeps its type for viewers and diff.
fs::path received_path(const fs::path& received_dir, const std::string& name) {
  const fs::path p(name);
  return received_dir / (p.stem().string() + ".received" + p.extension().string());
}

// The first line where two texts differ, with up to 60 characters of each side from a little
// before the first differing column (report lines can be long: a chart's path is one line).
std::string first_difference(const std::string& approved, const std::string& received) {
  size_t at = 0;
  while (at < approved.size() && at < received.size() && approved[at] == received[at]) ++at;
  const size_t line_end = at == 0 ? std::string::npos : approved.rfind('\n', at - 1);
  const size_t from = line_end == std::string::npos ? 0 : line_end + 1;
  const size_t line = size_t(std::count(approved.begin(), approved.begin() + long(at), '\n')) + 1;
  const size_t shown = std::max(from, at >= 20 ? at - 20 : 0);
  const auto excerpt = [&](const std::string& text) {
    std::string s = text.substr(std::min(shown, text.size()), 60);
    std::replace(s.begin(), s.end(), '\n', ' ');
    return s;
  };
  return fmt::format("first difference at line {}, column {}:\n  approved: {}\n  received: {}",
                     line, at - from + 1, excerpt(approved), excerpt(received));
}

// Compares `received` with the approved file `name`. Equal: "" (and an old received file is
// removed). Different: the received bytes go to `received_dir` and the message says where the
// files differ and how to compare and approve them. When approving, `received` becomes the
// approved file.
std::string check_approved(const fs::path& approved_dir, const fs::path& received_dir,
                           const std::string& name, const std::string& received, bool approve) {
  const fs::path approved_path = approved_dir / name,
                 received_file = received_path(received_dir, name);
  if (approve) {
    write_bytes(approved_path, received);
    fs::remove(received_file);
    return "";
  }
  if (!fs::exists(approved_path)) {
    write_bytes(received_file, received);
    return fmt::format(
        "{}: no approved file; received output in {}; approve it with "
        "tools/approve-reports (or STODEPTH_APPROVE=1 ctest -R render_baseline)",
        approved_path.string(), received_file.string());
  }
  const std::string approved = read_bytes(approved_path);
  if (approved == received) {
    fs::remove(received_file);
    return "";
  }
  write_bytes(received_file, received);
  return fmt::format(
      "{} differs from what the report renders now; {}\n"
      "compare: diff -u {} {}\n"
      "if the change is intended: tools/approve-reports (or STODEPTH_APPROVE=1 ctest -R "
      "render_baseline), then review git diff tests/approved",
      approved_path.string(), first_difference(approved, received), approved_path.string(),
      received_file.string());
}

// The fixture: sweep "fixture", ResNet-8 (cosine schedule) and ResNet-14 (step schedule), each
// plain (p_L = 1) and with linear stochastic depth p_L = 0.5, seeds 1–3 (12 done runs on two
// recorded machines), and one failed run. 4 epochs of 10 iterations, a test-batch evaluation
// every 2 iterations, a 500-example validation split evaluated each epoch. Every number is a
// closed form of the run's settings: no random draws, no clock.
constexpr int kEpochs = 4, kStepsPerEpoch = 10, kEvalEvery = 2;

struct FixtureArm {
  int depth;
  double p_L;
  double final_accuracy[3];  // seeds 1, 2, 3
  double step_ms;
  double mean_active_blocks;
};

const FixtureArm kArms[] = {
    {8, 1.0, {0.861, 0.874, 0.868}, 20.0, 3.0},
    {8, 0.5, {0.872, 0.879, 0.885}, 16.0, 2.05},
    {14, 1.0, {0.889, 0.893, 0.884}, 34.0, 6.0},
    {14, 0.5, {0.905, 0.897, 0.903}, 25.5, 4.2},
};

TrainConfig fixture_config(int depth, double p_L, uint64_t seed) {
  TrainConfig c;
  c.data.name = "synthetic";
  c.data.train_subset = 1280;
  c.data.validation = 500;
  c.model.depth = depth;
  c.sd.p_L = p_L;
  c.train.epochs = kEpochs;
  c.train.batch = 128;
  c.train.seed = seed;
  c.train.lr.kind = depth == 8 ? LrScheduleKind::kCosine : LrScheduleKind::kStep;
  c.eval.every = kEvalEvery;
  return c;
}

// Seeds 1 and 2 trained on one machine, seed 3 on another.
MachineFacts machine_of(uint64_t seed) {
  if (seed < 3) return {"node-a", "Fixture CPU A @ 2.00GHz", "AVX2", 8, 2, "2.6.3"};
  return {"node-b", "Fixture CPU B @ 3.00GHz", "AVX-512", 16, 4, "2.6.3"};
}

std::string add_job(Store& store, int depth, double p_L, uint64_t seed) {
  const TrainConfig c = fixture_config(depth, p_L, seed);
  const std::string key = fmt::format("d{}-p{}-s{}", depth, p_L, seed);
  REQUIRE(store.add_jobs({{key, "fixture", c, canonical_config_json(c)}}));
  const MachineFacts machine = machine_of(seed);
  REQUIRE(store.claim_run(key, false, machine.host + ":100", machine.threads).value());
  REQUIRE(store.record_machine(key, machine));
  return key;
}

// A learning curve that rises to the run's final accuracy. Rational, not exp(): no libm
// function, whose last bit may depend on the CPU, enters the fixture.
double learning_curve(const FixtureArm& arm, uint64_t seed, int64_t iteration) {
  const double left = 4.0 / double(4 + iteration);
  return arm.final_accuracy[seed - 1] - 0.4 * left * left;
}

// The learning curve with a deterministic jitter, twice as large under stochastic depth.
double test_batch_accuracy(const FixtureArm& arm, uint64_t seed, int64_t iteration) {
  const double trend = learning_curve(arm, seed, iteration);
  const double jitter =
      0.004 * double((iteration * 37 + int64_t(seed) * 11 + arm.depth) % 9 - 4) / 4;
  return trend + (arm.p_L < 1 ? 2 : 1) * jitter;
}

void add_done_run(Store& store, const FixtureArm& arm, uint64_t seed) {
  const std::string key = add_job(store, arm.depth, arm.p_L, seed);
  const int64_t iterations = kEpochs * kStepsPerEpoch;
  std::vector<IterationRecord> rows;
  std::vector<TestEvalRecord> evals;
  for (int64_t it = 1; it <= iterations; ++it) {
    IterationRecord r;
    r.iteration = it;
    r.epoch = (it - 1) / kStepsPerEpoch + 1;
    r.learning_rate = 0.1;
    r.loss = 2.0 / double(it + 1);
    r.train_accuracy = 1 - r.loss / 2;
    r.active_blocks = int(std::lround(arm.mean_active_blocks));
    r.step_ms = arm.step_ms;
    if (it % kEvalEvery == 0) {
      r.test_accuracy = test_batch_accuracy(arm, seed, it);
      r.test_loss = 1 - *r.test_accuracy;
    }
    rows.push_back(r);
    if (it % kStepsPerEpoch == 0) {
      // The whole test set; validation peaks at epoch 3, so the paper's measure is not the last.
      const double accuracy = learning_curve(arm, seed, it);
      const double validation[] = {0.70, 0.80, 0.86, 0.85};
      evals.push_back({r.epoch, it, accuracy, 1 - accuracy,
                       validation[r.epoch - 1] + 0.001 * double(seed), 0.3});
    }
  }
  REQUIRE(store.append_iterations(key, rows));
  REQUIRE(store.append_test_evals(key, evals));
  RunSummary s;
  s.iterations = iterations;
  s.mean_step_ms = arm.step_ms + 0.1 * double(seed);
  s.train_seconds = s.mean_step_ms * double(iterations) / 1000;
  s.wall_seconds = s.train_seconds + 1.5;
  s.images_per_second = 128 * 1000 / s.mean_step_ms;
  s.mean_active_blocks = arm.mean_active_blocks;
  s.expected_active_blocks = arm.p_L < 1 ? (arm.depth == 8 ? 2.0 : 4.25) : arm.mean_active_blocks;
  s.final_test_accuracy = arm.final_accuracy[seed - 1];
  s.final_test_loss = 1 - arm.final_accuracy[seed - 1];
  REQUIRE(store.finish_run(key, RunState::kDone, &s, ""));
}

std::unique_ptr<Store> fixture_store() {
  auto store = Store::open(":memory:", OpenMode::kReadWrite);
  REQUIRE(store.ok());
  REQUIRE((*store)->register_sweep(
      {"fixture", "Fixed fixture: two depths & two survival probabilities",
       "name: fixture  # <fixed> & escaped\ngrid:\n  model.depth: [8, 14]\n"
       "  stochastic_depth.p_L: [1.0, 0.5]\nseeds: [1, 2, 3]\n",
       "fixture-hash"}));
  for (const FixtureArm& arm : kArms)
    for (uint64_t seed = 1; seed <= 3; ++seed) add_done_run(**store, arm, seed);
  const std::string failed = add_job(**store, 14, 0.5, 4);
  REQUIRE((*store)->finish_run(failed, RunState::kFailed, nullptr, "fixture: out of memory"));
  return std::move(*store);
}

// The report files of the fixture by file name (report.html, report.md, report-<table>.csv),
// rendered with the default options as `stodepth report` does.
std::map<std::string, std::string> fixture_report() {
  auto store = fixture_store();
  auto comparison = compare(*store, ReportOptions{});
  REQUIRE(comparison.ok());
  comparison->stodepth_version = "0.0.0-fixture";  // the build's version would change the bytes
  stodepth::testing::TempDir dir;
  auto files = write_report(*comparison, ReportOptions{}, dir.file("report.html"));
  REQUIRE(files.ok());
  std::map<std::string, std::string> out;
  for (const fs::path& path : fs::directory_iterator(dir.path()))
    out[path.filename().string()] = read_bytes(path);
  return out;
}

}  // namespace

TEST_CASE("the fixture's HTML, Markdown and CSV reports are the approved files, byte for byte",
          "[baseline]") {
  const auto report = fixture_report();
  std::set<std::string> rendered;
  for (const auto& [name, bytes] : report) rendered.insert(name);
  CHECK(rendered == std::set<std::string>{"report.html", "report.md", "report-accuracy.csv",
                                          "report-variance.csv", "report-timing.csv",
                                          "report-schedule.csv"});
  for (const auto& [name, bytes] : report) {
    const std::string mismatch =
        check_approved(kApprovedDir, kReceivedDir, name, bytes, approving());
    if (mismatch.empty()) continue;
    // Unwrapped on stderr, so that the paths and the diff command can be copied whole.
    std::cerr << mismatch << "\n\n";
    FAIL_CHECK(name << " is not the approved file (where it differs, and what to do: on stderr)");
  }
  // An approved file the report no longer writes is stale: approving removes it.
  if (!fs::exists(kApprovedDir)) return;
  for (const fs::path& path : fs::directory_iterator(kApprovedDir)) {
    const std::string name = path.filename().string();
    if (rendered.count(name) || name.front() == '.') continue;  // .gitattributes is git's
    if (approving()) {
      fs::remove(path);
    } else {
      FAIL_CHECK(
          fmt::format("{}: approved, but the report no longer writes it; "
                      "tools/approve-reports removes it",
                      path.string()));
    }
  }
}

TEST_CASE("the fixture's report is the same at every rendering and shows the fixture's facts",
          "[baseline]") {
  const auto first = fixture_report();
  CHECK(fixture_report() == first);
  const std::string& html = first.at("report.html");
  CHECK_THAT(html, Catch::Contains("<td>stodepth</td><td>0.0.0-fixture</td>"));
  CHECK_THAT(html, Catch::Contains("<td>runs</td><td>13 (12 done, 1 failed)</td>"));
  CHECK_THAT(html, Catch::Contains("host node-b"));
  CHECK_THAT(html, Catch::Contains("# &lt;fixed&gt; &amp; escaped"));
  for (const auto& [name, bytes] : first) {
    INFO(name);
    CHECK_THAT(bytes, !Catch::Contains(STODEPTH_VERSION));
  }
}

TEST_CASE(
    "a changed byte is a mismatch: the received file is written and the message says how "
    "to compare and approve",
    "[baseline]") {
  stodepth::testing::TempDir approved, received;
  write_bytes(approved.path() / "r.md", "# title\n\nsame line\nold line\n");
  const std::string message = check_approved(approved.path(), received.path(), "r.md",
                                             "# title\n\nsame line\nolD line\n", false);
  CHECK_THAT(message, Catch::Contains("first difference at line 4, column 3:\n"
                                      "  approved: old line \n  received: olD line "));
  CHECK_THAT(message, Catch::Contains("diff -u " + (approved.path() / "r.md").string() + " " +
                                      (received.path() / "r.received.md").string()));
  CHECK_THAT(message, Catch::Contains("tools/approve-reports"));
  CHECK(read_bytes(received.path() / "r.received.md") == "# title\n\nsame line\nolD line\n");

  SECTION("equal bytes pass and clear the old received file") {
    CHECK(check_approved(approved.path(), received.path(), "r.md",
                         "# title\n\nsame line\nold line\n", false)
              .empty());
    CHECK_FALSE(fs::exists(received.path() / "r.received.md"));
  }
  SECTION("a missing approved file fails") {
    CHECK_THAT(check_approved(approved.path(), received.path(), "new.csv", "a,b\n", false),
               Catch::Contains("no approved file"));
    CHECK(read_bytes(received.path() / "new.received.csv") == "a,b\n");
  }
  SECTION("approving writes the received bytes as the approved file") {
    CHECK(check_approved(approved.path(), received.path(), "r.md", "new\n", true).empty());
    CHECK(read_bytes(approved.path() / "r.md") == "new\n");
    CHECK_FALSE(fs::exists(received.path() / "r.received.md"));
  }
  SECTION("a shorter received file differs where it ends") {
    CHECK_THAT(check_approved(approved.path(), received.path(), "r.md", "# title\n", false),
               Catch::Contains("first difference at line 2, column 1"));
  }
}
