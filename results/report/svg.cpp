#include "results/report/svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string_view>

#include "results/report/html.h"

namespace stodepth::results::svg {
namespace {

using html::escape;

constexpr double kPad = 10;  // outer margin
constexpr double kTitleFont = 15, kLabelFont = 12, kTickFont = 11, kLegendFont = 12;
constexpr double kLegendRow = 18;     // legend row height
constexpr double kLegendSwatch = 22;  // legend swatch width
constexpr double kTickLength = 4;
constexpr double kAxisLabelSpace = 18;  // an axis label's band beside its tick labels
constexpr std::string_view kTextColor = "#1f2328", kAxisColor = "#57606a", kGridColor = "#e3e6ea";
constexpr std::string_view kFontFamily =
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Pixel coordinates: a tenth of a pixel is below what anyone sees and keeps files small. The
// clamp keeps a value far outside a fixed y range (clipped anyway) from printing 300 digits.
std::string num(double v) { return fmt::format("{:.1f}", std::clamp(v, -1e5, 1e5)); }

// SVG has no text metrics without a renderer; 0.6 em per character over-estimates typical
// sans-serif text, which errs toward no overlap.
double text_width(std::string_view text, double font_size) {
  size_t characters = 0;
  for (unsigned char c : text) characters += (c & 0xC0) != 0x80;  // count UTF-8 lead bytes
  return double(characters) * 0.6 * font_size;
}

// The text's first code points that fit in `width`, with "…" when some are cut.
std::string truncated(std::string_view text, double width, double font_size) {
  if (text_width(text, font_size) <= width) return std::string(text);
  const auto keep = size_t(std::max(0.0, width / (0.6 * font_size) - 1));
  size_t characters = 0, end = 0;
  for (; end < text.size(); ++end) {
    if ((static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) continue;  // inside a character
    if (characters++ == keep) break;
  }
  return std::string(text.substr(0, end)) + "\u2026";
}

// m × 10^e, the double nearest the decimal value (dividing by an exact power of ten instead
// of multiplying by an inexact 10^-k), so that labels and comparisons see 0.6, not 0.6000…1.
double scaled(int64_t m, int e) {
  return e >= 0 ? double(m) * std::pow(10.0, e) : double(m) / std::pow(10.0, -e);
}

double value_at(const std::optional<std::vector<double>>& values, size_t i) {
  return values && i < values->size() ? (*values)[i] : kNaN;
}

// ---- Data extents ----

struct Extent {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (!std::isfinite(v)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return lo > hi; }
};

size_t point_count(const Series& s) { return std::min(s.x.size(), s.y.size()); }

bool valid_x(double x, bool x_log) { return std::isfinite(x) && (!x_log || x > 0); }

bool valid_point(const Series& s, size_t i, bool x_log) {
  return valid_x(s.x[i], x_log) && std::isfinite(s.y[i]);
}

bool has_point(const Series& s, bool x_log) {
  for (size_t i = 0; i < point_count(s); ++i) {
    if (valid_point(s, i, x_log)) return true;
  }
  return false;
}

struct Extents {
  Extent x, y, y2;
};

// Everything drawn counts: points, bands, error bars.
Extents data_extents(const Chart& chart) {
  Extents extents;
  for (const Series& s : chart.series) {
    Extent& y = s.secondary_axis ? extents.y2 : extents.y;
    for (size_t i = 0; i < point_count(s); ++i) {
      if (!valid_x(s.x[i], chart.x_log)) continue;
      const double low = value_at(s.band_low, i), high = value_at(s.band_high, i);
      if (std::isfinite(low) && std::isfinite(high)) {
        extents.x.add(s.x[i]);
        y.add(low);
        y.add(high);
      }
      if (!std::isfinite(s.y[i])) continue;
      extents.x.add(s.x[i]);
      y.add(s.y[i]);
      const double error = value_at(s.error, i);
      if (std::isfinite(error)) {
        y.add(s.y[i] - error);
        y.add(s.y[i] + error);
      }
    }
  }
  return extents;
}

// ---- Axes: ticks, labels, scales ----

struct Axis {
  double lo = 0, hi = 1;  // the domain
  bool log = false;
  std::vector<double> ticks;
  std::vector<std::string> labels;
};

// The shortest scientific form that reads back as `v`, e.g. "1.5e-5" (not "1.5e-05"): tick
// values are the doubles nearest round decimals, so this shows just their significant digits.
std::string compact_scientific(double v) {
  char buffer[32];
  const auto end =
      std::to_chars(buffer, buffer + sizeof buffer, v, std::chars_format::scientific).ptr;
  std::string s(buffer, end);
  const size_t e = s.find('e');
  std::string exponent = s.substr(e + 1);
  const bool negative = exponent[0] == '-';
  exponent.erase(0, exponent.find_first_not_of("+-0"));
  return s.substr(0, e + 1) + (negative ? "-" : "") + (exponent.empty() ? "0" : exponent);
}

// Labels with the decimals the step needs and no more; "20k" / "3M" for large round values.
std::vector<std::string> linear_labels(const std::vector<double>& ticks) {
  const double step = ticks.size() >= 2 ? ticks[1] - ticks[0] : 1;
  double largest = 0;
  for (double t : ticks) largest = std::max(largest, std::abs(t));
  std::string_view suffix;
  double divisor = 1;
  if (step >= 1e6 && largest >= 1e7) {
    suffix = "M", divisor = 1e6;
  } else if (step >= 1e3 && largest >= 1e4) {
    suffix = "k", divisor = 1e3;
  }
  const int step_exponent = int(std::floor(std::log10(step / divisor) + 1e-9));
  std::vector<std::string> labels;
  for (double t : ticks) {
    if (t == 0 && (step < 1e-4 || !suffix.empty())) {
      labels.push_back("0");  // not "0e0" or "0k"
    } else if (step < 1e-4) {
      labels.push_back(compact_scientific(t));
    } else {
      labels.push_back(fmt::format("{:.{}f}{}", t / divisor, std::max(0, -step_exponent), suffix));
    }
  }
  return labels;
}

// max_ticks nice ticks; with a fixed range, those inside it and the range as the domain.
Axis linear_axis(const Extent& extent, const std::optional<std::pair<double, double>>& fixed,
                 int max_ticks) {
  Axis axis;
  if (fixed && std::isfinite(fixed->first) && std::isfinite(fixed->second) &&
      fixed->first != fixed->second) {
    axis.lo = std::min(fixed->first, fixed->second);
    axis.hi = std::max(fixed->first, fixed->second);
    const double slack = (axis.hi - axis.lo) * 1e-9;
    for (double t : nice_ticks(axis.lo, axis.hi, max_ticks)) {
      if (t >= axis.lo - slack && t <= axis.hi + slack) axis.ticks.push_back(t);
    }
  } else {
    axis.ticks =
        extent.empty() ? nice_ticks(0, 1, max_ticks) : nice_ticks(extent.lo, extent.hi, max_ticks);
    axis.lo = axis.ticks.front();
    axis.hi = axis.ticks.back();
  }
  axis.labels = linear_labels(axis.ticks);
  return axis;
}

// Whole decades (with 2 and 5 between when there are few), thinned to about max_ticks.
Axis log_axis(const Extent& extent, int max_ticks) {
  Axis axis;
  axis.log = true;
  int first = int(std::floor(std::log10(extent.lo) + 1e-9));
  int last = int(std::ceil(std::log10(extent.hi) - 1e-9));
  if (last == first) ++last;
  axis.lo = scaled(1, first);
  axis.hi = scaled(1, last);
  const int decades = last - first;
  const int stride = std::max(1, (decades + max_ticks - 1) / std::max(1, max_ticks - 1));
  for (int e = first; e <= last; e += stride) {
    for (int m : {1, 2, 5}) {
      if (m != 1 && (decades > 2 || e == last)) continue;
      const double t = scaled(m, e);
      axis.ticks.push_back(t);
      axis.labels.push_back(t >= 1e-3 && t < 1e5 ? fmt::format("{}", t) : compact_scientific(t));
    }
  }
  return axis;
}

double widest_label(const Axis& axis) {
  double widest = 0;
  for (const auto& label : axis.labels) widest = std::max(widest, text_width(label, kTickFont));
  return widest;
}

// A linear x axis spans the data exactly (a run of 64k iterations should not end at 70k),
// with the ticks inside; unless fewer than two would be left.
Axis fit_to_extent(Axis axis, const Extent& extent) {
  const double slack = (extent.hi - extent.lo) * 1e-9;
  std::vector<double> ticks;
  std::vector<std::string> labels;
  for (size_t i = 0; i < axis.ticks.size(); ++i) {
    if (axis.ticks[i] < extent.lo - slack || axis.ticks[i] > extent.hi + slack) continue;
    ticks.push_back(axis.ticks[i]);
    labels.push_back(axis.labels[i]);
  }
  if (ticks.size() < 2) return axis;
  axis.lo = extent.lo;
  axis.hi = extent.hi;
  axis.ticks = std::move(ticks);
  axis.labels = std::move(labels);
  return axis;
}

// Fewer ticks until the widest label fits between neighbours.
Axis x_axis(const Extent& extent, bool log, double plot_width) {
  if (log) return log_axis(extent, std::clamp(int(plot_width / 60), 3, 11));
  for (int max_ticks = std::clamp(int(plot_width / 60), 3, 11);; --max_ticks) {
    const Axis axis = fit_to_extent(linear_axis(extent, std::nullopt, max_ticks), extent);
    const double spacing = plot_width * (axis.ticks[1] - axis.ticks[0]) / (axis.hi - axis.lo);
    if (max_ticks <= 3 || widest_label(axis) + 12 <= spacing) return axis;
  }
}

// A linear or log10 map from a domain to pixels.
struct Scale {
  double d0, d1, p0, p1;
  bool log = false;
  Scale(const Axis& axis, double pixel0, double pixel1)
      : d0(axis.log ? std::log10(axis.lo) : axis.lo),
        d1(axis.log ? std::log10(axis.hi) : axis.hi),
        p0(pixel0),
        p1(pixel1),
        log(axis.log) {}
  double operator()(double v) const {
    return p0 + ((log ? std::log10(v) : v) - d0) / (d1 - d0) * (p1 - p0);
  }
};

// ---- Series ----

struct Drawn {
  const Series* series;
  std::string color;
  std::vector<size_t> points;  // indices to draw, after decimation (which needs the layout)
};

std::vector<std::string> assign_colors(const std::vector<Series>& series) {
  constexpr int n = std::size(kPalette);
  bool taken[n] = {};
  for (const Series& s : series) {
    if (s.color >= 0) taken[s.color % n] = true;
  }
  const bool all_taken = std::all_of(std::begin(taken), std::end(taken), [](bool t) { return t; });
  std::vector<std::string> colors;
  int cursor = 0;
  for (const Series& s : series) {
    if (s.color >= 0) {
      colors.emplace_back(kPalette[s.color % n]);
      continue;
    }
    while (!all_taken && taken[cursor % n]) ++cursor;
    colors.emplace_back(kPalette[cursor++ % n]);
  }
  return colors;
}

// Indices of the points to draw. A long line (and its band) keeps the minimum and maximum of
// each of `columns` buckets, plus the bucket's first invalid point so the line still breaks
// there: what a full-resolution line would show, spikes included. Long point series are
// sampled evenly instead, which keeps the density of a noisy cloud (extremes alone would
// exaggerate the noise).
std::vector<size_t> decimate(const Series& s, bool x_log, size_t columns) {
  const size_t n = point_count(s);
  std::vector<size_t> kept;
  if (n <= kMaxPointsPerSeries) {
    for (size_t i = 0; i < n; ++i) kept.push_back(i);
    return kept;
  }
  if (s.style == Series::kFaintPoints || s.style == Series::kMarkers) {
    for (size_t k = 0; k < kMaxPointsPerSeries; ++k) kept.push_back(k * n / kMaxPointsPerSeries);
    return kept;
  }
  const size_t buckets = std::clamp<size_t>(columns, 1, kMaxPointsPerSeries / 2);
  for (size_t b = 0; b < buckets; ++b) {
    const size_t begin = b * n / buckets, end = (b + 1) * n / buckets;
    std::optional<size_t> lowest, highest, gap;
    for (size_t i = begin; i < end; ++i) {
      if (!valid_point(s, i, x_log)) {
        if (!gap) gap = i;
        continue;
      }
      if (!lowest || s.y[i] < s.y[*lowest]) lowest = i;
      if (!highest || s.y[i] > s.y[*highest]) highest = i;
    }
    const size_t first = kept.size();
    for (const auto& i : {lowest, highest, gap}) {
      if (i) kept.push_back(*i);
    }
    std::sort(kept.begin() + long(first), kept.end());
    kept.erase(std::unique(kept.begin() + long(first), kept.end()), kept.end());
  }
  return kept;
}

struct Plot {
  Scale x, y, y2;
  bool x_log;
  const Scale& y_of(const Series& s) const { return s.secondary_axis ? y2 : y; }
};

// One polygon per run of points with a finite band: upper edge forward, lower edge back.
std::string draw_band(const Drawn& d, const Plot& plot) {
  const Series& s = *d.series;
  const Scale& y = plot.y_of(s);
  std::string out;
  std::vector<size_t> run;
  const auto flush = [&] {
    if (run.size() >= 2) {
      std::string points;
      for (size_t i : run) points += num(plot.x(s.x[i])) + ',' + num(y((*s.band_high)[i])) + ' ';
      for (auto i = run.rbegin(); i != run.rend(); ++i) {
        points += num(plot.x(s.x[*i])) + ',' + num(y((*s.band_low)[*i])) + ' ';
      }
      points.pop_back();
      out +=
          fmt::format("<polygon class=\"band\" points=\"{}\" fill=\"{}\" fill-opacity=\"0.2\"/>\n",
                      points, d.color);
    }
    run.clear();
  };
  for (size_t i : d.points) {
    const bool valid = valid_x(s.x[i], plot.x_log) && std::isfinite(value_at(s.band_low, i)) &&
                       std::isfinite(value_at(s.band_high, i));
    if (valid) {
      run.push_back(i);
    } else {
      flush();
    }
  }
  flush();
  return out;
}

// One path per series; an invalid point lifts the pen. After a moveto, further coordinate
// pairs are implicit linetos, which keeps long series compact.
std::string draw_line(const Drawn& d, const Plot& plot) {
  const Series& s = *d.series;
  std::string path;
  bool pen_down = false;
  for (size_t i : d.points) {
    if (!valid_point(s, i, plot.x_log)) {
      pen_down = false;
      continue;
    }
    path += pen_down ? " " : "M";
    path += num(plot.x(s.x[i])) + ' ' + num(plot.y_of(s)(s.y[i]));
    pen_down = true;
  }
  if (path.empty()) return "";
  return fmt::format(
      "<path class=\"line\" d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" "
      "stroke-linejoin=\"round\" stroke-linecap=\"round\"{}/>\n",
      path, d.color, s.dashed ? " stroke-dasharray=\"6 4\"" : "");
}

// Zero-length round-capped segments draw dots at a fraction of the size of <circle>s.
std::string draw_faint_points(const Drawn& d, const Plot& plot) {
  const Series& s = *d.series;
  std::string path;
  for (size_t i : d.points) {
    if (!valid_point(s, i, plot.x_log)) continue;
    path += 'M' + num(plot.x(s.x[i])) + ' ' + num(plot.y_of(s)(s.y[i])) + "h0";
  }
  if (path.empty()) return "";
  return fmt::format(
      "<path class=\"points\" d=\"{}\" stroke=\"{}\" stroke-width=\"2.5\" stroke-linecap=\"round\" "
      "stroke-opacity=\"0.3\"/>\n",
      path, d.color);
}

std::string draw_error_bars(const Drawn& d, const Plot& plot) {
  const Series& s = *d.series;
  const Scale& y = plot.y_of(s);
  std::string path;
  for (size_t i : d.points) {
    const double error = value_at(s.error, i);
    if (!valid_point(s, i, plot.x_log) || !std::isfinite(error)) continue;
    const double x = plot.x(s.x[i]), top = y(s.y[i] + error), bottom = y(s.y[i] - error);
    path +=
        fmt::format("M{0} {1}V{2}M{3} {1}h6M{3} {2}h6", num(x), num(top), num(bottom), num(x - 3));
  }
  if (path.empty()) return "";
  return fmt::format("<path class=\"errorbars\" d=\"{}\" stroke=\"{}\" stroke-width=\"1.3\"/>\n",
                     path, d.color);
}

std::string draw_markers(const Drawn& d, const Plot& plot) {
  const Series& s = *d.series;
  std::string circles;
  for (size_t i : d.points) {
    if (!valid_point(s, i, plot.x_log)) continue;
    circles += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"3.5\"/>", num(plot.x(s.x[i])),
                           num(plot.y_of(s)(s.y[i])));
  }
  if (circles.empty()) return "";
  return fmt::format("<g class=\"markers\" fill=\"{}\" stroke=\"#fff\" stroke-width=\"1\">{}</g>\n",
                     d.color, circles);
}

bool has_line(Series::Style style) {
  return style == Series::kLine || style == Series::kLineMarkers;
}
bool has_markers(Series::Style style) {
  return style == Series::kMarkers || style == Series::kLineMarkers;
}

// Layered across series so that no band or point cloud hides another series' line or marker.
std::string draw_series(const std::vector<Drawn>& drawn, const Plot& plot) {
  std::string out;
  for (const Drawn& d : drawn) {
    if (d.series->band_low && d.series->band_high) out += draw_band(d, plot);
  }
  for (const Drawn& d : drawn) {
    if (d.series->style == Series::kFaintPoints) out += draw_faint_points(d, plot);
  }
  for (const Drawn& d : drawn) {
    if (has_line(d.series->style)) out += draw_line(d, plot);
  }
  for (const Drawn& d : drawn) {
    if (has_markers(d.series->style) && d.series->error) out += draw_error_bars(d, plot);
    if (has_markers(d.series->style)) out += draw_markers(d, plot);
  }
  return out;
}

// ---- Legend ----

struct LegendItem {
  const Drawn* drawn;
  std::string text;
  double x = 0, y = 0;  // swatch start, row centre
};

// Items left to right from `left`, wrapping at `right`; y is relative to the first row.
std::vector<LegendItem> layout_legend(const std::vector<Drawn>& drawn, bool x_log, bool mixed_axes,
                                      double left, double right) {
  std::vector<LegendItem> items;
  double x = left, y = kLegendRow / 2;
  for (const Drawn& d : drawn) {
    if (d.series->label.empty() || !has_point(*d.series, x_log)) continue;
    const std::string text =
        d.series->label + (mixed_axes && d.series->secondary_axis ? " (right axis)" : "");
    LegendItem item{&d, truncated(text, right - left - kLegendSwatch - 6, kLegendFont)};
    const double width = kLegendSwatch + 6 + text_width(item.text, kLegendFont);
    if (x > left && x + width > right) {
      x = left;
      y += kLegendRow;
    }
    item.x = x;
    item.y = y;
    x += width + 18;
    items.push_back(std::move(item));
  }
  return items;
}

std::string draw_swatch(const Drawn& d, double x, double y) {
  const Series& s = *d.series;
  std::string out;
  if (s.band_low && s.band_high) {
    out += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"10\" fill=\"{}\" "
        "fill-opacity=\"0.2\"/>",
        num(x), num(y - 5), kLegendSwatch, d.color);
  }
  if (s.style == Series::kFaintPoints) {
    for (double dx : {4.0, 11.0, 18.0}) {
      out += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"1.8\" fill=\"{}\" fill-opacity=\"0.6\"/>",
                         num(x + dx), num(y), d.color);
    }
  }
  if (has_line(s.style)) {
    out += fmt::format("<path d=\"M{} {}h{}\" stroke=\"{}\" stroke-width=\"2\"{}/>", num(x), num(y),
                       kLegendSwatch, d.color, s.dashed ? " stroke-dasharray=\"5 3\"" : "");
  }
  if (has_markers(s.style)) {
    out += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"{}\" stroke=\"#fff\"/>",
                       num(x + kLegendSwatch / 2), num(y), d.color);
  }
  return out;
}

