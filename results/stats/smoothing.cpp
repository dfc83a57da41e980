#include "results/stats/smoothing.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "results/stats/stats.h"

namespace stodepth::results::stats {

Result<Smoothing> parse_smoothing(std::string_view text) {
  const auto fail = [&] {
    return bad_input(fmt::format(
        "--smooth: '{}' is not a smoothing (use box:W for a trailing mean of W evaluations or "
        "ewma:SPAN for an exponential mean, e.g. box:20 or ewma:20)",
        text));
  };
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return fail();
  const std::string_view kind = text.substr(0, colon), number = text.substr(colon + 1);
  Smoothing s;
  if (kind == "box") {
    s.kind = SmoothKind::kBox;
  } else if (kind == "ewma") {
    s.kind = SmoothKind::kEwma;
  } else {
    return fail();
  }
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), s.width);
  if (ec != std::errc() || end != number.data() + number.size() || number.empty() || s.width < 1)
    return fail();
  return s;
}

std::string to_string(const Smoothing& s) {
  return fmt::format("{}:{}", s.kind == SmoothKind::kBox ? "box" : "ewma", s.width);
}

std::vector<double> smooth(std::span<const double> x, const Smoothing& s) {
  if (s.width == 0) return {};
  if (s.kind == SmoothKind::kBox) return moving_average(x, s.width);
  const double decay = 1 - 2.0 / (double(s.width) + 1);  // 1 − alpha
  std::vector<double> out(x.size());
  double weighted_sum = 0, weight = 0;  // Σ (1 − alpha)^k x[i − k], Σ (1 − alpha)^k
  for (size_t i = 0; i < x.size(); ++i) {
    weighted_sum *= decay;
    weight *= decay;
    if (!std::isfinite(x[i])) {
      out[i] = std::numeric_limits<double>::quiet_NaN();
      continue;
    }
    weighted_sum += x[i];
    weight += 1;
    out[i] = weighted_sum / weight;
  }
  return out;
}

ClippedSmoothing clip_to_run(const Smoothing& s, size_t n_evaluations) {
  const size_t cap = std::max<size_t>(1, n_evaluations / 4);
  if (s.width <= cap) return {s, false};
  return {{s.kind, cap}, true};
}

}  // namespace stodepth::results::stats
