// Smoothing of per-evaluation test-accuracy curves for the report: a trailing box window of
// W evaluations (moving_average, stats.h) or an exponentially weighted mean of span S — the
// batchflow notebook's smoothing (span 20) — as pandas Series.ewm(span=S, adjust=True).mean().
// Widths count evaluations, not iterations. Nothing here throws.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/base/result.h"

namespace stodepth::results::stats {

enum class SmoothKind { kBox, kEwma };

struct Smoothing {
  SmoothKind kind = SmoothKind::kBox;
  size_t width = 20;  // box: window W (evaluations); EWMA: span S (alpha = 2/(S + 1))
};

// "box:W" or "ewma:SPAN" with a whole number >= 1; the error names --smooth and the forms.
Result<Smoothing> parse_smoothing(std::string_view text);

// "box:20", "ewma:20": the form parse_smoothing reads.
std::string to_string(const Smoothing& s);

// One value per input point. Box: moving_average(x, W). EWMA with alpha = 2/(S + 1):
//   out[i] = Σ_{k=0..i} (1 − alpha)^k x[i − k] / Σ_{k=0..i} (1 − alpha)^k
// (pandas adjust=True: the first points are means of what exists so far, not pulled toward 0).
// A non-finite x[i] gives out[i] = NaN and no weight, but still ages the earlier points (as
// pandas ignore_na=False); later points are unaffected. Empty if width == 0.
std::vector<double> smooth(std::span<const double> x, const Smoothing& s);

struct ClippedSmoothing {
  Smoothing smoothing;
  bool clipped = false;  // the width was larger than a quarter of the run
};

// Caps the width at a quarter of the run's evaluations (at least 1): a window as long as the
// run would flatten the very curve being compared. The report warns when this clipped.
ClippedSmoothing clip_to_run(const Smoothing& s, size_t n_evaluations);

}  // namespace stodepth::results::stats