std::string draw_legend(const std::vector<LegendItem>& items, double top) {
  if (items.empty()) return "";
  std::string out =
      fmt::format("<g class=\"legend\" font-size=\"{}\" fill=\"{}\">", kLegendFont, kTextColor);
  for (const LegendItem& item : items) {
    const double y = top + item.y;
    out += draw_swatch(*item.drawn, item.x, y);
    out += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>", num(item.x + kLegendSwatch + 6),
                       num(y + 4), escape(item.text));
  }
  return out + "</g>\n";
}

// ---- Frame: grid, axes, labels ----

struct Frame {
  double left, top, right, bottom;  // the plot area
};

std::string draw_grid(const Frame& f, const Plot& plot, const Axis& x, const Axis& y) {
  std::string path;
  for (double t : y.ticks)
    path += fmt::format("M{} {}H{}", num(f.left), num(plot.y(t)), num(f.right));
  for (double t : x.ticks)
    path += fmt::format("M{} {}V{}", num(plot.x(t)), num(f.top), num(f.bottom));
  return fmt::format(
      "<path class=\"grid\" d=\"{}\" stroke=\"{}\" shape-rendering=\"crispEdges\"/>\n", path,
      kGridColor);
}

// Axis lines with outward tick marks, then tick labels.
std::string draw_axes(const Frame& f, const Plot& plot, const Axis& x, const Axis& y,
                      const Axis* y2) {
  std::string lines =
      fmt::format("M{0} {1}V{2}H{3}", num(f.left), num(f.top), num(f.bottom), num(f.right));
  std::string labels;
  for (size_t i = 0; i < x.ticks.size(); ++i) {
    const double px = plot.x(x.ticks[i]);
    lines += fmt::format("M{} {}v{}", num(px), num(f.bottom), kTickLength);
    labels += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>", num(px),
                          num(f.bottom + kTickLength + 3 + kTickFont), escape(x.labels[i]));
  }
  for (size_t i = 0; i < y.ticks.size(); ++i) {
    const double py = plot.y(y.ticks[i]);
    lines += fmt::format("M{} {}h{}", num(f.left), num(py), -kTickLength);
    labels +=
        fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
                    num(f.left - kTickLength - 3), num(py + 0.35 * kTickFont), escape(y.labels[i]));
  }
  if (y2) {
    lines += fmt::format("M{} {}V{}", num(f.right), num(f.top), num(f.bottom));
    for (size_t i = 0; i < y2->ticks.size(); ++i) {
      const double py = plot.y2(y2->ticks[i]);
      lines += fmt::format("M{} {}h{}", num(f.right), num(py), kTickLength);
      labels += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>", num(f.right + kTickLength + 3),
                            num(py + 0.35 * kTickFont), escape(y2->labels[i]));
    }
  }
  return fmt::format(
      "<path class=\"axes\" d=\"{}\" fill=\"none\" stroke=\"{}\" shape-rendering=\"crispEdges\"/>\n"
      "<g class=\"ticks\" font-size=\"{}\" fill=\"{}\">{}</g>\n",
      lines, kAxisColor, kTickFont, kAxisColor, labels);
}

