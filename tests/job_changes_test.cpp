// How a sweep file's jobs differ from the stored ones (sweeps/job_changes.h): what an
// extension adds, and the refusal's account of changed and removed jobs.
#include "sweeps/job_changes.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace stodepth;
using namespace stodepth::sweeps;

namespace {

// depth × p_L × seeds on the synthetic set, `extra` added to base.
Sweep sweep(const std::string& depths, const std::string& p_Ls, const std::string& seeds,
            const std::string& extra = "") {
  auto parsed = parse_sweep(
      "name: t\n"
      "base:\n"
      "  dataset: {name: synthetic}\n"
      "  train: {iterations: 3" +
          extra +
          "}\n"
          "grid:\n"
          "  model.depth: " +
          depths + "\n  stochastic_depth.p_L: " + p_Ls + "\nseeds: " + seeds + "\n",
      "t.yaml");
  REQUIRE(parsed);
  return std::move(*parsed);
}

std::vector<StoredJob> stored(const Sweep& s) {
  std::vector<StoredJob> out;
  for (const auto& job : s.jobs) out.push_back({job.key, job.config_json});
  return out;
}

}  // namespace

TEST_CASE("integer ranges join consecutive numbers with an en dash") {
  CHECK(integer_ranges({}) == "");
  CHECK(integer_ranges({3}) == "3");
  CHECK(integer_ranges({4, 3}) == "3–4");
  CHECK(integer_ranges({5, 1, 2, 3, 9, 10, 2}) == "1–3, 5, 9–10");
}

TEST_CASE("the same jobs in another order change nothing") {
  const auto before = sweep("[8, 14]", "[1, 0.5]", "[1, 2]");
  const auto after = sweep("[14, 8]", "[0.5, 1]", "[2, 1]");
  REQUIRE(before.source_hash != after.source_hash);
  const auto changes = compare_jobs(stored(before), after);
  CHECK(changes.only_adds());
  CHECK(changes.added.empty());
  CHECK(changes.new_values.empty());
  CHECK(changes.lost.empty());
}

TEST_CASE("a file that adds seeds and axis values adds exactly the new jobs") {
  const auto before = sweep("[8, 14]", "[1, 0.5]", "[1, 2]");
  const auto after = sweep("[8, 14, 20]", "[1, 0.5]", "[1, 2, 3, 4]");
  const auto changes = compare_jobs(stored(before), after);
  REQUIRE(changes.only_adds());
  // 3 depths × 2 p_L × 4 seeds = 24, of which 2 × 2 × 2 = 8 stored.
  REQUIRE(changes.added.size() == 16);
  for (const Job* job : changes.added) {
    INFO(job->config_json);
    CHECK((job->config.model.depth == 20 || job->config.train.seed >= 3));
  }
  CHECK(changes.new_values == "seeds 3–4; model.depth 20");
  CHECK(changes.lost.empty());

  // One seed alone.
  CHECK(compare_jobs(stored(before), sweep("[8, 14]", "[1, 0.5]", "[1, 2, 7]")).new_values ==
        "seed 7");
}

TEST_CASE("a base setting edited changes every job the same way: one change, arms listed") {
  const auto before = sweep("[8, 14]", "[1, 0.5]", "[1, 2]");
  const auto after = sweep("[8, 14]", "[1, 0.5]", "[1, 2]", ", batch: 64");
  const auto changes = compare_jobs(stored(before), after);
  CHECK_FALSE(changes.only_adds());
  CHECK(changes.removed.size() == 8);
  CHECK(changes.added.size() == 8);
  CHECK(changes.lost ==
        "changes 8 jobs (train.batch 128 → 64 in seeds 1–2 of model.depth=8 "
        "stochastic_depth.p_L=1, seeds 1–2 of model.depth=8 stochastic_depth.p_L=0.5, seeds "
        "1–2 of model.depth=14 stochastic_depth.p_L=1 and 1 more)");
}

