#include "model/dnn/loss.h"

#include <algorithm>
#include <cmath>

namespace stodepth::dnn {

LossValue softmax_cross_entropy(const float* logits, const int32_t* labels, int64_t n, int k,
                                float* grad) {
  LossValue out;
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float* row = logits + i * k;
    const int argmax = static_cast<int>(std::max_element(row, row + k) - row);
    const double max = row[argmax];  // subtracted for a stable exp
    double sum = 0;
    for (int j = 0; j < k; ++j) sum += std::exp(row[j] - max);
    const double log_sum = std::log(sum) + max;
    total += log_sum - row[labels[i]];
    out.correct += argmax == labels[i];
    if (grad) {
      for (int j = 0; j < k; ++j) {
        const double softmax = std::exp(row[j] - log_sum);
        grad[i * k + j] = static_cast<float>((softmax - (j == labels[i])) / double(n));
      }
    }
  }
  out.mean_loss = total / double(n);
  return out;
}

}  // namespace stodepth::dnn
