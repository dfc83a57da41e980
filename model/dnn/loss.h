// Softmax cross-entropy: the one loss, written by hand (oneDNN has no fused loss).
#pragma once

#include <cstdint>

namespace stodepth::dnn {

struct LossValue {
  double mean_loss = 0;  // mean over the batch of −log softmax(logits)[label]
  int64_t correct = 0;   // argmax(logits) == label
};

// logits (N, K) row-major, labels (N). When `grad` is not null it receives
// d(mean_loss)/d(logits) = (softmax − onehot) / N, shape (N, K).
LossValue softmax_cross_entropy(const float* logits, const int32_t* labels, int64_t n, int k,
                                float* grad);

}  // namespace stodepth::dnn
