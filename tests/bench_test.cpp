// The bench's measurement of a tiny network: the FLOPs and the theoretical speedup it reports,
// against a hand count, and the rates, against its own step times.
#include "model/bench.h"

#include <catch2/catch.hpp>

#include "model/trainer.h"

using namespace stodepth;

namespace {

// ResNet-8 (one block per stage) on 1×8×8 images: forward conv FLOPs by hand,
// 2·Cin·Cout·k²·H'·W' each.
constexpr double kStem = 2.0 * 1 * 16 * 9 * 8 * 8;                                 // 18,432
constexpr double kBlock0 = 2 * (2.0 * 16 * 16 * 9 * 8 * 8);                        // 589,824
constexpr double kBlock1 = 2.0 * 16 * 32 * 9 * 4 * 4 + 2.0 * 32 * 32 * 9 * 4 * 4;  // 442,368
constexpr double kBlock2 = 2.0 * 32 * 64 * 9 * 2 * 2 + 2.0 * 64 * 64 * 9 * 2 * 2;  // 442,368

ThroughputBench tiny_bench() {
  ThroughputBench bench;
  bench.model.depth = 8;
  bench.p_L = 0.5;
  bench.input = {1, 8, 8};
  bench.batch = 4;
  bench.rounds = 3;
  bench.steps = 2;
  bench.warmup = 1;
  return bench;
}

}  // namespace

TEST_CASE("the bench reports the hand-counted FLOPs, their speedup and its rates") {
  use_openmp_threads(1);
  const auto t = measure_throughput(tiny_bench());
  REQUIRE(t);
  const double plain = kStem + kBlock0 + kBlock1 + kBlock2;  // 1,492,992
  // Linear rule, p_L = 0.5 over 3 blocks: survival 5/6, 2/3, 1/2.
  const double sd = kStem + 5.0 / 6 * kBlock0 + 2.0 / 3 * kBlock1 + 0.5 * kBlock2;  // 1,026,048
  // Forward, backward-data (not the stem's) and backward-weights.
  CHECK(t->plain_training_flops == Approx(3 * plain - kStem));
  CHECK(t->sd_training_flops == Approx(3 * sd - kStem));
  CHECK(t->theoretical_speedup == Approx(plain / sd));
  CHECK(t->plain_ms > 0);
  CHECK(t->sd_ms > 0);
  CHECK(t->plain_images_per_second == Approx(4 * 1000 / t->plain_ms));
  CHECK(t->sd_images_per_second == Approx(4 * 1000 / t->sd_ms));
  CHECK(t->speedup > 0);
}

TEST_CASE("the bench's sample mode computes every branch: the plain network's FLOPs") {
  use_openmp_threads(1);
  ThroughputBench bench = tiny_bench();
  bench.mode = DropMode::kSample;
  const auto t = measure_throughput(bench);
  REQUIRE(t);
  CHECK(t->sd_training_flops == Approx(t->plain_training_flops));
  CHECK(t->theoretical_speedup == Approx(1.0));
}

TEST_CASE("the f32 limit is a positive rate") {
  use_openmp_threads(1);
  const auto peak = measure_peak_gflops();
  REQUIRE(peak);
  // A 2048³ matmul on one core: far above 0.1 GFLOP/s, far below 10 TFLOP/s.
  CHECK(peak.value() > 0.1);
  CHECK(peak.value() < 1e4);
}