TEST_CASE("dropped seeds and a changed axis value are listed apart, each on the same line") {
  const auto before = sweep("[8, 14]", "[1, 0.5]", "[1, 2, 3]");
  // p_L 0.5 → 0.2 and seed 3 dropped.
  const auto after = sweep("[8, 14]", "[1, 0.2]", "[1, 2]");
  const auto changes = compare_jobs(stored(before), after);
  REQUIRE_FALSE(changes.only_adds());
  CHECK(changes.removed.size() == 8);  // 2 depths × (3 seeds of p_L 0.5, seed 3 of p_L 1)
  // Seeds 1–2 of p_L 0.5 have their p_L 0.2 counterpart; seed 3 has none.
  CHECK(changes.lost ==
        "changes 4 jobs (stochastic_depth.p_L 0.5 → 0.2 in seeds 1–2 of model.depth=8 "
        "stochastic_depth.p_L=0.5, seeds 1–2 of model.depth=14 stochastic_depth.p_L=0.5) and "
        "removes 4 jobs (seed 3 of model.depth=8 stochastic_depth.p_L=1, seed 3 of "
        "model.depth=8 stochastic_depth.p_L=0.5, seed 3 of model.depth=14 "
        "stochastic_depth.p_L=1 and 1 more)");
  CHECK(changes.lost.find('\n') == std::string::npos);
}

TEST_CASE("a stored sweep of one arm names its jobs by seed alone") {
  const auto before = sweep("[8]", "[0.5]", "[1, 2, 3, 4, 5]");
  const auto changes = compare_jobs(stored(before), sweep("[8]", "[0.5]", "[1]"));
  CHECK(changes.lost == "removes 4 jobs (seeds 2–5)");
  // Settings written only off their defaults read "(default)" where absent; values as the
  // canonical JSON writes them.
  const auto sampled = compare_jobs(stored(before), sweep("[8]", "[0.5]", "[1, 2, 3, 4, 5]",
                                                          "}\n  stochastic_depth: {mode: sample"));
  CHECK(sampled.lost ==
        "changes 5 jobs (stochastic_depth.mode (default) → \"sample\" in seeds 1–5)");
}

TEST_CASE("many different changes are counted past the first three") {
  // Every depth replaced: each stored job pairs with an added one of its seed, in order.
  const auto before = sweep("[8, 14, 20, 26, 32]", "[0.5]", "[1]");
  const auto changes = compare_jobs(stored(before), sweep("[38, 44, 50, 56, 62]", "[0.5]", "[1]"));
  CHECK(changes.removed.size() == 5);
  CHECK(changes.lost ==
        "changes 5 jobs (model.depth 8 → 38 in seed 1 of model.depth=8; model.depth 14 → 44 in "
        "seed 1 of model.depth=14; model.depth 20 → 50 in seed 1 of model.depth=20; and 2 other "
        "changes)");
}

TEST_CASE("a large sweep edited in two settings pairs its jobs in order past the budget") {
  // 50 depths × 30 p_L, one seed: each of the 1500 changed jobs two settings from every
  // added one, so the closest search would compare 1500 × 1500 pairs; past the budget the
  // jobs pair in order, which for an edited base is exact.
  std::string depths, p_Ls;
  for (int n = 1; n <= 50; ++n) depths += (n > 1 ? ", " : "") + std::to_string(6 * n + 2);
  for (int i = 1; i <= 30; ++i) p_Ls += (i > 1 ? ", " : "") + std::to_string(i / 30.0);
  const auto before = sweep("[" + depths + "]", "[" + p_Ls + "]", "[1]");
  REQUIRE(before.jobs.size() == 1500);
  const auto after =
      sweep("[" + depths + "]", "[" + p_Ls + "]", "[1]", ", batch: 64, momentum: 0.8");
  const auto changes = compare_jobs(stored(before), after);
  CHECK(changes.removed.size() == 1500);
  CHECK_THAT(changes.lost, Catch::StartsWith("changes 1500 jobs (train.batch 128 → 64, "
                                             "train.momentum 0.9 → 0.8 in seed 1 of "
                                             "model.depth=8 stochastic_depth.p_L="));
  CHECK_THAT(changes.lost, Catch::EndsWith(" and 1497 more)"));  // one change, all jobs in it
}
