// Checkpoints: the file format refuses damaged and foreign files, and a run resumed from a
// checkpoint produces exactly the metrics of an uninterrupted run.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "model/checkpoint.h"
#include "model/data/dataset.h"
#include "model/trainer.h"
#include "tests/temp_dir.h"
#include "tests/training_fixtures.h"

using namespace stodepth;
using stodepth::testing::RecordingSink;
using stodepth::testing::small_config;
using stodepth::testing::TempDir;

namespace {

// 10 batches per epoch with crops and flips, so that a resume crosses epoch boundaries and
// must restore the data order, the augmentation stream, the gates and the test cursor.
TrainConfig resumable_config() {
  TrainConfig c = small_config();
  c.train.iterations = 35;  // instead of small_config's epochs
  c.train.lr.kind = LrScheduleKind::kCosine;
  c.train.augment = {2, true};
  c.eval.every = 3;
  c.eval.batch = 128;
  return c;
}

const data::Dataset& small_synthetic() {
  static const data::Dataset d = data::make_synthetic(640, 300, 1, 28, 10, 5);
  return d;
}

// Every metric of iteration records `a` equals `b`'s exactly (step_ms aside: it is timing).
void require_identical(const std::vector<IterationRecord>& a,
                       const std::vector<IterationRecord>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO("iteration " << a[i].iteration);
    CHECK(a[i].iteration == b[i].iteration);
    CHECK(a[i].epoch == b[i].epoch);
    CHECK(a[i].learning_rate == b[i].learning_rate);
    CHECK(a[i].loss == b[i].loss);
    CHECK(a[i].train_accuracy == b[i].train_accuracy);
    CHECK(a[i].active_blocks == b[i].active_blocks);
    CHECK(a[i].test_accuracy == b[i].test_accuracy);
    CHECK(a[i].test_loss == b[i].test_loss);
  }
}

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write_bytes(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

}  // namespace

TEST_CASE("checkpoint files round-trip and refuse damaged ones", "[checkpoint]") {
  TempDir dir;
  const std::string path = dir.file("run.ckpt");
  Checkpoint original{"job-abc", 1234, {'s', 't', 'a', 't', 'e', '\0', '\xff'}};
  REQUIRE(write_checkpoint(path, original).ok());
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  auto read = read_checkpoint(path);
  REQUIRE(read.ok());
  CHECK(read->identity == "job-abc");
  CHECK(read->iteration == 1234);
  CHECK(read->state == original.state);

  const auto bytes = read_bytes(path);
  SECTION("one flipped bit fails the checksum") {
    for (size_t at : {size_t(24), bytes.size() - 1}) {  // the payload header, the state
      auto damaged = bytes;
      damaged[at] ^= 0x10;
      write_bytes(path, damaged);
      auto refused = read_checkpoint(path);
      REQUIRE_FALSE(refused.ok());
      CHECK_THAT(refused.error().message, Catch::Contains(path) &&
                                              Catch::Contains("checksum mismatch"));
      CHECK(refused.error().kind == ErrorKind::kDamaged);
    }
  }
  SECTION("a truncated file") {
    write_bytes(path, {bytes.begin(), bytes.end() - 3});
    auto refused = read_checkpoint(path);
    REQUIRE_FALSE(refused.ok());
    CHECK_THAT(refused.error().message, Catch::Contains("truncated"));
    CHECK(refused.error().kind == ErrorKind::kDamaged);
  }
  SECTION("a file that is not a checkpoint") {
    write_bytes(path, {'h', 'e', 'l', 'l', 'o'});
    auto refused = read_checkpoint(path);
    REQUIRE_FALSE(refused.ok());
    CHECK_THAT(refused.error().message, Catch::Contains("no stodepth checkpoint header"));
    CHECK(refused.error().kind == ErrorKind::kDamaged);
  }
  SECTION("a missing file") {
    auto refused = read_checkpoint(dir.file("none.ckpt"));
    REQUIRE_FALSE(refused.ok());
    CHECK_THAT(refused.error().message, Catch::Contains("none.ckpt"));
  }
}

