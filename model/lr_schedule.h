// Learning-rate schedules, evaluated per iteration.
#pragma once

#include <cstdint>
#include <vector>

namespace stodepth {

enum class LrScheduleKind { kConstant, kStep, kCosine };

struct LrSchedule {
  LrScheduleKind kind = LrScheduleKind::kStep;
  double base = 0.1;
  // kStep: multiply by `gamma` at each milestone (in epochs, may be fractional). Empty
  // means the paper's: at 50% and 75% of training (epochs 250 and 375 of 500).
  std::vector<double> milestones;
  double gamma = 0.1;
  double floor = 0.0;          // kCosine: the rate reached at the last iteration
  double warmup_epochs = 0.0;  // linear ramp from base/warmup_iters to base, then the schedule
};

// The rate for 0-based `iteration` of a run of `total_iterations` with `iters_per_epoch`.
double learning_rate(const LrSchedule& schedule, int64_t iteration, int64_t iters_per_epoch,
                     int64_t total_iterations);

}  // namespace stodepth
