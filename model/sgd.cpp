#include "model/sgd.h"

namespace stodepth {

void sgd_step(const OptimizerConfig& config, double learning_rate, dnn::ParamStore& params) {
  const float lr = float(learning_rate), mu = float(config.momentum);
  const float decay = float(config.weight_decay);
  const bool nesterov = config.nesterov;
  for (dnn::Param* p : params.all()) {
    float* w = dnn::ptr(p->value);
    const float* g = dnn::ptr(p->grad);
    float* v = p->velocity.data();
    const int64_t count = static_cast<int64_t>(p->velocity.size());
#pragma omp parallel for simd if (count > 16384)
    for (int64_t i = 0; i < count; ++i) {
      const float d = g[i] + decay * w[i];
      v[i] = mu * v[i] + d;
      w[i] -= lr * (nesterov ? d + mu * v[i] : v[i]);
    }
  }
}

}  // namespace stodepth
