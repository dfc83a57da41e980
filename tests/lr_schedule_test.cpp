// Learning-rate schedules: step (explicit and the paper's milestones), cosine, warm-up.
#include <catch2/catch.hpp>

#include "model/config/lr_schedule.h"

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

TEST_CASE("constant warm-up holds warmup_lr, then the schedule starts at base (the paper's 1202 layers)") {
  LrSchedule paper;  // 0.01 for 10 epochs, then 0.1 divided by 10 at epochs 150 and 225
  paper.kind = LrScheduleKind::kStep;
  paper.base = 0.1;
  paper.milestones = {150, 225};
  paper.warmup_epochs = 10;
  paper.warmup_mode = WarmupMode::kConstant;
  paper.warmup_lr = 0.01;
  const int64_t per_epoch = 391, total = 300 * per_epoch;  // 50000 images, batch 128
  CHECK(learning_rate(paper, 0, per_epoch, total) == 0.01);
  CHECK(learning_rate(paper, 10 * per_epoch - 1, per_epoch, total) == 0.01);
  CHECK(learning_rate(paper, 10 * per_epoch, per_epoch, total) == 0.1);
  CHECK(learning_rate(paper, 150 * per_epoch - 1, per_epoch, total) == 0.1);
  CHECK(learning_rate(paper, 150 * per_epoch, per_epoch, total) == Approx(0.01));
  CHECK(learning_rate(paper, 225 * per_epoch, per_epoch, total) == Approx(0.001));

  LrSchedule linear = paper;  // the same length, ramped: base/warmup_iters .. base
  linear.warmup_mode = WarmupMode::kLinear;
  CHECK(learning_rate(linear, 0, per_epoch, total) == Approx(0.1 / 3910));
  CHECK(learning_rate(linear, 1954, per_epoch, total) == Approx(0.1 * 1955 / 3910));
}
