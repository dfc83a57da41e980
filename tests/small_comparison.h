// A Comparison built by hand for the tests of the renderings, small enough to check their
// numbers by hand: one pair, ResNet-20 plain vs SD linear p_L = 0.5, two done seeds per arm,
// four evaluations per run, and statistics chosen to exercise each cell format.
#pragma once

#include <string>
#include <vector>

#include "model/config/config_codec.h"
#include "results/report/comparison.h"
#include "results/report/machines.h"

namespace stodepth::testing {

// A done run of ResNet-20 on "synthetic".
inline results::RunRow done_run(const std::string& key, double p_L, uint64_t seed, int threads,
                                double final_accuracy, double step_ms) {
  results::RunRow r;
  r.key = key;
  r.sweep = "small";
  r.state = results::RunState::kDone;
  r.config.data.name = "synthetic";
  r.config.model.depth = 20;
  r.config.sd.p_L = p_L;
  r.config.train.seed = seed;
  r.config_json = canonical_config_json(r.config);
  r.threads = threads;
  r.machine = {"node1", "Test CPU", "TEST-ISA", 8, threads, "9.8.7"};
  r.final_test_accuracy = final_accuracy;
  r.mean_step_ms = step_ms;
  return r;
}

// Evaluated at iterations 10, 20, 30, 40; 20 training steps per epoch.
inline results::RunSeries four_evaluations(std::vector<double> accuracy) {
  results::RunSeries s;
  s.eval_iterations = {10, 20, 30, 40};
  s.test_loss = {1.0 - accuracy[0], 1.0 - accuracy[1], 1.0 - accuracy[2], 1.0 - accuracy[3]};
  s.test_accuracy = std::move(accuracy);
  s.iterations = {10, 20, 30, 40};
  s.learning_rate = {0.1, 0.1, 0.01, 0.01};
  s.steps_per_epoch = 20;
  return s;
}

// Move it, never copy it: the pair points into its arms.
inline results::Comparison small_comparison() {
  using results::Arm;
  results::Comparison c;
  c.sweep = {"small", "hand-built", "name: small\n", "hash"};
  const auto base1 = done_run("base-1", 1.0, 1, 2, 0.89, 100),
             base2 = done_run("base-2", 1.0, 2, 4, 0.91, 100),
             sd1 = done_run("sd-1", 0.5, 1, 2, 0.92, 80),
             sd2 = done_run("sd-2", 0.5, 2, 4, 0.94, 80);
  c.arms.push_back(Arm{"ResNet (p_L = 1)", base1.config, {base1, base2}});
  c.arms.push_back(Arm{"SD linear p_L = 0.5", sd1.config, {sd1, sd2}});
  c.series["base-1"] = four_evaluations({0.5, 0.7, 0.8, 0.89});
  c.series["base-2"] = four_evaluations({0.5, 0.7, 0.8, 0.91});
  c.series["sd-1"] = four_evaluations({0.5, 0.6, 0.9, 0.92});
  c.series["sd-2"] = four_evaluations({0.5, 0.8, 0.9, 0.94});
  c.status_counts = {{"done", 4}};
  c.machines = results::machine_groups(c.arms);  // threads 2 and 4: two groups

  results::Pair p;
  p.title = "synthetic, ResNet-20";
  p.short_title = "ResNet-20";
  p.baseline = &c.arms[0];
  p.stochastic = &c.arms[1];
  p.base.n = 2;
  p.base.accuracy_mean = 0.90;
  p.base.accuracy_std = 0.01;
  p.base.ci_low = 0.88, p.base.ci_high = 0.92;
  p.base.best = 0.91;
  p.base.within_run_std = 0.005;
  p.base.step_ms = 100, p.base.wall_seconds = 40, p.base.images_per_second = 1280;
  p.base.mean_active = 9, p.base.expected_active = 9;
  p.sd.n = 2;
  p.sd.accuracy_mean = 0.93;
  p.sd.accuracy_std = 0.02;
  p.sd.ci_low = 0.9, p.sd.ci_high = 0.96;
  p.sd.best = 0.94;
  p.sd.within_run_std = 0.01;
  p.sd.step_ms = 80, p.sd.wall_seconds = 32, p.sd.images_per_second = 1600;
  p.sd.mean_active = 6.5, p.sd.expected_active = 6.75;
  p.welch_p = 0.00001;  // below 1e-4: printed as "<0.0001"
  p.within_ratio = 2, p.across_ratio = 2;
  p.brown_forsythe_p = 0.0123, p.f_within_p = 0.5;  // f_across_p: unknown ("–")
  p.realized_speedup = 1.25, p.theoretical_speedup = 4.0 / 3.0;
  c.pairs.push_back(std::move(p));
  return c;
}

}  // namespace stodepth::testing
