#include "results/report/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "results/report/machines.h"
#include "results/report/pair_statistics.h"
#include "results/report/pairing.h"
#include "results/report/read_sweep.h"
#include "results/report/render_csv.h"
#include "results/report/render_html.h"
#include "results/report/render_markdown.h"
#include "results/report/report_tables.h"

namespace stodepth::results {
namespace {

// Runs per state, by state name; and whether every run has finished (done, failed or diverged).
void count_states(const std::vector<RunRow>& runs, Comparison& c) {
  std::map<std::string, int> counts;
  for (const RunRow& r : runs) {
    ++counts[to_string(r.state)];
    c.complete &= r.state == RunState::kDone || r.state == RunState::kFailed ||
                  r.state == RunState::kDiverged;
  }
  for (const auto& [state, n] : counts) c.status_counts.emplace_back(state, n);
}

// The requested smoothing, capped at a quarter of the shortest done run's evaluations.
SmoothingUsed smoothing_for(const std::vector<Arm>& arms,
                            const std::map<std::string, RunSeries>& series,
                            const stats::Smoothing& requested) {
  SmoothingUsed s{requested, requested, 0, false};
  bool any = false;
  for (const Arm& arm : arms)
    for (const RunRow* r : arm.done()) {
      const size_t n = series.at(r->key).test_accuracy.size();
      s.shortest_run = any ? std::min(s.shortest_run, n) : n;
      any = true;
    }
  if (!any) return s;
  const auto clipped = stats::clip_to_run(requested, s.shortest_run);
  s.used = clipped.smoothing;
  s.clipped = clipped.clipped;
  return s;
}

Status write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out)
    return bad_input(
        fmt::format("{}: cannot write the report (check the directory exists "
                    "and is writable)",
                    path));
  return ok_status();
}

}  // namespace

Result<Comparison> compare(Store& store, const ReportOptions& options) {
  if (options.smoothing.width < 1)
    return bad_input("--smooth: the width must be >= 1 evaluation (e.g. box:20 or ewma:20)");
  if (!(options.tail > 0 && options.tail <= 1)) return bad_input("--tail: must be in (0, 1]");
  auto data = read_sweep(store, options.sweep);
  if (!data) return data.error();
  Comparison c;
  c.sweep = std::move(data->sweep);
  count_states(data->runs, c);
  c.arms = group_into_arms(data->runs);
  c.pairs = pair_arms(c.arms);
  c.smoothing = smoothing_for(c.arms, data->series, options.smoothing);
  c.tail = options.tail;
  ReportOptions used = options;
  used.smoothing = c.smoothing.used;
  for (Pair& p : c.pairs) add_statistics(p, data->series, used);
  c.series = std::move(data->series);
  c.machines = machine_groups(c.arms);
  c.stodepth_version = STODEPTH_VERSION;
  return c;
}

Result<ReportFiles> write_report(const Comparison& c, const ReportOptions& options,
                                 const std::string& html_path) {
  const std::vector<Table> tables = report_tables(c, options);
  ReportFiles files;
  files.html = html_path;
  std::filesystem::path base(html_path);
  base.replace_extension();
  files.markdown = base.string() + ".md";
  const auto parent = std::filesystem::path(html_path).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (auto s = write_file(files.html, render_html(c, tables, options)); !s) return s.error();
  for (const CsvTable& csv : render_csv(tables)) {
    const std::string path = fmt::format("{}-{}.csv", base.string(), csv.name);
    if (auto s = write_file(path, csv.text); !s) return s.error();
    files.csv.push_back(path);
  }
  if (auto s = write_file(files.markdown, render_markdown(c, tables)); !s) return s.error();
  return files;
}

}  // namespace stodepth::results
