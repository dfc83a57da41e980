// `stodepth bench`: training throughput of the engine, and the realized stochastic-depth
// speedup next to the theoretical one. The plain and the stochastic network run in
// alternating rounds in one process, so the ratio is robust to a noisy machine.
#include <omp.h>

#include <algorithm>
#include <chrono>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "model/config/flops.h"
#include "model/resnet.h"
#include "model/base/rng.h"
#include "model/sgd.h"
#include "model/trainer.h"
#include "tools/commands.h"
#include "tools/parse.h"

namespace stodepth::cli {
namespace {

struct BenchFlags {
  std::vector<int> depths = {20, 56};
  double p_L = 0.5;
  std::string rule = "linear", shortcut = "A", sd_mode = "batch";
  int batch = 128, threads = 0, rounds = 5, steps = 4, warmup = 3;
  int channels = 1, size = 28;
};

// One network and its gate stream; a step is gates (or per-sample keep decisions) + forward +
// backward + SGD update.
struct Runner {
  Runner(const ModelConfig& model, SurvivalRule rule, double p_L, DropMode mode,
         const BenchFlags& f)
      : survival(survival_probabilities(rule, p_L, model.blocks())),
        computed(residual_compute_probabilities({rule, p_L, mode}, model.blocks())),
        net(model, survival, {f.channels, f.size, f.size}, 10, f.batch, 7, mode),
        gates(model.blocks()),
        keep(mode == DropMode::kSample ? model.blocks() : 0, std::vector<bool>(f.batch)),
        rng(11) {
    Rng fill(5);
    for (int64_t i = 0; i < int64_t(f.batch) * f.channels * f.size * f.size; ++i)
      net.train_images()[i] = float(fill.normal());
    for (int i = 0; i < f.batch; ++i) net.train_labels()[i] = i % 10;
  }
  double run_ms(int steps) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int s = 0; s < steps; ++s) {
      if (net.drop_mode() == DropMode::kSample) {
        draw_keep_decisions(rng, survival, keep);
        net.train_step_per_sample(keep);
      } else {
        for (size_t l = 0; l < gates.size(); ++l) gates[l] = rng.bernoulli(survival[l]);
        net.train_step(gates);
      }
      sgd_step(OptimizerConfig{}, 0.01, net.params());
    }
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
               .count() / steps;
  }
  std::vector<double> survival;
  std::vector<double> computed;  // per block, the probability that its residual computes
  ResNet net;
  std::vector<bool> gates;
  std::vector<std::vector<bool>> keep;
  Rng rng;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// The machine's f32 limit as oneDNN reaches it: a square matmul large enough to be
// compute-bound, on the same threads and ISA as the training. Median GFLOP/s of 5 runs.
constexpr int kPeakMatmulSize = 2048;
double measure_peak_gflops() {
  dnn::Context ctx;
  const int64_t n = kPeakMatmulSize;
  const auto desc = dnn::f32_desc({n, n}, dnn::Tag::ab);
  const dnnl::matmul::primitive_desc pd({desc, desc, desc}, ctx.engine);
  const dnnl::matmul matmul(pd);
  dnn::memory a = dnn::zeros(desc, ctx.engine), b = dnn::zeros(desc, ctx.engine),
              c = dnn::zeros(desc, ctx.engine);
  std::fill_n(dnn::ptr(a), n * n, 1.f);
  std::fill_n(dnn::ptr(b), n * n, 0.5f);
  const auto run_ms = [&] {
    const auto t0 = std::chrono::steady_clock::now();
    matmul.execute(ctx.stream, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
    ctx.stream.wait();
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
        .count();
  };
  run_ms();  // warm-up: kernel generation, page faults
  std::vector<double> gflops;
  for (int r = 0; r < 5; ++r) gflops.push_back(2.0 * n * n * n / run_ms() / 1e6);
  return median(gflops);
}

}  // namespace

CommandResult run_bench(int argc, char** argv) {
  CLI::App app{"Measure training images/s and the stochastic-depth speedup.", "stodepth bench"};
  BenchFlags f;
  app.add_option("--depth", f.depths, "ResNet depths (6n+2), comma separated")
      ->delimiter(',')->capture_default_str();
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
  app.add_option("--batch", f.batch, "Mini-batch size")->capture_default_str();
  app.add_option("--threads", f.threads, "OpenMP threads (0: all cores)")->capture_default_str();
  app.add_option("--rounds", f.rounds, "Alternating measurement rounds")->capture_default_str();
  app.add_option("--steps", f.steps, "Training steps per round")->capture_default_str();
  app.add_option("--warmup", f.warmup, "Untimed steps first")->capture_default_str();
  app.add_option("--channels", f.channels, "Input channels")->capture_default_str();
  app.add_option("--size", f.size, "Input height and width")->capture_default_str();
  if (auto exit = parse_flags(app, argc, argv)) return *exit;
  const auto rule = parse_enum<SurvivalRule>(f.rule);
  const auto shortcut = parse_enum<Shortcut>(f.shortcut);
  const auto mode = parse_enum<DropMode>(f.sd_mode);
  if (!rule || !shortcut || !mode || f.batch < 1 || f.rounds < 1 || f.steps < 1 || f.warmup < 0 ||
      f.channels < 1 || f.size < 4 || f.threads < 0 || !(f.p_L > 0 && f.p_L <= 1)) {
    fmt::print(stderr, "stodepth bench: invalid flag value (see --help)\n");
    return kExitBadInput;
  }
  const int threads = use_openmp_threads(f.threads);
  fmt::print("oneDNN {}.{}.{} at {}, {} threads, batch {}, input {}x{}x{}, shortcut {}, {} p_L={} "
             "({} mode)\n",
             dnnl::version()->major, dnnl::version()->minor, dnnl::version()->patch,
             dnn::cpu_isa_name(), threads, f.batch, f.channels, f.size, f.size, f.shortcut,
             f.rule, f.p_L, f.sd_mode);
  const double peak_gflops = measure_peak_gflops();
  fmt::print("f32 limit: {:.1f} GFLOP/s (oneDNN matmul {}^3). Share of it: training FLOPs per "
             "image (conv forward + backward-data + backward-weights) x images/s\n",
             peak_gflops, kPeakMatmulSize);
  fmt::print("{:>6} {:>12} {:>12} {:>10} {:>10} {:>9} {:>9} {:>9} {:>11} {:>11}\n", "depth",
             "plain img/s", "sd img/s", "plain ms", "sd ms", "speedup", "theory", "realized",
             "plain limit", "sd limit");
  for (int depth : f.depths) {
    ModelConfig model;
    model.depth = depth;
    model.shortcut = *shortcut;
    if (depth < 8 || (depth - 2) % 6) {
      fmt::print(stderr, "stodepth bench: --depth {} is not 6n+2\n", depth);
      return kExitBadInput;
    }
    Runner plain(model, *rule, 1.0, DropMode::kBatch, f), sd(model, *rule, f.p_L, *mode, f);
    plain.run_ms(f.warmup);
    sd.run_ms(f.warmup);
    std::vector<double> plain_ms, sd_ms, ratios;
    for (int r = 0; r < f.rounds; ++r) {
      plain_ms.push_back(plain.run_ms(f.steps));
      sd_ms.push_back(sd.run_ms(f.steps));
      ratios.push_back(plain_ms.back() / sd_ms.back());
    }
    const double p = median(plain_ms), s = median(sd_ms), speedup = median(ratios);
    const InputShape input{f.channels, f.size, f.size};
    const double theory = theoretical_speedup(model, input, *rule, f.p_L, *mode);
    const ConvFlops flops = conv_flops(model, input);
    const double plain_ips = f.batch * 1000 / p, sd_ips = f.batch * 1000 / s;
    const auto share_of_limit = [&](const Runner& runner, double images_per_s) {
      return 100 * expected_training_flops(flops, runner.computed) * images_per_s /
             (peak_gflops * 1e9);
    };
    fmt::print("{:>6} {:>12.1f} {:>12.1f} {:>10.1f} {:>10.1f} {:>8.3f}x {:>8.3f}x {:>8.1f}% "
               "{:>10.1f}% {:>10.1f}%\n",
               depth, plain_ips, sd_ips, p, s, speedup, theory, 100 * speedup / theory,
               share_of_limit(plain, plain_ips), share_of_limit(sd, sd_ips));
  }
  return kExitOk;
}

}  // namespace stodepth::cli
