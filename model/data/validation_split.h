// The validation split of the paper's protocol (Huang et al., 2016, Sec. 4: 45k/5k on CIFAR):
// training examples held out to choose the epoch whose test error is reported.
#pragma once

#include <cstdint>

#include "model/base/result.h"
#include "model/data/dataset.h"

namespace stodepth::data {

// Moves `count` examples of d.train into d.validation. The rule depends only on `count`,
// `seed` and the training set, never on a run's training seed, so every seed and arm of a
// sweep holds out the same examples: a Fisher–Yates shuffle of the indices 0..N−1 driven by
// Rng(seed) (model/base/rng.h) picks the first `count` shuffled indices; both parts keep the
// original order of the training set. count == 0 leaves d unchanged. An Error (naming
// dataset.validation) if count leaves fewer than one training example.
Status split_validation(Dataset& d, int64_t count, uint64_t seed);

}  // namespace stodepth::data
