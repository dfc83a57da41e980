// Line, point, band and error-bar charts as inline SVG strings for the HTML report: no
// script, no fonts, no external references. Colours are the Okabe–Ito colour-blind-safe
// palette; all text is escaped.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace stodepth::results::svg {

// The Okabe–Ito palette, in the order series take it.
inline constexpr const char* kPalette[] = {"#0072B2", "#E69F00", "#009E73", "#D55E00",
                                           "#CC79A7", "#56B4E9", "#F0E442", "#000000"};

// Series longer than this are decimated to keep report files small: lines (and their bands)
// to the minimum and maximum of each pixel column, spikes included; points by even sampling,
// which keeps the density of a noisy cloud.
inline constexpr size_t kMaxPointsPerSeries = 2000;

struct Series {
  enum Style {
    kLine,         // a line
    kFaintPoints,  // small low-opacity dots, e.g. per-iteration training accuracy
    kMarkers,      // markers, with error bars if `error` is set
    kLineMarkers,  // both
  };
  std::string label;  // the legend text; empty: not in the legend
  std::vector<double> x, y;
  std::optional<std::vector<double>> band_low, band_high;  // a shaded band, both or neither
  // Index into kPalette. -1: automatic; automatic series take the palette in order, skipping
  // colours some series claims explicitly, and cycle when it runs out.
  int color = -1;
  Style style = kLine;
  bool dashed = false;
  std::optional<std::vector<double>> error;  // ± error bars (kMarkers and kLineMarkers)
  bool secondary_axis = false;  // plotted against the right-hand y axis; the legend says so
};

struct Chart {
  std::string title, x_label, y_label, y2_label;  // y2: the secondary (right) axis
  std::vector<Series> series;
  int width = 720, height = 360;
  std::optional<std::pair<double, double>> y_range;  // fixed primary y range; else from data
  bool x_log = false;                                // log10 x axis; x <= 0 is skipped
};

// Points where x or y (or a band or error value) is NaN or infinite are skipped, and a line
// breaks there. A chart with no finite point renders as "" so the caller can omit it.
std::string render(const Chart& chart);

// A grid of values over two categorical axes (the paper's Fig. 8: test error over depth ×
// p_L), each cell shaded by its value (light: low, dark: high) with its text written in it.
struct Heatmap {
  std::string title, x_label, y_label;
  std::vector<std::string> columns, rows;  // x categories left to right, y top to bottom
  // values[row][column]; nullopt: no data (an empty, unshaded cell)
  std::vector<std::vector<std::optional<double>>> values;
  std::vector<std::vector<std::string>> cell_text;  // same shape; written in the cells
};

// "" when no cell has a finite value.
std::string render(const Heatmap& heatmap);

// At most `max_ticks` (at least 3) evenly spaced round values (steps 1, 2 or 5 × 10^k)
// covering [lo, hi], from a multiple of the step at or below lo to one at or above hi. A
// single value gets a small range around it; non-finite input gives no ticks.
std::vector<double> nice_ticks(double lo, double hi, int max_ticks = 7);

}  // namespace stodepth::results::svg
