// bf16 mixed precision. The host's conversions and shortcut A in bf16 are checked on any CPU,
// against oneDNN's own f32 ⇄ bf16 reorders (which run everywhere). Training in bf16 needs a CPU
// with bf16 arithmetic: those tests say "skipped: this CPU has no bf16" elsewhere, and this
// file is registered a second time capped at AVX2 (DNNL_MAX_CPU_ISA), where they always skip
// and the refusal is what is checked.
#include "model/dnn/bf16.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/base/rng.h"
#include "model/config/survival.h"
#include "model/dnn/shortcut.h"
#include "model/engine_info.h"
#include "model/resnet.h"
#include "model/trainer.h"
#include "tests/training_fixtures.h"

using namespace stodepth;
using namespace stodepth::dnn;
using stodepth::testing::check_resume_is_bit_identical;
using stodepth::testing::RecordingSink;
using stodepth::testing::small_config;
using stodepth::testing::synthetic;

namespace {

// True where bf16 training can run; elsewhere says why the test is skipped.
bool bf16_here() {
  if (has_native_bf16()) return true;
  WARN("skipped: this CPU has no bf16 (oneDNN runs at " << onednn_isa() << ")");
  return false;
}

// `values` converted by oneDNN's reorder, as bf16 bit patterns.
std::vector<uint16_t> onednn_bf16(const std::vector<float>& values) {
  Context ctx;
  const Dims dims = {int64_t(values.size())};
  memory src(f32_desc(dims, Tag::a), ctx.engine, const_cast<float*>(values.data()));
  memory dst({dims, Dt::bf16, Tag::a}, ctx.engine);
  dnnl::reorder(src, dst).execute(ctx.stream, src, dst);
  ctx.stream.wait();
  const auto* bits = static_cast<const uint16_t*>(dst.get_data_handle());
  return {bits, bits + values.size()};
}

// A (N, C, H, W) tensor of `type` in `tag` holding `plain` (nchw f32 values; bf16 rounds them).
memory tensor(Context& ctx, const Dims& dims, Dt type, Tag tag, const std::vector<float>& plain) {
  memory m = zeros({dims, type, tag}, ctx.engine);
  write_from(plain.data(), Tag::nchw, m, ctx);
  return m;
}

std::vector<float> plain_values(Context& ctx, const memory& m) {
  const Dims d = m.get_desc().dims();
  std::vector<float> out(size_t(d[0] * d[1] * d[2] * d[3]));
  read_into(m, out.data(), Tag::nchw, ctx);
  return out;
}

std::vector<float> normal_values(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(n);
  for (auto& x : v) x = float(rng.normal());
  return v;
}

}  // namespace

TEST_CASE("f32_to_bf16 rounds as oneDNN's reorder does, ties to even") {
  std::vector<float> values = {0.f,
                               -0.f,
                               1.f,
                               -2.5f,
                               1e-40f,
                               -3e-39f,
                               3.4e38f,
                               -3.4e38f,
                               INFINITY,
                               -INFINITY,
                               1.f + 0x1p-8f,              // a tie: stays 1 (even)
                               1.f + 3 * 0x1p-8f,          // a tie: up to the even 1 + 2^-6
                               1.f + 0x1p-8f + 0x1p-20f};  // above the tie: up
  Rng rng(3);
  for (int i = 0; i < 100000; ++i)
    values.push_back(float(rng.normal() * std::pow(10.0, rng.uniform() * 20 - 10)));
  const auto expected = onednn_bf16(values);
  int differences = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    // Zeros and flushed subnormals: oneDNN's reorder may drop the sign of a zero.
    const uint16_t ours = f32_to_bf16(values[i]);
    if (ours == expected[i] || ((ours | expected[i]) & 0x7fffu) == 0) continue;
    ++differences;
    UNSCOPED_INFO(values[i] << ": ours " << ours << ", oneDNN's " << expected[i]);
  }
  CHECK(differences == 0);
  CHECK(f32_to_bf16(1.f + 0x1p-8f) == 0x3f80);
  CHECK(f32_to_bf16(1.f + 3 * 0x1p-8f) == 0x3f82);
  CHECK(f32_to_bf16(1.f + 0x1p-8f + 0x1p-20f) == 0x3f81);
  CHECK(std::isnan(bf16_to_f32(f32_to_bf16(NAN))));
  CHECK(f32_to_bf16(-3e-39f) == 0x8000);   // a subnormal flushes to zero, keeping its sign
  CHECK(f32_to_bf16(1.2e-38f) == 0x0083);  // the smallest normal bf16s are kept
}

TEST_CASE("bf16_to_f32 is exact: every bf16 value but subnormals converts back to itself") {
  int mismatches = 0;
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    const float value = bf16_to_f32(uint16_t(bits));
    if (std::isnan(value) || std::fpclassify(value) == FP_SUBNORMAL) continue;
    mismatches += f32_to_bf16(value) != bits;
  }
  CHECK(mismatches == 0);
}

