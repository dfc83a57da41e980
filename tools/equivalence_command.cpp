// `stodepth equivalence`: are two sets of final accuracies (e.g. ours and a reference
// implementation's, one per seed) equal within ±margin points? Two one-sided Welch t tests
// (results/stats/equivalence.h), printed as one Markdown table row so that several
// comparisons stack into one table.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "results/stats/equivalence.h"
#include "results/stats/intervals.h"
#include "results/stats/stats.h"
#include "tools/commands.h"
#include "tools/parse.h"

namespace stodepth::cli {
namespace {

namespace stats = results::stats;

// One finite number per line (blank lines skipped), each inside `range`.
Result<std::vector<double>> read_values(const std::string& path, stats::ValueRange range) {
  std::ifstream in(path);
  if (!in) return bad_input(fmt::format("{}: cannot read (check the path)", path));
  std::vector<double> values;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const char* begin = line.c_str();
    char* end = nullptr;
    const double v = std::strtod(begin, &end);
    const bool rest_blank =
        end != begin && std::string(end).find_first_not_of(" \t\r") == std::string::npos;
    if (!rest_blank || !std::isfinite(v))
      return bad_input(fmt::format("{}:{}: '{}' is not a number (write one accuracy per line)",
                                   path, number, line));
    if (v < range.low || v > range.high)
      return bad_input(fmt::format("{}:{}: {} is outside [{}, {}] (set --low/--high)", path, number,
                                   v, range.low, range.high));
    values.push_back(v);
  }
  if (values.size() < 2)
    return bad_input(fmt::format(
        "{}: {} value(s); the test needs at least 2 per arm (one per seed)", path, values.size()));
  return values;
}

// "n=5, 93.21 [92.80, 93.62]" (the 95 % bounded interval), flagged when it says little.
std::string arm_cell(const std::vector<double>& x, stats::ValueRange range) {
  const auto ci = stats::bounded_mean_ci(x, range);
  if (!ci) return fmt::format("n={}", x.size());
  return fmt::format("n={}, {:.2f} [{:.2f}, {:.2f}]{}", ci->n, ci->estimate, ci->low, ci->high,
                     ci->few_samples ? " (n=2: interval uninformative)" : "");
}

}  // namespace

CommandResult run_equivalence(int argc, char** argv) {
  CLI::App app{
      "Test whether two sets of accuracies (one number per line, e.g. final test accuracy per "
      "seed, %) have means equal within ±margin: two one-sided Welch t tests (TOST, α 0.05). "
      "Prints one Markdown table row.",
      "stodepth equivalence"};
  std::string path_a, path_b, names = "A,B", label;
  double margin = 0;
  stats::ValueRange range{0, 100};
  bool no_header = false;
  app.add_option("A", path_a, "File of A's values, one per line")->required();
  app.add_option("B", path_b, "File of B's values, one per line")->required();
  app.add_option("--margin", margin, "Equivalence margin, in the values' unit (points)")
      ->required();
  app.add_option("--names", names, "Names of A and B for the header, comma-separated")
      ->capture_default_str();
  app.add_option("--label", label, "First cell of the row (default: the file names)");
  app.add_option("--low", range.low, "Smallest possible value")->capture_default_str();
  app.add_option("--high", range.high, "Largest possible value")->capture_default_str();
  app.add_flag("--no-header", no_header, "Print the row only (to append to a table)");
  if (auto exit = parse_flags(app, argc, argv)) return *exit;
  if (!(margin > 0) || !std::isfinite(margin))
    return bad_input(
        fmt::format("--margin: {} must be > 0 (the largest difference that counts as "
                    "equal, e.g. --margin 1 for ±1 point)",
                    margin));
  if (!(range.low < range.high))
    return bad_input(fmt::format("--low {} must be below --high {}", range.low, range.high));
  const size_t comma = names.find(',');
  if (comma == std::string::npos || names.find(',', comma + 1) != std::string::npos)
    return bad_input(
        fmt::format("--names: '{}' must be two names, comma-separated (e.g. ours,pytorch)", names));
  const std::string name_a = names.substr(0, comma), name_b = names.substr(comma + 1);
  auto a = read_values(path_a, range);
  if (!a) return a.error();
  auto b = read_values(path_b, range);
  if (!b) return b.error();
  const auto tost = stats::tost_welch(*a, *b, margin);
  if (!tost)
    return bad_input(fmt::format("{} and {}: both sets are constant; the test needs some spread", path_a,
                            path_b));
  if (label.empty()) label = fmt::format("{} vs {}", path_a, path_b);
  // Not shown equivalent is not shown different: Welch's two-sided test tells the two apart,
  // so that a sample too small for either reads as inconclusive.
  const auto welch = stats::welch_t_test(*a, *b);
  const bool different = welch && welch->p_value < 0.05;
  std::string verdict = fmt::format("equivalent within ±{:g}", margin);
  if (!tost->equivalent)
    verdict = different ? "different (Welch p < 0.05)"
                        : "inconclusive: neither equivalent nor different (more seeds needed)";
  if (!no_header) {
    fmt::print(
        "| comparison | {} n, mean [95 % CI] | {} n, mean [95 % CI] | {} − {} [90 % CI] | "
        "TOST p | Welch p | verdict |\n",
        name_a, name_b, name_a, name_b);
    fmt::print("|---|---|---|---|---|---|---|\n");
  }
  fmt::print("| {} | {} | {} | {:+.2f} [{:+.2f}, {:+.2f}] | {:.3g} | {} | {} |\n", label,
             arm_cell(*a, range), arm_cell(*b, range), tost->difference, tost->ci_low,
             tost->ci_high, tost->p_value, welch ? fmt::format("{:.3g}", welch->p_value) : "–",
             verdict);
  return kExitOk;
}

}  // namespace stodepth::cli
