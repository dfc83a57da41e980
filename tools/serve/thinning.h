// Thinning long series for drawing: a million-point curve is sent as at most `max_points`
// points chosen by Largest-Triangle-Three-Buckets (Steinarsson, 2013), which keeps the first
// and last points and, from each bucket between, the point making the largest triangle with
// the point kept before it and the mean of the next bucket: peaks and dips survive, flat
// stretches are sampled sparsely.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace stodepth::serve {

inline constexpr size_t kMaxPoints = 2000;  // per series, whatever a request asks

// The indices of the points kept (ascending): all of them when x.size() <= max_points, else
// max_points of them (max_points >= 3; x and y of equal size, x ascending, all finite).
std::vector<size_t> lttb(std::span<const double> x, std::span<const double> y, size_t max_points);

// What the response and the legend say: "none", or "lttb 2000 of 1000000".
std::string thinning_label(size_t kept, size_t total);

}  // namespace stodepth::serve
