#include "model/config/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace stodepth {

double learning_rate(const LrSchedule& s, int64_t iteration, int64_t iters_per_epoch,
                     int64_t total_iterations) {
  const int64_t warmup = std::llround(s.warmup_epochs * double(iters_per_epoch));
  if (iteration < warmup) {
    return s.warmup_mode == WarmupMode::kConstant
               ? s.warmup_lr
               : s.base * double(iteration + 1) / double(warmup);
  }
  const double epoch = double(iteration) / double(iters_per_epoch);
  switch (s.kind) {
    case LrScheduleKind::kConstant:
      return s.base;
    case LrScheduleKind::kStep: {
      std::vector<double> milestones = s.milestones;
      if (milestones.empty()) {
        const double epochs = double(total_iterations) / double(iters_per_epoch);
        milestones = {0.5 * epochs, 0.75 * epochs};
      }
      const auto passed = std::count_if(milestones.begin(), milestones.end(),
                                        [&](double m) { return epoch >= m; });
      return s.base * std::pow(s.gamma, double(passed));
    }
    case LrScheduleKind::kCosine: {
      const double span = double(std::max<int64_t>(total_iterations - warmup - 1, 1));
      const double t = std::min(double(iteration - warmup) / span, 1.0);
      return s.floor + (s.base - s.floor) * 0.5 * (1.0 + std::cos(M_PI * t));
    }
  }
  return s.base;
}

}  // namespace stodepth
