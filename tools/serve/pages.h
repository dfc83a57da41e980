// The HTML pages of `stodepth serve`: shells that load /static/app.js, which fills them from
// the JSON API and redraws as the database grows. Every text from the database is escaped
// (results/report/html.h); the pages hold no inline script, so the Content-Security-Policy
// can allow only the server's own scripts.
#pragma once

#include <string>
#include <vector>

#include "results/store/store.h"

namespace stodepth::serve {

// The chart metrics a sweep or run page draws, each in div#chart-<metric>, with its title.
struct ChartMetric {
  const char* metric;
  const char* title;
};
const std::vector<ChartMetric>& chart_metrics();

std::string sweeps_page(const std::vector<results::SweepRecord>& sweeps);
std::string sweep_page(const results::SweepRecord& sweep);
// `report_html` is the page render_html made for the sweep: its style and body are embedded
// as they are, in div#report; `runs` link to their run pages.
std::string report_page(
    const results::SweepRecord& sweep, const std::string& report_html,
    const std::vector<std::pair<std::string, std::vector<results::RunRow>>>& arms);
std::string run_page(const results::RunRow& run, const std::vector<results::RunStop>& stops);
// `picked` overlaid; `all` offered in the picker.
std::string compare_page(const std::vector<results::RunRow>& picked,
                         const std::vector<results::RunRow>& all);
// `text` percent-encoded for one segment of a URL path (unreserved bytes kept).
std::string url_path_segment(const std::string& text);

// An error page with one line.
std::string error_page(int status, const std::string& message);

}  // namespace stodepth::serve
