// LTTB thinning against small cases worked by hand, and its bounds on a long series.
#include "tools/serve/thinning.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <vector>

using stodepth::serve::lttb;
using stodepth::serve::thinning_label;

TEST_CASE("lttb: a short series is kept whole") {
  const std::vector<double> x = {1, 2, 3}, y = {5, 6, 7};
  CHECK(lttb(x, y, 3) == std::vector<size_t>{0, 1, 2});
  CHECK(lttb(x, y, 2000) == std::vector<size_t>{0, 1, 2});
  CHECK(thinning_label(3, 3) == "none");
}

TEST_CASE("lttb: one bucket keeps its peak") {
  // The middle bucket is points 1..3; the next bucket is the last point (4, 0). With the first
  // point at the origin the triangle's doubled area is 4·y: the peak y = 5 wins.
  const std::vector<double> x = {0, 1, 2, 3, 4}, y = {0, 1, 5, 2, 0};
  CHECK(lttb(x, y, 3) == std::vector<size_t>{0, 2, 4});
}

TEST_CASE("lttb: two buckets, each against the next bucket's mean") {
  // 8 points to 4: buckets [1, 4) and [4, 7). Bucket 1 against (0, 0) and the mean of points
  // 4..6, (5, 6): doubled areas |−5y + 6x| = 9, 7, 8 for points 1, 2, 3 → point 1. Bucket 2
  // against (1, 3) and the last point (7, 0): |−6(y − 3) + 3(1 − x)| = 39, 0, 51 → point 6.
  const std::vector<double> x = {0, 1, 2, 3, 4, 5, 6, 7}, y = {0, 3, 1, 2, 8, 1, 9, 0};
  CHECK(lttb(x, y, 4) == std::vector<size_t>{0, 1, 6, 7});
  CHECK(thinning_label(4, 8) == "lttb 4 of 8");
}

TEST_CASE("lttb: a long series is capped, keeps its ends and stays in order") {
  std::vector<double> x, y;
  for (int i = 0; i < 100000; ++i) {
    x.push_back(i);
    y.push_back(std::sin(i / 100.0) + (i == 54321 ? 50 : 0));
  }
  const auto kept = lttb(x, y, 2000);
  REQUIRE(kept.size() == 2000);
  CHECK(kept.front() == 0);
  CHECK(kept.back() == 99999);
  for (size_t i = 1; i < kept.size(); ++i) CHECK(kept[i] > kept[i - 1]);
  // A spike alone in its bucket survives.
  CHECK(std::find(kept.begin(), kept.end(), size_t(54321)) != kept.end());
  CHECK(thinning_label(kept.size(), x.size()) == "lttb 2000 of 100000");
}
