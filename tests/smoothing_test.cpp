// Tests for results/stats/smoothing: the EWMA against its weights written out by hand and
// against pandas' definition (Series.ewm(span=S, adjust=True).mean(): out[i] = Σ w_k x[i−k] /
// Σ w_k, w_k = (1 − alpha)^k, alpha = 2/(S + 1)), evaluated term by term in plain Python 3.
#include "results/stats/smoothing.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <vector>

#include "results/stats/stats.h"

using namespace stodepth::results::stats;

namespace {

Approx rel(double expected) { return Approx(expected).epsilon(1e-12); }

}  // namespace

TEST_CASE("EWMA, span 3 on 4 points, by hand") {
  // alpha = 2/(3 + 1) = 0.5, weights 1, 0.5, 0.25, 0.125 from the newest point back:
  //   out0 = 1
  //   out1 = (2 + 0.5·1) / (1 + 0.5)                        = 2.5/1.5     = 5/3
  //   out2 = (3 + 0.5·2 + 0.25·1) / (1.75)                  = 4.25/1.75   = 17/7
  //   out3 = (4 + 0.5·3 + 0.25·2 + 0.125·1) / (1.875)       = 6.125/1.875 = 49/15
  const std::vector<double> x = {1, 2, 3, 4};
  const auto out = smooth(x, {SmoothKind::kEwma, 3});
  REQUIRE(out.size() == 4);
  CHECK(out[0] == 1.0);
  CHECK(out[1] == rel(5.0 / 3));
  CHECK(out[2] == rel(17.0 / 7));
  CHECK(out[3] == rel(49.0 / 15));
}

TEST_CASE("EWMA, span 20 (the batchflow notebook's), matches pandas' weighted means") {
  const std::vector<double> x = {90.0, 91.5, 91.0, 92.5, 92.0, 93.5, 93.0, 92.5};
  // [sum((1-a)**k * x[i-k] for k in range(i+1)) / sum((1-a)**k for k in range(i+1))], a = 2/21
  const std::vector<double> expected = {90.0,
                                        90.78750000000001,
                                        90.86552872606163,
                                        91.33737531172069,
                                        91.49765858500177,
                                        91.920061161811,
                                        92.12425086567124,
                                        92.18920099160049};
  const auto out = smooth(x, {SmoothKind::kEwma, 20});
  REQUIRE(out.size() == expected.size());
  for (size_t i = 0; i < x.size(); ++i) CHECK(out[i] == rel(expected[i]));
}

TEST_CASE("EWMA span 1 is the series itself; box is the trailing moving average") {
  const std::vector<double> x = {3, 1, 4, 1, 5};
  CHECK(smooth(x, {SmoothKind::kEwma, 1}) == x);  // alpha = 1: only the newest point
  CHECK(smooth(x, {SmoothKind::kBox, 2}) == moving_average(x, 2));
  CHECK(smooth(x, {SmoothKind::kBox, 0}).empty());
}

TEST_CASE("EWMA: a non-finite point is NaN, has no weight, but ages the points before it") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const auto out = smooth(std::vector<double>{1, nan, 3}, {SmoothKind::kEwma, 3});
  REQUIRE(out.size() == 3);
  CHECK(out[0] == 1.0);
  CHECK(std::isnan(out[1]));
  CHECK(out[2] == rel((3 + 0.25 * 1) / (1 + 0.25)));  // the 1 is two steps old: weight 0.25
}

TEST_CASE("parse_smoothing reads box:W and ewma:SPAN and names --smooth on bad input") {
  auto box = parse_smoothing("box:20");
  REQUIRE(box);
  CHECK(box->kind == SmoothKind::kBox);
  CHECK(box->width == 20);
  auto ewma = parse_smoothing("ewma:7");
  REQUIRE(ewma);
  CHECK(ewma->kind == SmoothKind::kEwma);
  CHECK(ewma->width == 7);
  CHECK(to_string(*ewma) == "ewma:7");
  for (const char* bad :
       {"", "box", "box:", "box:0", "box:-3", "box:2.5", "gauss:3", "ewma:3x", "ewma 20", ":20"}) {
    auto r = parse_smoothing(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("--smooth") != std::string::npos);
    CHECK(r.error().message.find("box:W") != std::string::npos);
    CHECK(r.error().message.find("ewma:SPAN") != std::string::npos);
  }
}

TEST_CASE("clip_to_run caps the width at a quarter of the run, at least 1") {
  const Smoothing s{SmoothKind::kEwma, 20};
  auto long_run = clip_to_run(s, 80);  // 80/4 = 20: fits exactly
  CHECK_FALSE(long_run.clipped);
  CHECK(long_run.smoothing.width == 20);
  auto short_run = clip_to_run(s, 79);  // 79/4 → 19
  CHECK(short_run.clipped);
  CHECK(short_run.smoothing.width == 19);
  CHECK(short_run.smoothing.kind == SmoothKind::kEwma);
  auto tiny = clip_to_run(s, 2);
  CHECK(tiny.clipped);
  CHECK(tiny.smoothing.width == 1);
  CHECK_FALSE(clip_to_run({SmoothKind::kBox, 1}, 0).clipped);
}
