#include "model/bench.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "model/base/rng.h"
#include "model/engine_errors.h"
#include "model/engine_info.h"
#include "model/resnet.h"
#include "model/sgd.h"

namespace stodepth {
namespace {

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// One network and its gate stream; a step is gates (or per-sample keep decisions) + forward +
// backward + SGD update.
struct Runner {
  Runner(const ThroughputBench& bench, double p_L, DropMode mode)
      : survival(survival_probabilities(bench.rule, p_L, bench.model.blocks())),
        computed(residual_compute_probabilities({bench.rule, p_L, mode}, bench.model.blocks())),
        net(bench.model, survival, bench.input, 10, bench.batch, 7, mode, bench.precision),
        gates(bench.model.blocks()),
        keep(mode == DropMode::kSample ? bench.model.blocks() : 0, std::vector<bool>(bench.batch)),
        rng(11) {
    Rng fill(5);
    const InputShape& in = bench.input;
    for (int64_t i = 0; i < int64_t(bench.batch) * in.channels * in.height * in.width; ++i)
      net.train_images()[i] = float(fill.normal());
    for (int i = 0; i < bench.batch; ++i) net.train_labels()[i] = i % 10;
  }
  double run_ms(int steps) {
    const auto start = std::chrono::steady_clock::now();
    for (int s = 0; s < steps; ++s) {
      if (net.drop_mode() == DropMode::kSample) {
        draw_keep_decisions(rng, survival, keep);
        net.train_step_per_sample(keep);
      } else {
        draw_gates(rng, survival, gates);
        net.train_step(gates);
      }
      sgd_step(OptimizerConfig{}, 0.01, net.params());
    }
    return ms_since(start) / steps;
  }
  std::vector<double> survival;
  std::vector<double> computed;  // per block, the probability that its residual computes
  ResNet net;
  std::vector<bool> gates;
  std::vector<std::vector<bool>> keep;
  Rng rng;
};

double peak_gflops(Precision precision) {
  dnn::Context ctx;
  const int64_t n = kPeakMatmulSize;
  const auto out = dnn::f32_desc({n, n}, dnn::Tag::ab);
  const auto in = precision == Precision::kBf16 ? dnn::with_type(out, dnn::Dt::bf16) : out;
  const dnnl::matmul::primitive_desc pd({in, in, out}, ctx.engine);
  const dnnl::matmul matmul(pd);
  dnn::memory a = dnn::zeros(in, ctx.engine), b = dnn::zeros(in, ctx.engine),
              c = dnn::zeros(out, ctx.engine);
  const std::vector<float> ones(size_t(n * n), 1.f), halves(size_t(n * n), 0.5f);
  dnn::write_from(ones.data(), dnn::Tag::ab, a, ctx);
  dnn::write_from(halves.data(), dnn::Tag::ab, b, ctx);
  const auto run_ms = [&] {
    const auto start = std::chrono::steady_clock::now();
    matmul.execute(ctx.stream, {{DNNL_ARG_SRC, a}, {DNNL_ARG_WEIGHTS, b}, {DNNL_ARG_DST, c}});
    ctx.stream.wait();
    return ms_since(start);
  };
  run_ms();  // warm-up: kernel generation, page faults
  std::vector<double> gflops;
  for (int r = 0; r < 5; ++r) gflops.push_back(2.0 * n * n * n / run_ms() / 1e6);
  return median(gflops);
}

Throughput throughput(const ThroughputBench& bench) {
  Runner plain(bench, 1.0, DropMode::kBatch), sd(bench, bench.p_L, bench.mode);
  plain.run_ms(bench.warmup);
  sd.run_ms(bench.warmup);
  std::vector<double> plain_ms, sd_ms, ratios;
  for (int r = 0; r < bench.rounds; ++r) {
    plain_ms.push_back(plain.run_ms(bench.steps));
    sd_ms.push_back(sd.run_ms(bench.steps));
    ratios.push_back(plain_ms.back() / sd_ms.back());
  }
  Throughput t;
  t.plain_ms = median(plain_ms);
  t.sd_ms = median(sd_ms);
  t.speedup = median(ratios);
  t.theoretical_speedup =
      theoretical_speedup(bench.model, bench.input, bench.rule, bench.p_L, bench.mode);
  t.plain_images_per_second = bench.batch * 1000 / t.plain_ms;
  t.sd_images_per_second = bench.batch * 1000 / t.sd_ms;
  const ConvFlops flops = conv_flops(bench.model, bench.input);
  t.plain_training_flops = expected_training_flops(flops, plain.computed);
  t.sd_training_flops = expected_training_flops(flops, sd.computed);
  return t;
}

}  // namespace

Result<double> measure_peak_gflops(Precision precision) {
  if (auto supported = check_precision(precision); !supported) return supported.error();
  return engine_errors_as_values([=]() -> Result<double> { return peak_gflops(precision); });
}

Result<Throughput> measure_throughput(const ThroughputBench& bench) {
  if (auto supported = check_precision(bench.precision); !supported) return supported.error();
  return engine_errors_as_values([&]() -> Result<Throughput> { return throughput(bench); });
}

}  // namespace stodepth
