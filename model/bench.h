// Training throughput of the engine (`stodepth bench`): the plain and the stochastic network
// measured in alternating rounds in one process, so that their ratio is robust to a noisy
// machine, and the machine's f32 limit that the throughput is a share of.
#pragma once

#include "model/base/result.h"
#include "model/config/config.h"
#include "model/config/flops.h"
#include "model/config/survival.h"

namespace stodepth {

// The side of the square matmul whose rate is the machine's f32 limit.
inline constexpr int kPeakMatmulSize = 2048;

// The machine's limit at `precision` as oneDNN reaches it: a kPeakMatmulSize³ matmul (bf16:
// bf16 inputs, f32 output), large enough to be compute-bound, on this thread's OpenMP team and
// ISA. Median GFLOP/s of 5 runs after one warm-up. bf16 where the CPU has no bf16 arithmetic
// is check_precision's Error.
Result<double> measure_peak_gflops(Precision precision = Precision::kF32);

// One depth's measurement: the network (its depth and shortcut), the stochastic network's
// survival rule, p_L and drop mode, the fixed batch both train on (random images, labels
// i mod 10), and the schedule.
struct ThroughputBench {
  ModelConfig model;
  SurvivalRule rule = SurvivalRule::kLinear;
  double p_L = 0.5;
  DropMode mode = DropMode::kBatch;
  Precision precision = Precision::kF32;  // of both networks
  InputShape input;
  int batch = 128;
  int rounds = 5, steps = 4, warmup = 3;  // timed rounds of `steps` each, after `warmup` steps
};

struct Throughput {
  // Median ms of a training step (gates or keep decisions, forward, backward, SGD update).
  double plain_ms = 0, sd_ms = 0;
  double plain_images_per_second = 0, sd_images_per_second = 0;
  double speedup = 0;              // median over the rounds of plain ms / stochastic ms
  double theoretical_speedup = 0;  // from the expected active convolution FLOPs
  // Expected training FLOPs per image (convolutions forward, backward-data and
  // backward-weights), over the blocks each network computes.
  double plain_training_flops = 0, sd_training_flops = 0;
};

// Trains both networks on the OpenMP threads of this thread (see use_openmp_threads). The
// model must have a valid depth (6n+2); a precision this CPU cannot train at is
// check_precision's Error.
Result<Throughput> measure_throughput(const ThroughputBench& bench);

}  // namespace stodepth