// A text element that fits in `room`: shrunk by up to a fifth (smaller is hard to read), then
// cut with an ellipsis, the full text left as its tooltip. `at` places it, `extra` styles it.
std::string label_text(std::string_view text, double room, double preferred, std::string_view at,
                       std::string_view extra = "") {
  const double font = std::max(0.8 * preferred,
                               std::min(preferred, preferred * room / text_width(text, preferred)));
  const std::string shown = truncated(text, room, font);
  const std::string tooltip =
      shown.size() == text.size() ? "" : fmt::format("<title>{}</title>", escape(text));
  return fmt::format("<text {} font-size=\"{}\" fill=\"{}\"{}>{}{}</text>\n", at, num(font),
                     kTextColor, extra, tooltip, escape(shown));
}

std::string draw_axis_labels(const Chart& chart, const Frame& f, bool secondary) {
  std::string out;
  const double middle_y = (f.top + f.bottom) / 2, height = f.bottom - f.top;
  if (!chart.x_label.empty()) {
    out += label_text(
        chart.x_label, f.right - f.left, kLabelFont,
        fmt::format("x=\"{}\" y=\"{}\"", num((f.left + f.right) / 2), num(chart.height - kPad - 2)),
        " text-anchor=\"middle\"");
  }
  if (!chart.y_label.empty()) {
    out += label_text(chart.y_label, height, kLabelFont,
                      fmt::format("transform=\"translate({},{}) rotate(-90)\"",
                                  num(kPad + kLabelFont), num(middle_y)),
                      " text-anchor=\"middle\"");
  }
  if (secondary && !chart.y2_label.empty()) {
    out += label_text(chart.y2_label, height, kLabelFont,
                      fmt::format("transform=\"translate({},{}) rotate(90)\"",
                                  num(chart.width - kPad - kLabelFont), num(middle_y)),
                      " text-anchor=\"middle\"");
  }
  return out;
}

