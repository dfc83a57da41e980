// Every primitive of a training step and of an evaluation runs an optimised oneDNN kernel,
// never a reference one (`ref:*`: plain C++ loops, often a hundred times slower, e.g. the
// 1-channel stem's backward-weights convolution on AVX2). oneDNN dispatches by the ISA it may
// use, so CTest runs this test twice: at the host's best ISA, and capped with
// DNNL_MAX_CPU_ISA=AVX2 (the cap is read once per process) — an AVX-512 machine checks the
// AVX2 path, and an AVX2 machine checks it natively.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <string>

#include <fmt/format.h>
#include <oneapi/dnnl/dnnl.hpp>

#include "model/config/config.h"
#include "model/config/flops.h"
#include "model/engine_info.h"
#include "model/resnet.h"
#include "model/config/survival.h"

using namespace stodepth;

namespace {

struct Network {
  InputShape input;
  ModelConfig model;
  int batch = 128;
  DropMode mode = DropMode::kBatch;
  Precision precision = Precision::kF32;
  std::string describe() const {
    return fmt::format("{}x{}x{} input, depth {}, width {}, shortcut {}, batch {}, {} mode, {}",
                       input.channels, input.height, input.width, model.depth, model.width,
                       to_string(model.shortcut), batch, to_string(mode), to_string(precision));
  }
};

// Builds the training graph (kept and dropped blocks' paths alike) and the inference graphs of
// a full and a partial evaluation batch, and returns every primitive that dispatched to a
// reference kernel. oneDNN picks the kernel when a primitive is created, not when it runs.
std::vector<std::string> reference_kernels(const Network& net) {
  const int blocks = net.model.blocks();
  ResNet resnet(net.model, survival_probabilities(SurvivalRule::kLinear, 0.5, blocks), net.input,
                10, net.batch, 1, net.mode, net.precision);
  for (int n : {400, 17}) resnet.prepare_evaluation(n);  // the default eval batch, a remainder
  std::vector<std::string> found;
  const auto primitives = resnet.primitives();
  REQUIRE(primitives.size() > size_t(10 * blocks));  // the listing sees the whole network
  for (const auto& p : primitives)
    if (p.implementation.rfind("ref", 0) == 0)
      found.push_back(fmt::format("{}: {}", p.kind, p.implementation));
  return found;
}

void check_no_reference_kernels(const Network& net) {
  INFO(net.describe() << " at " << onednn_isa());
  CHECK(fmt::format("{}", fmt::join(reference_kernels(net), "; ")) == "");
}

}  // namespace

TEST_CASE("the ISA cap in the environment is in effect") {
  const char* cap = std::getenv("DNNL_MAX_CPU_ISA");
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  WARN("oneDNN " << dnnl::version()->major << "." << dnnl::version()->minor << "."
                 << dnnl::version()->patch << " runs at " << onednn_isa()
                 << (cap ? std::string(" (DNNL_MAX_CPU_ISA=") + cap + ")" : std::string()));
  REQUIRE(isa >= dnnl::cpu_isa::avx2);  // the project supports AVX2 and up
  if (cap && std::string(cap) == "AVX2") CHECK(isa == dnnl::cpu_isa::avx2);
}

TEST_CASE("no reference kernel in any shipped input shape, shortcut and width") {
  for (InputShape input : {InputShape{1, 28, 28}, InputShape{3, 32, 32}})
    for (Shortcut shortcut : {Shortcut::kA, Shortcut::kB, Shortcut::kC})
      for (int width = 1; width <= 4; ++width) {
        // Depth 14 (two blocks a stage) has every distinct layer shape of any deeper network:
        // the stem, each stage's first (strided) block and its later blocks, the head.
        Network net{input, ModelConfig{14, width, shortcut}};
        check_no_reference_kernels(net);
      }
}

TEST_CASE("no reference kernel at depth 110 and at other batch sizes") {
  for (InputShape input : {InputShape{1, 28, 28}, InputShape{3, 32, 32}})
    check_no_reference_kernels(Network{input, ModelConfig{110, 1, Shortcut::kA}});
  for (int batch : {32, 64, 256})
    check_no_reference_kernels(Network{InputShape{1, 28, 28}, ModelConfig{14, 1, Shortcut::kB},
                                       batch});
}

TEST_CASE("no reference kernel at bf16, in either drop mode") {
  if (!has_native_bf16()) {
    WARN("skipped: this CPU has no bf16 (oneDNN runs at " << onednn_isa() << ")");
    return;
  }
  for (InputShape input : {InputShape{1, 28, 28}, InputShape{3, 32, 32}})
    for (Shortcut shortcut : {Shortcut::kA, Shortcut::kB, Shortcut::kC})
      for (DropMode mode : {DropMode::kBatch, DropMode::kSample})
        check_no_reference_kernels(
            Network{input, ModelConfig{14, 1, shortcut}, 128, mode, Precision::kBf16});
}
