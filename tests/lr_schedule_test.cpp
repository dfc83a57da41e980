// Learning-rate schedules: step (explicit and the paper's milestones), cosine, warm-up.
#include <catch2/catch.hpp>

#include "model/lr_schedule.h"

using namespace stodepth;

TEST_CASE("learning-rate schedules", "[schedule]") {
  LrSchedule step;
  step.kind = LrScheduleKind::kStep;
  step.base = 0.1;
  step.milestones = {2, 3};
  // 10 iterations per epoch, 50 in all.
  CHECK(learning_rate(step, 0, 10, 50) == Approx(0.1));
  CHECK(learning_rate(step, 19, 10, 50) == Approx(0.1));
  CHECK(learning_rate(step, 20, 10, 50) == Approx(0.01));
  CHECK(learning_rate(step, 30, 10, 50) == Approx(0.001));
  step.milestones.clear();  // the paper's 50% / 75%
  CHECK(learning_rate(step, 24, 10, 50) == Approx(0.1));
  CHECK(learning_rate(step, 25, 10, 50) == Approx(0.01));
  CHECK(learning_rate(step, 38, 10, 50) == Approx(0.001));

  LrSchedule cosine;
  cosine.kind = LrScheduleKind::kCosine;
  cosine.base = 0.2;
  cosine.floor = 0.02;
  CHECK(learning_rate(cosine, 0, 10, 101) == Approx(0.2));
  CHECK(learning_rate(cosine, 50, 10, 101) == Approx(0.11));  // midpoint: (0.2 + 0.02) / 2
  CHECK(learning_rate(cosine, 100, 10, 101) == Approx(0.02));

  LrSchedule warm;
  warm.kind = LrScheduleKind::kConstant;
  warm.base = 0.4;
  warm.warmup_epochs = 0.5;  // 5 iterations
  CHECK(learning_rate(warm, 0, 10, 100) == Approx(0.08));
  CHECK(learning_rate(warm, 4, 10, 100) == Approx(0.4));
  CHECK(learning_rate(warm, 70, 10, 100) == Approx(0.4));
}