// FNV-1a: a clip-path id that is stable for a given chart yet differs between charts on one
// page (ids share the document's namespace).
uint32_t fnv1a(std::string_view s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  return h;
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int max_ticks) {
  if (!std::isfinite(lo) || !std::isfinite(hi) || !std::isfinite(hi - lo)) return {};
  if (lo > hi) std::swap(lo, hi);
  // A (numerically) single value: a range of ±5 % around it, or [0, 1] around zero.
  if (hi - lo <= std::max(std::abs(lo), std::abs(hi)) * 1e-12) {
    const double pad = std::abs(lo) * 0.05;
    if (pad == 0) {
      lo = 0, hi = 1;
    } else {
      lo -= pad, hi += pad;
    }
  }
  // Two intervals at least: with one, a range around zero would never fit.
  const int intervals = std::max(max_ticks, 3) - 1;
  constexpr double kSlack = 1e-6;  // in steps: 0.6 / 0.2 is 2.9999999999999996
  for (int e = int(std::floor(std::log10((hi - lo) / intervals)));; ++e) {
    for (int m : {1, 2, 5}) {
      const double step = scaled(m, e);
      const auto first = int64_t(std::floor(lo / step + kSlack));
      const auto last = int64_t(std::ceil(hi / step - kSlack));
      if (last - first > intervals) continue;
      std::vector<double> ticks;
      for (int64_t i = first; i <= last; ++i) ticks.push_back(scaled(i * m, e));
      return ticks;
    }
  }
}

