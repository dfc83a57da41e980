// `stodepth report`: the ResNet vs stochastic-depth comparison of a sweep, from the database.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <filesystem>

#include "results/report/report.h"
#include "results/stats/smoothing.h"
#include "tools/commands.h"
#include "tools/parse.h"

namespace stodepth::cli {

CommandResult run_report(int argc, char** argv) {
  CLI::App app{"Write the comparison report of a sweep: HTML (self-contained), Markdown, CSV.",
               "stodepth report"};
  std::string db = "out/results.db", output, format = "html";
  results::ReportOptions options;
  app.add_option("--db", db, "Results database")->capture_default_str();
  app.add_option("--sweep", options.sweep, "Sweep to report (default: the last one created)");
  app.add_option("-o,--output", output,
                 "Output file, NAME.html or NAME.md (default: out/reports/SWEEP.html); the "
                 "other formats are written beside it (NAME.html, NAME.md, NAME-TABLE.csv); "
                 "other extensions (.pdf, ...) are refused");
  std::string smooth = results::stats::to_string(options.smoothing);
  size_t window = 0;
  app.add_option("--smooth", smooth,
                 "Smoothing of the test-accuracy curves, widths in evaluations: box:W (trailing "
                 "mean of W) or ewma:SPAN (exponential mean, alpha = 2/(SPAN + 1), as pandas "
                 "ewm(span)). Default box:20: every point of a known window weighs the same, so "
                 "the band and the residual tests cover exactly W evaluations; ewma:20 is the "
                 "batchflow notebook's. Capped at a quarter of the shortest run, with a warning")
      ->capture_default_str();
  app.add_option("--window", window, "Same as --smooth box:W (kept for compatibility)");
  app.add_option("--tail", options.tail,
                 "Fraction of training (at its end) for the within-run variance")
      ->capture_default_str();
  app.add_option("--format", format, "html | md: which file -o names")->capture_default_str();
  if (auto exit = parse_flags(app, argc, argv)) return *exit;
  if (window > 0 && app.count("--smooth") > 0)
    return bad_input("--window and --smooth: give one (--window W is box:W)");
  if (app.count("--window") > 0) smooth = fmt::format("box:{}", window);
  auto smoothing = results::stats::parse_smoothing(smooth);
  if (!smoothing) return bad_input(smoothing.error().message);
  options.smoothing = *smoothing;
  if (format != "html" && format != "md")
    return bad_input(fmt::format("--format: unknown '{}' (one of: html, md)", format));
  // The file -o names is one the report writes: HTML, or Markdown (the HTML beside it).
  std::string extension = std::filesystem::path(output).extension().string();
  for (char& c : extension) c = char(std::tolower(static_cast<unsigned char>(c)));
  if (!output.empty() && extension != ".html" && extension != ".htm" && extension != ".md")
    return bad_input(
        fmt::format("-o {}: the report is written as .html, .md and .csv files, not {} (give -o "
                    "NAME.html or NAME.md; the others are written beside it)",
                    output, extension.empty() ? "a file without extension" : extension));
  auto store = results::Store::open(db, results::OpenMode::kReadOnly);
  if (!store) return store.error();
  if (auto held = (*store)->hold_snapshot(); !held) return held.error();
  auto comparison = results::compare(**store, options);
  if (!comparison) return comparison.error();
  std::string html_path = output;
  if (output.empty()) {
    html_path = fmt::format("out/reports/{}.html", comparison->sweep.name);
  } else if (format == "md" || extension == ".md") {
    html_path = std::filesystem::path(output).replace_extension(".html").string();
  }
  auto files = results::write_report(*comparison, options, html_path);
  if (!files) return files.error();
  fmt::print("report: {}\nsummary: {}\n", files->html, files->markdown);
  for (const auto& csv : files->csv) fmt::print("table: {}\n", csv);
  return kExitOk;
}

}  // namespace stodepth::cli