TEST_CASE("a resumed run is bit-identical to an uninterrupted one", "[checkpoint][train]") {
  const TrainConfig config = resumable_config();
  RecordingSink reference;
  auto uninterrupted = train(config, small_synthetic(), reference);
  REQUIRE(uninterrupted.ok());
  REQUIRE(reference.iterations.size() == 35);

  TempDir dir;
  const Checkpointing checkpointing{dir.file("run.ckpt"), "job-1", 10};

  SECTION("from the last periodic checkpoint, as after a crash") {
    RecordingSink first;
    first.stop_after = 27;
    first.refuse_checkpoints_after = 20;  // the crash came before another could be written
    auto stopped = train(config, small_synthetic(), first, checkpointing);
    REQUIRE(stopped.ok());
    CHECK(stopped->status == RunStatus::kInterrupted);
    CHECK(first.checkpoints == std::vector<int64_t>{10, 20});

    RecordingSink second;
    auto resumed = train(config, small_synthetic(), second, checkpointing);
    REQUIRE(resumed.ok());
    CHECK(resumed->status == RunStatus::kDone);
    CHECK(second.plan.resumed_after == 20);
    const std::vector<IterationRecord> tail(reference.iterations.begin() + 20,
                                            reference.iterations.end());
    require_identical(second.iterations, tail);
    CHECK(resumed->iterations == 35);
    CHECK(resumed->final_test_accuracy == uninterrupted->final_test_accuracy);
    CHECK(resumed->final_test_loss == uninterrupted->final_test_loss);
    CHECK(resumed->mean_active_blocks == uninterrupted->mean_active_blocks);
    // Epoch ends 30 and 35 come after the resume; 10 and 20 were reported before it.
    REQUIRE(second.evals.size() == 2);
    CHECK(second.evals[0].accuracy == reference.evals[2].accuracy);
    CHECK(second.evals[1].loss == reference.evals[3].loss);
  }
  SECTION("from the checkpoint an interruption writes") {
    RecordingSink first;
    first.stop_after = 23;
    REQUIRE(train(config, small_synthetic(), first, checkpointing).ok());
    CHECK(first.checkpoints == std::vector<int64_t>{10, 20, 23});

    RecordingSink second;
    auto resumed = train(config, small_synthetic(), second, checkpointing);
    REQUIRE(resumed.ok());
    CHECK(second.plan.resumed_after == 23);
    const std::vector<IterationRecord> tail(reference.iterations.begin() + 23,
                                            reference.iterations.end());
    require_identical(second.iterations, tail);
    CHECK(resumed->final_test_accuracy == uninterrupted->final_test_accuracy);
  }
  SECTION("another run's checkpoint is refused") {
    RecordingSink first;
    first.stop_after = 12;
    REQUIRE(train(config, small_synthetic(), first, checkpointing).ok());
    RecordingSink second;
    auto refused =
        train(config, small_synthetic(), second, {checkpointing.path, "job-2", 10});
    REQUIRE_FALSE(refused.ok());
    CHECK_THAT(refused.error().message,
               Catch::Contains("run.ckpt") && Catch::Contains("another run"));
    CHECK(second.iterations.empty());
  }
  SECTION("a checkpoint other than the one the caller expects is refused") {
    RecordingSink first;
    first.stop_after = 12;
    REQUIRE(train(config, small_synthetic(), first, checkpointing).ok());
    Checkpointing expecting = checkpointing;
    expecting.resume_from = 10;
    RecordingSink second;
    auto refused = train(config, small_synthetic(), second, expecting);
    REQUIRE_FALSE(refused.ok());
    CHECK_THAT(refused.error().message, Catch::Contains("holds iteration 12, expected 10"));
    expecting.path = dir.file("gone.ckpt");
    refused = train(config, small_synthetic(), second, expecting);
    REQUIRE_FALSE(refused.ok());
    CHECK_THAT(refused.error().message, Catch::Contains("is gone"));
  }
  SECTION("a checkpoint of another dataset size is refused") {
    RecordingSink first;
    first.stop_after = 12;
    REQUIRE(train(config, small_synthetic(), first, checkpointing).ok());
    const data::Dataset bigger = data::make_synthetic(960, 300, 1, 28, 10, 5);
    RecordingSink second;
    auto refused = train(config, bigger, second, checkpointing);
    REQUIRE_FALSE(refused.ok());
    CHECK_THAT(refused.error().message, Catch::Contains("written for 640 training examples"));
  }
  SECTION("a checkpoint that cannot be written stops the run, resumable") {
    RecordingSink first;
    auto stopped =
        train(config, small_synthetic(), first, {dir.file("missing/dir/run.ckpt"), "job-1", 10});
    REQUIRE_FALSE(stopped.ok());
    CHECK(stopped.error().kind == ErrorKind::kStorage);
    CHECK_THAT(stopped.error().message, Catch::Contains("missing/dir/run.ckpt.tmp: cannot create"));
    CHECK(first.iterations.size() == 10);
  }
  SECTION("a checkpoint of a different network is refused") {
    RecordingSink first;
    first.stop_after = 12;
    REQUIRE(train(config, small_synthetic(), first, checkpointing).ok());
    TrainConfig wider = config;
    wider.model.width = 2;
    RecordingSink second;
    auto refused = train(wider, small_synthetic(), second, checkpointing);
    REQUIRE_FALSE(refused.ok());
    CHECK_THAT(refused.error().message, Catch::Contains("does not fit this network"));
  }
}
