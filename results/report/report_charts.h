// The report's charts as data (svg::Chart and a caption), chosen from a Comparison: per pair,
// one seed's test-batch curves of both arms and the across-seed bands; over the sweep, final
// accuracy against p_L and depth and epoch time against depth. The HTML rendering draws them.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "results/report/comparison.h"
#include "results/report/svg.h"

namespace stodepth::results {

struct Figure {
  svg::Chart chart;
  std::string caption;
  std::optional<svg::Heatmap> heatmap;  // drawn instead of `chart` when set
};

// Test-batch accuracy and loss of the first seed both arms finished (if one did): raw values,
// each arm's smoothed curve (`smoothing`) and its rolling std band over the smoothing's width,
// the learning rate; then, if an arm finished two seeds or more, both arms' mean ± std across
// seeds. Accuracy axes stay within [0, 1] (a band or error bar past 1 is cut at the frame).
std::vector<Figure> pair_figures(const Comparison& comparison, const Pair& pair,
                                 const stats::Smoothing& smoothing);

// Final accuracy against p_L: one line per dataset, depth and rule (and drop mode, when the
// sweep varies it), which the plain ResNet (p_L = 1) ends. Empty unless some line has two
// points.
std::vector<Figure> survival_figures(const Comparison& comparison);

// Final accuracy and training time per epoch against depth, one line per arm label (which
// names the drop mode when it varies); each
// chart only if some line has two points.
std::vector<Figure> depth_figures(const Comparison& comparison);

// The paper's Fig. 8: mean final test error (%) over seeds on the depth × p_L grid, a heatmap
// with the values in the cells, one per dataset, rule and drop mode whose arms span at least
// two depths and two values of p_L (the plain ResNets are the p_L = 1 column). Else empty.
std::vector<Figure> depth_survival_figures(const Comparison& comparison);

}  // namespace stodepth::results