TEST_CASE("shortcut A in bf16 carries the values and rounds each gradient sum once") {
  Context ctx;
  const Dims in = {3, 16, 6, 6}, out = {3, 32, 3, 3};
  for (Tag tag : {Tag::nchw, Tag::nChw16c}) {
    INFO("layout " << int(tag));
    const auto x_values = normal_values(3 * 16 * 36, 1);
    const memory x = tensor(ctx, in, Dt::bf16, tag, x_values);
    const memory y = tensor(ctx, out, Dt::bf16, tag, normal_values(3 * 32 * 9, 2));
    shortcut_a_forward(x, y, 2);
    // The same shortcut in f32 on the bf16 values, then rounded by oneDNN: nothing to round.
    const memory x32 = tensor(ctx, in, Dt::f32, tag, plain_values(ctx, x));
    const memory y32 = zeros(f32_desc(out, tag), ctx.engine);
    shortcut_a_forward(x32, y32, 2);
    CHECK(plain_values(ctx, y) == plain_values(ctx, y32));

    // dx += dy: the f32 sum of the bf16 values, rounded to bf16 by oneDNN.
    const memory dy = tensor(ctx, out, Dt::bf16, tag, normal_values(3 * 32 * 9, 3));
    const memory dx = tensor(ctx, in, Dt::bf16, tag, normal_values(3 * 16 * 36, 4));
    const memory dy32 = tensor(ctx, out, Dt::f32, tag, plain_values(ctx, dy));
    const auto before = plain_values(ctx, dx);
    const memory dx32 = tensor(ctx, in, Dt::f32, tag, before);
    shortcut_a_backward(dy, dx, 2, GradientWrite::kAccumulate);
    shortcut_a_backward(dy32, dx32, 2, GradientWrite::kAccumulate);
    const auto sums = plain_values(ctx, dx32);
    const auto rounded = onednn_bf16(sums);
    const auto got = plain_values(ctx, dx);
    int mismatches = 0;
    for (size_t i = 0; i < got.size(); ++i) mismatches += f32_to_bf16(got[i]) != rounded[i];
    CHECK(mismatches == 0);
    CHECK(got != before);
    shortcut_a_backward(dy, dx, 2, GradientWrite::kAssign);
    shortcut_a_backward(dy32, dx32, 2, GradientWrite::kAssign);
    CHECK(plain_values(ctx, dx) == plain_values(ctx, dx32));
  }
}

TEST_CASE("check_precision: f32 everywhere, bf16 only with bf16 arithmetic, refused by ISA") {
  CHECK(check_precision(Precision::kF32).ok());
  const Status bf16 = check_precision(Precision::kBf16);
  CHECK(bf16.ok() == has_native_bf16());
  if (!bf16.ok()) {
    const std::string message = bf16.error().message;
    CHECK(bf16.error().kind == ErrorKind::kBadInput);
    CHECK_THAT(message, Catch::Contains("train.precision: bf16 needs a CPU with bf16 arithmetic"));
    CHECK_THAT(message, Catch::Contains("runs oneDNN at " + onednn_isa()));
    CHECK(message.find('\n') == std::string::npos);
  }
}

TEST_CASE("training refuses bf16 where the CPU has no bf16 arithmetic, before any step") {
  TrainConfig c = small_config();
  c.train.precision = Precision::kBf16;
  c.train.iterations = 2;
  RecordingSink sink;
  const auto summary = train(c, synthetic(), sink);
  CHECK(summary.ok() == has_native_bf16());
  if (!summary.ok()) {
    CHECK(summary.error().kind == ErrorKind::kBadInput);
    CHECK(sink.iterations.empty());
  }
}

TEST_CASE("bf16 training: loss and gradients agree with the f32 network's") {
  if (!bf16_here()) return;
  ModelConfig model;
  model.depth = 14;
  const auto survival = survival_probabilities(SurvivalRule::kLinear, 0.5, model.blocks());
  ResNet f32(model, survival, {1, 28, 28}, 10, 32, 7);
  ResNet bf16(model, survival, {1, 28, 28}, 10, 32, 7, DropMode::kBatch, Precision::kBf16);
  const auto& d = synthetic();
  for (ResNet* net : {&f32, &bf16}) {
    for (int i = 0; i < 32 * 784; ++i) net->train_images()[i] = d.train.images[i] / 255.f;
    for (int i = 0; i < 32; ++i) net->train_labels()[i] = d.train.labels[i];
  }
  const std::vector<bool> gates = {true, false, true, true, true, false};
  const auto a = f32.train_step(gates), b = bf16.train_step(gates);
  CHECK(b.mean_loss == Approx(a.mean_loss).epsilon(0.02));
  // Each parameter's gradient: the same direction, the same size within bf16's few digits.
  Context ctx;
  for (Param* p : f32.params().all()) {
    INFO(p->name);
    Param* q = bf16.params().find(p->name);
    REQUIRE(q != nullptr);
    const auto n = size_t(p->grad.get_desc().get_size() / sizeof(float));
    const float *g = ptr(p->grad), *h = ptr(q->grad);  // the same layout: f32 masters
    double dot = 0, gg = 0, hh = 0;
    for (size_t i = 0; i < n; ++i)
      dot += double(g[i]) * h[i], gg += double(g[i]) * g[i], hh += double(h[i]) * h[i];
    if (gg == 0) {
      CHECK(hh == 0);  // a dropped block's
      continue;
    }
    CHECK(dot / std::sqrt(gg * hh) > 0.99);
    CHECK(std::sqrt(hh / gg) == Approx(1).epsilon(0.05));
  }
  // Dropped blocks computed nothing.
  CHECK(bf16.residual_primitive_executions(1) == 0);
  CHECK(bf16.residual_primitive_executions(5) == 0);
  CHECK(bf16.residual_primitive_executions(0) > 0);
}

TEST_CASE("bf16 training learns and resumes bit-identically, in either mode") {
  if (!bf16_here()) return;
  const data::Dataset small = data::make_synthetic(640, 300, 1, 28, 10, 5);
  for (DropMode mode : {DropMode::kBatch, DropMode::kSample}) {
    INFO("mode " << to_string(mode));
    TrainConfig c = small_config();
    c.train.precision = Precision::kBf16;
    c.sd.mode = mode;
    c.train.iterations = 25;
    c.eval.every = 3;
    c.eval.batch = 128;
    const RecordingSink reference = check_resume_is_bit_identical(c, small);
    CHECK(reference.iterations.back().loss < 0.7 * reference.iterations.front().loss);
  }
}
