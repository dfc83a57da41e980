#include "results/report/render_html.h"

#include <fmt/format.h>

#include "results/report/html.h"
#include "results/report/machines.h"
#include "results/report/report_charts.h"
#include "results/report/svg.h"

namespace stodepth::results {
namespace {

// A row per machine the runs trained on; with several, each says which runs.
std::vector<std::vector<std::string>> machine_rows(const Comparison& c) {
  if (c.machines.size() == 1) return {{"machine", describe_machine(c.machines[0].facts)}};
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < c.machines.size(); ++i) {
    const MachineGroup& m = c.machines[i];
    rows.push_back({fmt::format("machine {}", i + 1),
                    fmt::format("{}: {} run{} ({})", describe_machine(m.facts), m.runs,
                                m.runs == 1 ? "" : "s", fmt::join(m.arms, ", "))});
  }
  return rows;
}

std::string header_html(const Comparison& c) {
  std::vector<std::string> counts;
  int total = 0;
  for (const auto& [state, n] : c.status_counts) {
    counts.push_back(fmt::format("{} {}", n, state));
    total += n;
  }
  std::string out;
  if (!c.complete)
    out += fmt::format(
        "<p class=\"warning\"><strong>Incomplete sweep:</strong> {}. Statistics "
        "use the done runs only.</p>",
        html::escape(fmt::format("{}", fmt::join(counts, ", "))));
  std::vector<std::vector<std::string>> rows = {
      {"sweep", c.sweep.name},
      {"description", c.sweep.description},
      {"runs", fmt::format("{} ({})", total, fmt::join(counts, ", "))}};
  for (auto& row : machine_rows(c)) rows.push_back(std::move(row));
  rows.push_back({"stodepth", c.stodepth_version});
  out += html::table({"", ""}, rows, {false, false});
  out += "<details><summary>Sweep file</summary><pre>" + html::escape(c.sweep.source_text) +
         "</pre></details>";
  return out;
}

std::string table_html(const Table& t) {
  if (t.rows.empty()) return "";
  return html::section(
      t.title, "<p>" + html::escape(t.caption) + "</p>" + html::table(t.header, t.rows, t.numeric));
}

std::string figures_html(const std::vector<Figure>& figures) {
  std::string out;
  for (const Figure& f : figures)
    out += html::figure(f.heatmap ? svg::render(*f.heatmap) : svg::render(f.chart), f.caption);
  return out;
}

}  // namespace

std::string render_html(const Comparison& c, const std::vector<Table>& tables,
                        const ReportOptions& options) {
  std::string body = html::section("Sweep", header_html(c));
  if (c.pairs.empty())
    body +=
        "<p>No stochastic-depth configuration has a plain baseline (p_L = 1) with the "
        "same other parameters in this sweep, so there is nothing to compare yet.</p>";
  if (const std::string warning = smoothing_warning(c); !warning.empty())
    body += "<p class=\"warning\"><strong>Warning:</strong> " + html::escape(warning) + "</p>";
  if (!c.pairs.empty()) {
    std::string items;
    for (const Pair& p : c.pairs) {
      const auto lines = pair_headline(p);
      items += "<li><strong>" + html::escape(p.short_title) +
               "</strong>: " + html::escape(lines.front());
      if (lines.size() > 1) {
        items += "<ul>";
        for (size_t i = 1; i < lines.size(); ++i)
          items += "<li>" + html::escape(lines[i]) + "</li>";
        items += "</ul>";
      }
      items += "</li>";
    }
    body += html::section("Headlines",
                          "<p>" + html::escape(headline_note(c)) + "</p><ul>" + items + "</ul>");
  }
  for (const Table& t : tables) body += table_html(t);
  for (const Pair& p : c.pairs)
    body += html::section(
        fmt::format("{}: {} vs {}", p.short_title, p.stochastic->label, p.baseline->label),
        "<p>" + html::escape(p.title) + "</p>" +
            figures_html(pair_figures(c, p, c.smoothing.used)));
  if (const auto survival = survival_figures(c); !survival.empty())
    body += html::section("Survival probability", figures_html(survival));
  if (const auto depth = depth_figures(c); !depth.empty())
    body += html::section("Depth", figures_html(depth));
  if (const auto grid = depth_survival_figures(c); !grid.empty())
    body += html::section("Test error over depth and p_L", figures_html(grid));
  return html::page(report_title(c), body);
}

}  // namespace stodepth::results
