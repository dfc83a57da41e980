// What the sample statistics share (stats.h, intervals.h, equivalence.h): the usable-sample
// check, sample moments, and the unequal-variance (Welch) difference of two means.
#pragma once

#include <optional>
#include <span>

namespace stodepth::results::stats {

// At least 2 points, all finite.
bool usable(std::span<const double> x);

struct Moments {
  double mean = 0, variance = 0;  // sample variance, n − 1
};
// Two passes. Precondition: usable(x).
Moments moments(std::span<const double> x);

// mean(a) − mean(b), its standard error √(s²a/na + s²b/nb) and Welch–Satterthwaite df.
// nullopt if a sample is not usable or both have zero variance.
struct WelchDifference {
  double difference = 0, standard_error = 0, df = 0;
};
std::optional<WelchDifference> welch_difference(std::span<const double> a,
                                                std::span<const double> b);

// The half-width of the t interval around d.difference whose upper tail holds `upper_tail`:
// t_{1 − upper_tail, df} · standard_error (a two-sided 1 − 2·upper_tail interval).
double welch_half_width(const WelchDifference& d, double upper_tail);

}  // namespace stodepth::results::stats
