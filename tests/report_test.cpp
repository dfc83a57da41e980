// The comparison report from a generated database with known properties: the stochastic
// arm has twice the iteration-to-iteration noise and a higher final accuracy.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>


#include <fmt/format.h>

#include "model/config/config_codec.h"
#include "model/base/rng.h"
#include "results/report/report.h"
#include "tests/temp_dir.h"

using namespace stodepth;
using namespace stodepth::results;
namespace fs = std::filesystem;

namespace {

constexpr int kIterations = 400;
constexpr double kBaseNoise = 0.01;

// One finished run: test accuracy = a saturating trend + Gaussian noise at every iteration.
void add_run(Store& store, const std::string& sweep, double p_L, uint64_t seed, double noise,
             double final_accuracy, double step_ms, int warmup = 0) {
  TrainConfig c;
  c.data.name = "synthetic";
  c.model.depth = 20;
  c.sd.p_L = p_L;
  c.train.epochs = 4;
  c.train.seed = seed;
  const std::string key = fmt::format("run-{}-{}-{}", p_L, seed, warmup);
  c.train.lr.warmup_epochs = warmup;  // a setting without a column of its own
  const std::string json = canonical_config_json(c);
  REQUIRE(store.add_jobs({{key, sweep, c, json}}));
  REQUIRE(store.claim_run(key, false, "test:1", 2).value());
  Rng rng(seed * 31 + uint64_t(p_L * 100));
  std::vector<IterationRecord> rows;
  for (int it = 1; it <= kIterations; ++it) {
    IterationRecord r;
    r.iteration = it;
    r.epoch = (it - 1) / 100 + 1;
    r.learning_rate = 0.1;
    r.loss = 1.0 / it;
    r.train_accuracy = 0.5;
    r.active_blocks = 9;
    r.step_ms = step_ms;
    r.test_accuracy = final_accuracy - 0.3 * std::exp(-it / 50.0) + noise * rng.normal();
    r.test_loss = 1.0 - *r.test_accuracy;
    rows.push_back(r);
  }
  REQUIRE(store.append_iterations(key, rows));
  RunSummary s;
  s.iterations = kIterations;
  s.wall_seconds = step_ms * kIterations / 1000;
  s.mean_step_ms = step_ms;
  s.images_per_second = 128000 / step_ms;
  s.final_test_accuracy = final_accuracy;
  s.final_test_loss = 1 - final_accuracy;
  s.mean_active_blocks = p_L < 1 ? 6.5 : 9;
  s.expected_active_blocks = p_L < 1 ? 6.5 : 9;
  REQUIRE(store.finish_run(key, RunState::kDone, &s, ""));
}

std::unique_ptr<Store> generated(const std::string& name, const std::string& description) {
  auto store = Store::open(":memory:", OpenMode::kReadWrite);
  REQUIRE(store.ok());
  REQUIRE((*store)->register_sweep({name, description, "name: x\n<b>not bold</b>", "hash"}));
  const double base[] = {0.900, 0.905, 0.895, 0.902, 0.898};
  const double sd[] = {0.930, 0.928, 0.933, 0.931, 0.929};
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    add_run(**store, name, 1.0, seed, kBaseNoise, base[seed - 1], 100.0);
    add_run(**store, name, 0.5, seed, 2 * kBaseNoise, sd[seed - 1], 75.0);
  }
  return std::move(*store);
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("the comparison finds the direction and size of each effect", "[report]") {
  auto store = generated("noise", "two arms");
  ReportOptions options;
  options.smoothing = {stats::SmoothKind::kBox, 20};
  auto c = compare(*store, options);
  REQUIRE(c.ok());
  REQUIRE(c->pairs.size() == 1);
  const Pair& p = c->pairs[0];
  CHECK(p.baseline->config.sd.p_L == 1.0);
  CHECK(p.stochastic->config.sd.p_L == 0.5);
  CHECK(p.base.n == 5);
  // Twice the noise: the within-run std ratio is about 2 and the difference is significant
  // even on the thinned residuals (5 seeds × 100 tail points / window 20 = 25 per arm).
  REQUIRE(p.within_ratio.has_value());
  CHECK(*p.within_ratio == Approx(2.0).epsilon(0.2));
  REQUIRE(p.brown_forsythe_p.has_value());
  CHECK(*p.brown_forsythe_p < 0.01);
  REQUIRE(p.f_within_p.has_value());
  CHECK(*p.f_within_p < 0.01);
  // Accuracy: SD is 3 points better with a smaller spread; Welch's test sees it.
  CHECK(*p.sd.accuracy_mean - *p.base.accuracy_mean == Approx(0.0302).margin(1e-6));
  REQUIRE(p.welch_p.has_value());
  CHECK(*p.welch_p < 1e-4);
  CHECK(*p.across_ratio < 1.0);
  CHECK(*p.sd.ci_low < *p.sd.accuracy_mean);
  CHECK(*p.sd.ci_high > *p.sd.accuracy_mean);
  // Time: 100 ms vs 75 ms per step.
  CHECK(*p.realized_speedup == Approx(100.0 / 75.0));
  CHECK(*p.theoretical_speedup > 1.2);
  // The difference's Welch interval holds it and excludes 0; so clear a difference needs
  // few seeds; the curves saturate by iteration 300 (e^-6): neither is still improving.
  REQUIRE(p.difference);
  CHECK(p.difference->low > 0);
  CHECK(p.difference->low < 0.0302);
  CHECK(p.difference->high > 0.0302);
  REQUIRE(p.seeds_needed);
  CHECK(*p.seeds_needed <= 3);
  REQUIRE(p.sd.end_slope);
  CHECK_FALSE(p.sd.end_slope->still_improving);
  CHECK_FALSE(c->smoothing.clipped);
  CHECK(c->smoothing.shortest_run == kIterations);
  CHECK(c->stodepth_version == STODEPTH_VERSION);  // the build that compared, for the header
}

TEST_CASE("a smoothing wider than a quarter of the runs is clipped, and the report says so",
          "[report]") {
  auto store = generated("short", "two arms");
  ReportOptions options;
  options.smoothing = {stats::SmoothKind::kEwma, 150};
  auto c = compare(*store, options);
  REQUIRE(c.ok());
  CHECK(c->smoothing.clipped);
  CHECK(c->smoothing.requested.width == 150);
  CHECK(c->smoothing.used.width == kIterations / 4);
  CHECK(c->smoothing.used.kind == stats::SmoothKind::kEwma);
  stodepth::testing::TempDir dir;
  auto files = write_report(*c, options, dir.file("short.html"));
  REQUIRE(files.ok());
  const std::string warning =
      "Smoothing clipped: ewma:150 is wider than a quarter of the shortest run (400 "
      "evaluations); the report uses ewma:100.";
  CHECK(read(files->html).find(warning) != std::string::npos);
  CHECK(read(files->markdown).find("**Warning**: " + warning) != std::string::npos);
}

TEST_CASE("the report has every section, and text from the database is escaped", "[report]") {
  auto store = generated("evil", "<script>alert(1)</script> & friends");
  stodepth::testing::TempDir dir;
  auto comparison = compare(*store, ReportOptions{});
  REQUIRE(comparison.ok());
  auto files = write_report(*comparison, ReportOptions{}, dir.file("evil.html"));
  REQUIRE(files.ok());
  const std::string html = read(files->html);
  for (const char* heading : {">Sweep<", ">Accuracy<", ">Variance<", ">Training time<"})
    CHECK(html.find(heading) != std::string::npos);
  CHECK(html.find("<svg") != std::string::npos);
  CHECK(html.find("Test-batch accuracy per iteration") != std::string::npos);
  CHECK(html.find("across seeds") != std::string::npos);
  CHECK(html.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; friends") != std::string::npos);
  CHECK(html.find("&lt;b&gt;not bold&lt;/b&gt;") != std::string::npos);
  CHECK(html.find("<script") == std::string::npos);
  // Nothing is fetched: the only URL is the SVG namespace name, which is not a fetch.
  std::string without_namespace = html;
  const std::string svg_namespace = "xmlns=\"http://www.w3.org/2000/svg\"";
  for (size_t at; (at = without_namespace.find(svg_namespace)) != std::string::npos;)
    without_namespace.erase(at, svg_namespace.size());
  CHECK(without_namespace.find("http:") == std::string::npos);
  CHECK(without_namespace.find("https:") == std::string::npos);
  CHECK(html.find("Incomplete sweep") == std::string::npos);
  const std::string md = read(files->markdown);
  CHECK(md.find("| ResNet-20 | SD linear p_L = 0.5 | 5 |") != std::string::npos);
  REQUIRE(files->csv.size() == 3);
  CHECK(read(files->csv[0]).rfind("pair,arm,n,accuracy %", 0) == 0);
}

TEST_CASE("an unfinished sweep is reported with what exists, marked", "[report]") {
  auto store = generated("partial", "");
  TrainConfig c;
  c.data.name = "synthetic";
  c.model.depth = 20;
  c.sd.p_L = 0.5;
  c.train.seed = 9;
  REQUIRE(store->add_jobs({{"queued-run", "partial", c, canonical_config_json(c)}}));
  auto comparison = compare(*store, {});
  REQUIRE(comparison.ok());
  CHECK_FALSE(comparison->complete);
  CHECK(comparison->pairs.at(0).sd.n == 5);  // the queued run is not counted
  stodepth::testing::TempDir dir;
  auto files = write_report(*comparison, {}, dir.file("partial.html"));
  REQUIRE(files.ok());
  CHECK(read(files->html).find("Incomplete sweep") != std::string::npos);
}

TEST_CASE("runs that differ in a setting without a column are not pooled", "[report]") {
  auto store = Store::open(":memory:", OpenMode::kReadWrite);
  REQUIRE(store.ok());
  REQUIRE((*store)->register_sweep({"warm", "", "", "hash"}));
  for (int warmup : {0, 1})
    for (uint64_t seed = 1; seed <= 2; ++seed) {
      add_run(**store, "warm", 1.0, seed, kBaseNoise, 0.90, 100.0, warmup);
      add_run(**store, "warm", 0.5, seed, kBaseNoise, 0.91, 80.0, warmup);
    }
  auto c = compare(**store, {});
  REQUIRE(c.ok());
  REQUIRE(c->pairs.size() == 2);
  for (const Pair& p : c->pairs) {
    CHECK(p.base.n == 2);
    CHECK(p.sd.n == 2);
    CHECK_THAT(p.short_title, Catch::Contains("train.lr.warmup="));
  }
  CHECK(c->pairs[0].short_title != c->pairs[1].short_title);
}

TEST_CASE("a window of zero is refused, not a crash", "[report]") {
  auto store = generated("w", "");
  ReportOptions options;
  options.smoothing.width = 0;
  auto c = compare(*store, options);
  REQUIRE_FALSE(c.ok());
  CHECK_THAT(c.error().message, Catch::StartsWith("--smooth"));
}

TEST_CASE("a sweep name not in the database is refused with a hint", "[report]") {
  auto store = generated("quickstart", "");
  ReportOptions options;
  options.sweep = "quickstrat";
  auto c = compare(*store, options);
  REQUIRE_FALSE(c.ok());
  CHECK_THAT(c.error().message, Catch::Contains("did you mean 'quickstart'"));
}
