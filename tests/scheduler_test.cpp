#include "harness/scheduler.h"

#include <catch2/catch.hpp>

using stodepth::harness::choose_layout;
using stodepth::harness::LaunchOptions;

namespace {

LaunchOptions with(int jobs, int threads_per_job) {
  LaunchOptions options;
  options.jobs = jobs;
  options.threads_per_job = threads_per_job;
  return options;
}

}  // namespace

TEST_CASE("by default every core runs its own training") {
  const auto layout = choose_layout(LaunchOptions{}, /*sweep_jobs=*/8, /*cores=*/2);
  CHECK(layout.jobs == 2);
  CHECK(layout.threads_per_job == 1);
  const auto wide = choose_layout(LaunchOptions{}, 100, 16);
  CHECK(wide.jobs == 16);
  CHECK(wide.threads_per_job == 1);
}

TEST_CASE("by default a sweep of fewer jobs than cores shares the cores") {
  const auto single = choose_layout(LaunchOptions{}, /*sweep_jobs=*/1, /*cores=*/2);
  CHECK(single.jobs == 1);
  CHECK(single.threads_per_job == 2);
  const auto three = choose_layout(LaunchOptions{}, 3, 12);
  CHECK(three.jobs == 3);
  CHECK(three.threads_per_job == 4);
  const auto none = choose_layout(LaunchOptions{}, 0, 4);  // no jobs: still a valid layout
  CHECK(none.jobs == 1);
  CHECK(none.threads_per_job == 4);
}

TEST_CASE("threads per job alone decides how many jobs fit") {
  const auto layout = choose_layout(with(0, 2), 10, 8);
  CHECK(layout.jobs == 4);
  CHECK(layout.threads_per_job == 2);
  const auto more_than_cores = choose_layout(with(0, 4), 10, 2);
  CHECK(more_than_cores.jobs == 1);
  CHECK(more_than_cores.threads_per_job == 4);
}

TEST_CASE("explicit jobs are kept, threads split the cores among them") {
  const auto layout = choose_layout(with(1, 0), 8, 2);
  CHECK(layout.jobs == 1);
  CHECK(layout.threads_per_job == 2);
  const auto over = choose_layout(with(4, 0), 2, 2);  // the user's choice, even if idle
  CHECK(over.jobs == 4);
  CHECK(over.threads_per_job == 1);
  const auto both = choose_layout(with(3, 2), 8, 2);
  CHECK(both.jobs == 3);
  CHECK(both.threads_per_job == 2);
}

TEST_CASE("an unknown core count counts as one core") {
  const auto layout = choose_layout(LaunchOptions{}, 8, 0);
  CHECK(layout.jobs == 1);
  CHECK(layout.threads_per_job == 1);
}
