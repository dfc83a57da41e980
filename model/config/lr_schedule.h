// Learning-rate schedules, evaluated per iteration.
#pragma once

#include <cstdint>
#include <vector>

namespace stodepth {

enum class LrScheduleKind { kConstant, kStep, kCosine };

// kLinear: ramp from base/warmup_iters up to base. kConstant: hold warmup_lr, then jump to
// the schedule (the paper's 1202-layer run: 0.01 for the first 10 epochs, then 0.1).
enum class WarmupMode { kLinear, kConstant };

struct LrSchedule {
  LrScheduleKind kind = LrScheduleKind::kStep;
  double base = 0.1;
  // kStep: multiply by `gamma` at each milestone (in epochs, may be fractional). Empty
  // means the paper's: at 50% and 75% of training (epochs 250 and 375 of 500).
  std::vector<double> milestones;
  double gamma = 0.1;
  double floor = 0.0;          // kCosine: the rate reached at the last iteration
  double warmup_epochs = 0.0;  // the warm-up's length; then the schedule
  WarmupMode warmup_mode = WarmupMode::kLinear;
  double warmup_lr = 0.01;  // kConstant: the rate held during warm-up
};

// The rate for 0-based `iteration` of a run of `total_iterations` with `iters_per_epoch`.
double learning_rate(const LrSchedule& schedule, int64_t iteration, int64_t iters_per_epoch,
                     int64_t total_iterations);

}  // namespace stodepth
