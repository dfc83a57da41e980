#include "tools/serve/thinning.h"

#include <fmt/format.h>

#include <cmath>
#include <numeric>

namespace stodepth::serve {

std::vector<size_t> lttb(std::span<const double> x, std::span<const double> y, size_t max_points) {
  const size_t n = x.size();
  std::vector<size_t> kept;
  if (n <= max_points || max_points < 3) {
    kept.resize(n);
    std::iota(kept.begin(), kept.end(), size_t{0});
    return kept;
  }
  kept.reserve(max_points);
  kept.push_back(0);
  // The n - 2 points between the first and the last, in max_points - 2 buckets.
  const double every = double(n - 2) / double(max_points - 2);
  const auto bucket_start = [&](size_t b) {
    return std::min(n - 1, size_t(double(b) * every) + 1);
  };
  size_t previous = 0;
  for (size_t b = 0; b + 2 < max_points; ++b) {
    const size_t begin = bucket_start(b), end = bucket_start(b + 1);
    // The next bucket's mean (the last point itself after the last bucket).
    const size_t next_begin = end, next_end = b + 3 < max_points ? bucket_start(b + 2) : n;
    double mean_x = 0, mean_y = 0;
    for (size_t i = next_begin; i < next_end; ++i) {
      mean_x += x[i];
      mean_y += y[i];
    }
    mean_x /= double(next_end - next_begin);
    mean_y /= double(next_end - next_begin);
    size_t best = begin;
    double best_area = -1;
    for (size_t i = begin; i < end; ++i) {
      const double area = std::abs((x[previous] - mean_x) * (y[i] - y[previous]) -
                                   (x[previous] - x[i]) * (mean_y - y[previous]));
      if (area > best_area) {
        best_area = area;
        best = i;
      }
    }
    kept.push_back(best);
    previous = best;
  }
  kept.push_back(n - 1);
  return kept;
}

std::string thinning_label(size_t kept, size_t total) {
  if (kept >= total) return "none";
  return fmt::format("lttb {} of {}", kept, total);
}

}  // namespace stodepth::serve