std::string render(const Chart& chart) {
  const Extents extents = data_extents(chart);
  if (std::none_of(chart.series.begin(), chart.series.end(),
                   [&](const Series& s) { return has_point(s, chart.x_log); })) {
    return "";
  }

  const double width = chart.width, height = chart.height;
  const bool secondary = !extents.y2.empty();
  const bool primary = !extents.y.empty();

  // Vertical ticks first from an estimated plot height; they set the side margins, which set
  // the plot width, which sets the x ticks and the legend's wrapping, which sets the top.
  const int y_max_ticks = std::clamp(int((height - 100) / 36), 3, 9);
  const Axis y = linear_axis(extents.y, chart.y_range, y_max_ticks);
  const Axis y2 = linear_axis(extents.y2, std::nullopt, y_max_ticks);
  Frame f;
  f.left = kPad + (chart.y_label.empty() ? 0 : kAxisLabelSpace) + widest_label(y) + kTickLength + 6;
  const double right_margin = secondary ? kTickLength + 6 + widest_label(y2) +
                                              (chart.y2_label.empty() ? 0 : kAxisLabelSpace)
                                        : 0;
  f.right = width - kPad - right_margin;
  const Axis x = x_axis(extents.x, chart.x_log, f.right - f.left - 20);
  if (!secondary) f.right -= text_width(x.labels.back(), kTickFont) / 2;  // room for the last label

  std::vector<Drawn> drawn;
  const std::vector<std::string> colors = assign_colors(chart.series);
  for (size_t i = 0; i < chart.series.size(); ++i) {
    drawn.push_back({&chart.series[i], colors[i], {}});
  }
  const double title_height = chart.title.empty() ? 0 : kTitleFont + 8;
  std::vector<LegendItem> legend =
      layout_legend(drawn, chart.x_log, primary && secondary, f.left, width - kPad);
  const double legend_top = kPad + title_height;
  const double legend_height = legend.empty() ? 0 : legend.back().y + kLegendRow / 2 + 4;
  f.top = legend_top + legend_height + 8;
  f.bottom = height - kPad - (chart.x_label.empty() ? 0 : kAxisLabelSpace) - kTickLength - 3 -
             kTickFont - 4;
  f.right = std::max(f.right, f.left + 1);  // a chart too small for its text stays drawable
  f.bottom = std::max(f.bottom, f.top + 1);

  for (Drawn& d : drawn) d.points = decimate(*d.series, chart.x_log, size_t(f.right - f.left));
  const Plot plot{Scale(x, f.left, f.right), Scale(y, f.bottom, f.top), Scale(y2, f.bottom, f.top),
                  chart.x_log};
  std::string series = draw_series(drawn, plot);
  if (chart.y_range) {
    // A fixed range may cut data: clip to the plot area (widened for edge markers).
    const std::string id = fmt::format("stodepth-clip-{:08x}", fnv1a(series));
    series = fmt::format(
        "<defs><clipPath id=\"{0}\"><rect x=\"{1}\" y=\"{2}\" width=\"{3}\" height=\"{4}\"/>"
        "</clipPath></defs>\n<g clip-path=\"url(#{0})\">\n{5}</g>\n",
        id, num(f.left - 5), num(f.top), num(f.right - f.left + 10), num(f.bottom - f.top), series);
  }

  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" role=\"img\" aria-label=\"{2}\" font-family=\"{3}\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n",
      chart.width, chart.height, escape(chart.title), kFontFamily);
  if (!chart.title.empty()) {
    out += label_text(chart.title, width - 2 * kPad, kTitleFont,
                      fmt::format("x=\"{}\" y=\"{}\"", num(kPad), num(kPad + kTitleFont - 2)),
                      " font-weight=\"600\"");
  }
  out += draw_legend(legend, legend_top);
  out += draw_grid(f, plot, x, y);
  out += series;
  out += draw_axes(f, plot, x, y, secondary ? &y2 : nullptr);
  out += draw_axis_labels(chart, f, secondary);
  return out + "</svg>\n";
}

