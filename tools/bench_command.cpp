// `stodepth bench`: training throughput of the engine, and the realized stochastic-depth
// speedup next to the theoretical one (the measurement is model/bench.h's).
#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "model/bench.h"
#include "model/config/config.h"
#include "model/engine_info.h"
#include "model/trainer.h"
#include "tools/commands.h"
#include "tools/parse.h"

namespace stodepth::cli {
namespace {

struct BenchFlags {
  std::vector<int> depths = {20, 56};
  double p_L = 0.5;
  std::string rule = "linear", shortcut = "A", sd_mode = "batch", precision = "f32";
  int batch = 128, threads = 0, rounds = 5, steps = 4, warmup = 3;
  int channels = 1, size = 28;
};

void add_bench_flags(CLI::App& app, BenchFlags& f) {
  app.add_option("--depth", f.depths, "ResNet depths (6n+2), comma separated")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--p-L", f.p_L, "Survival probability of the stochastic network")
      ->capture_default_str();
  app.add_option("--rule", f.rule,
                 fmt::format("{}", fmt::join(enum_names(SurvivalRule{}).names, " | ")))
      ->capture_default_str();
  app.add_option("--shortcut", f.shortcut,
                 fmt::format("{}", fmt::join(enum_names(Shortcut{}).names, " | ")))
      ->capture_default_str();
  app.add_option("--sd-mode", f.sd_mode,
                 "Stochastic network's drop mode: batch (skipped compute) | sample (per-sample, "
                 "full compute)")
      ->capture_default_str();
  app.add_option("--precision", f.precision,
                 "Both networks' arithmetic: f32 | bf16 (mixed precision; needs a CPU with bf16 "
                 "arithmetic); the limit is then a bf16 matmul's rate")
      ->capture_default_str();
  app.add_option("--batch", f.batch, "Mini-batch size")->capture_default_str();
  app.add_option("--threads", f.threads, "OpenMP threads (0: all cores)")->capture_default_str();
  app.add_option("--rounds", f.rounds, "Alternating measurement rounds")->capture_default_str();
  app.add_option("--steps", f.steps, "Training steps per round")->capture_default_str();
  app.add_option("--warmup", f.warmup, "Untimed steps first")->capture_default_str();
  app.add_option("--channels", f.channels, "Input channels")->capture_default_str();
  app.add_option("--size", f.size, "Input height and width")->capture_default_str();
}

// A network's images/s as a percentage of the machine's limit (f32 or bf16).
double share_of_limit(double training_flops, double images_per_second, double peak_gflops) {
  return 100 * training_flops * images_per_second / (peak_gflops * 1e9);
}

}  // namespace

CommandResult run_bench(int argc, char** argv) {
  CLI::App app{"Measure training images/s and the stochastic-depth speedup.", "stodepth bench"};
  BenchFlags f;
  add_bench_flags(app, f);
  if (auto exit = parse_flags(app, argc, argv)) return *exit;
  const auto rule = parse_enum<SurvivalRule>(f.rule);
  const auto shortcut = parse_enum<Shortcut>(f.shortcut);
  const auto mode = parse_enum<DropMode>(f.sd_mode);
  const auto precision = parse_enum<Precision>(f.precision);
  if (!rule || !shortcut || !mode || !precision || f.batch < 1 || f.rounds < 1 || f.steps < 1 ||
      f.warmup < 0 || f.channels < 1 || f.size < 4 || f.threads < 0 || !(f.p_L > 0 && f.p_L <= 1)) {
    return bad_input("invalid flag value (see --help)");
  }
  if (auto supported = check_precision(*precision); !supported) return supported.error();
  const int threads = use_openmp_threads(f.threads);
  fmt::print(
      "oneDNN {} at {}, {} threads, batch {}, input {}x{}x{}, shortcut {}, {} p_L={} "
      "({} mode), {}\n",
      onednn_version(), onednn_isa(), threads, f.batch, f.channels, f.size, f.size, f.shortcut,
      f.rule, f.p_L, f.sd_mode, to_string(*precision));
  const auto measured_peak = measure_peak_gflops(*precision);
  if (!measured_peak) return measured_peak.error();
  const double peak_gflops = measured_peak.value();
  // At bf16 the f32 limit too, beside it: how much faster the machine's bf16 arithmetic is.
  std::string f32_beside;
  if (*precision != Precision::kF32) {
    const auto f32_peak = measure_peak_gflops(Precision::kF32);
    if (!f32_peak) return f32_peak.error();
    f32_beside = fmt::format("; the f32 limit: {:.1f} GFLOP/s", f32_peak.value());
  }
  fmt::print(
      "{} limit: {:.1f} GFLOP/s (oneDNN matmul {}^3{}). Share of it: training FLOPs per "
      "image (conv forward + backward-data + backward-weights) x images/s\n",
      to_string(*precision), peak_gflops, kPeakMatmulSize, f32_beside);
  fmt::print("{:>6} {:>12} {:>12} {:>10} {:>10} {:>9} {:>9} {:>9} {:>11} {:>11}\n", "depth",
             "plain img/s", "sd img/s", "plain ms", "sd ms", "speedup", "theory", "realized",
             "plain limit", "sd limit");
  ThroughputBench bench;
  bench.model.shortcut = *shortcut;
  bench.rule = *rule;
  bench.p_L = f.p_L;
  bench.mode = *mode;
  bench.precision = *precision;
  bench.input = {f.channels, f.size, f.size};
  bench.batch = f.batch;
  bench.rounds = f.rounds;
  bench.steps = f.steps;
  bench.warmup = f.warmup;
  for (int depth : f.depths) {
    if (depth < 8 || (depth - 2) % 6) {
      return bad_input(fmt::format("--depth {} is not 6n+2", depth));
    }
    bench.model.depth = depth;
    const auto t = measure_throughput(bench);
    if (!t) return t.error();
    fmt::print(
        "{:>6} {:>12.1f} {:>12.1f} {:>10.1f} {:>10.1f} {:>8.3f}x {:>8.3f}x {:>8.1f}% "
        "{:>10.1f}% {:>10.1f}%\n",
        depth, t->plain_images_per_second, t->sd_images_per_second, t->plain_ms, t->sd_ms,
        t->speedup, t->theoretical_speedup, 100 * t->speedup / t->theoretical_speedup,
        share_of_limit(t->plain_training_flops, t->plain_images_per_second, peak_gflops),
        share_of_limit(t->sd_training_flops, t->sd_images_per_second, peak_gflops));
  }
  return kExitOk;
}

}  // namespace stodepth::cli
