// The hand-written SGD update against PyTorch's formulation, computed independently here.
#include <catch2/catch.hpp>

#include <cmath>

#include "model/sgd.h"

using namespace stodepth;

namespace {

// Reference: torch.optim.SGD (dampening 0), in double:
//   d = g + wd·w;  v = μ·v + d;  w -= lr·(nesterov ? d + μ·v : v)
void reference_step(std::vector<double>& w, std::vector<double>& v, const std::vector<double>& g,
                    double lr, double mu, double wd, bool nesterov) {
  for (size_t i = 0; i < w.size(); ++i) {
    const double d = g[i] + wd * w[i];
    v[i] = mu * v[i] + d;
    w[i] -= lr * (nesterov ? d + mu * v[i] : v[i]);
  }
}

}  // namespace

TEST_CASE("sgd_step matches the PyTorch update over several steps", "[sgd]") {
  for (bool nesterov : {false, true}) {
    dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    dnn::ParamStore params;
    const auto desc = dnn::f32_desc({5}, dnn::Tag::a);
    dnn::Param& p = params.get_or_create("w", desc, 0, engine);
    std::vector<double> w = {0.5, -1.0, 2.0, 0.0, 3.0}, v(5, 0.0);
    for (int i = 0; i < 5; ++i) dnn::ptr(p.value)[i] = float(w[i]);
    OptimizerConfig config{0.9, nesterov, 1e-2};
    for (int step = 0; step < 4; ++step) {
      std::vector<double> g = {0.1 * step, -0.2, 0.3, 1.0, -0.05 * step};
      for (int i = 0; i < 5; ++i) dnn::ptr(p.grad)[i] = float(g[i]);
      const double lr = 0.1 / (step + 1);
      sgd_step(config, lr, params);
      reference_step(w, v, g, lr, config.momentum, config.weight_decay, nesterov);
    }
    for (int i = 0; i < 5; ++i) {
      CHECK(dnn::ptr(p.value)[i] == Approx(w[i]).margin(1e-6));
      CHECK(p.velocity[i] == Approx(v[i]).margin(1e-6));
    }
  }
}

TEST_CASE("a zero gradient still applies weight decay and momentum", "[sgd]") {
  dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  dnn::ParamStore params;
  dnn::Param& p = params.get_or_create("w", dnn::f32_desc({1}, dnn::Tag::a), 3, engine);
  dnn::ptr(p.value)[0] = 2.0f;
  p.velocity[0] = 0.5f;
  sgd_step(OptimizerConfig{0.9, false, 0.1}, 1.0, params);
  // d = 0 + 0.1·2 = 0.2; v = 0.45 + 0.2 = 0.65; w = 2 − 0.65
  CHECK(p.velocity[0] == Approx(0.65));
  CHECK(dnn::ptr(p.value)[0] == Approx(1.35));
}