std::string render(const Heatmap& h) {
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& row : h.values)
    for (const auto& v : row)
      if (v && std::isfinite(*v)) lo = std::min(lo, *v), hi = std::max(hi, *v);
  if (!(lo <= hi)) return "";
  constexpr double kCellWidth = 84, kCellHeight = 34;
  double row_label_width = 0;
  for (const auto& r : h.rows)
    row_label_width = std::max(row_label_width, text_width(r, kTickFont));
  const double left = kPad + (h.y_label.empty() ? 0 : kAxisLabelSpace) + row_label_width + 8;
  const double top = kPad + (h.title.empty() ? 0 : kTitleFont + 8) + kTickFont + 8;
  const double width = left + kCellWidth * double(h.columns.size()) + kPad;
  const double bottom = top + kCellHeight * double(h.rows.size());
  const double height = bottom + (h.x_label.empty() ? 0 : kAxisLabelSpace) + kPad;
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" role=\"img\" aria-label=\"{2}\" font-family=\"{3}\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n",
      num(width), num(height), escape(h.title), kFontFamily);
  if (!h.title.empty())
    out += fmt::format(
        "<text x=\"{}\" y=\"{}\" font-size=\"{}\" font-weight=\"600\" fill=\"{}\">{}</text>\n",
        num(kPad), num(kPad + kTitleFont - 2), kTitleFont, kTextColor, escape(h.title));
  for (size_t j = 0; j < h.columns.size(); ++j)
    out += fmt::format(
        "<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text>\n",
        num(left + kCellWidth * (double(j) + 0.5)), num(top - 6), kTickFont, kTextColor,
        escape(h.columns[j]));
  for (size_t i = 0; i < h.rows.size(); ++i) {
    const double y = top + kCellHeight * double(i);
    out += fmt::format(
        "<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"end\" fill=\"{}\">{}</text>\n",
        num(left - 6), num(y + kCellHeight / 2 + 4), kTickFont, kTextColor, escape(h.rows[i]));
    for (size_t j = 0; j < h.columns.size(); ++j) {
      const double x = left + kCellWidth * double(j);
      const auto v = i < h.values.size() && j < h.values[i].size() ? h.values[i][j] : std::nullopt;
      if (!v || !std::isfinite(*v)) {
        out += fmt::format(
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#fff\" stroke=\"{}\"/>\n",
            num(x), num(y), num(kCellWidth), num(kCellHeight), kGridColor);
        continue;
      }
      // Sequential blue scale from #f7fbff (lowest) to #08519c (highest).
      const double f = hi > lo ? (*v - lo) / (hi - lo) : 0.5;
      const auto channel = [&](int from, int to) {
        return int(std::lround(from + f * (to - from)));
      };
      const std::string fill = fmt::format("#{:02x}{:02x}{:02x}", channel(0xf7, 0x08),
                                           channel(0xfb, 0x51), channel(0xff, 0x9c));
      out += fmt::format(
          "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\" stroke=\"#fff\"/>\n",
          num(x), num(y), num(kCellWidth), num(kCellHeight), fill);
      const std::string text =
          i < h.cell_text.size() && j < h.cell_text[i].size() ? h.cell_text[i][j] : "";
      out += fmt::format(
          "<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text>\n",
          num(x + kCellWidth / 2), num(y + kCellHeight / 2 + 4), kLabelFont,
          f > 0.55 ? "#fff" : std::string(kTextColor), escape(text));
    }
  }
  if (!h.x_label.empty())
    out += fmt::format(
        "<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text>\n",
        num((left + width - kPad) / 2), num(bottom + kAxisLabelSpace), kLabelFont, kTextColor,
        escape(h.x_label));
  if (!h.y_label.empty())
    out += fmt::format(
        "<text transform=\"translate({},{}) rotate(-90)\" font-size=\"{}\" text-anchor=\"middle\" "
        "fill=\"{}\">{}</text>\n",
        num(kPad + kLabelFont), num((top + bottom) / 2), kLabelFont, kTextColor, escape(h.y_label));
  return out + "</svg>\n";
}

}  // namespace stodepth::results::svg
