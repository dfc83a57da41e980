// The report's charts as data (svg::Chart and a caption), chosen from a Comparison: per pair,
// one seed's test-batch curves of both arms and the across-seed bands; over the sweep, final
// accuracy against p_L and depth and epoch time against depth. The HTML rendering draws them.
#pragma once

#include <string>
#include <vector>

#include "results/report/comparison.h"
#include "results/report/svg.h"

namespace stodepth::results {

struct Figure {
  svg::Chart chart;
  std::string caption;
};

// Test-batch accuracy and loss of the first seed both arms finished (if one did): raw values,
// each arm's moving average over `window` evaluations and its rolling std band, the learning
// rate; then, if an arm finished two seeds or more, both arms' mean ± std across seeds.
std::vector<Figure> pair_figures(const Comparison& comparison, const Pair& pair, size_t window);

// Final accuracy against p_L: one line per dataset, depth and rule, which the plain ResNet
// (p_L = 1) ends. Empty unless some line has two points.
std::vector<Figure> survival_figures(const Comparison& comparison);

// Final accuracy and training time per epoch against depth, one line per arm label; each
// chart only if some line has two points.
std::vector<Figure> depth_figures(const Comparison& comparison);

}  // namespace stodepth::results
