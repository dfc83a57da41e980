// Assembles normalised (and optionally augmented) float mini-batches from a Dataset.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "model/data/dataset.h"
#include "model/base/rng.h"

namespace stodepth::data {

// Per-channel mean and standard deviation of the training images on the [0, 1] scale
// (population std). A constant channel gets stddev 1 instead of 0, so normalising
// never divides by zero (its normalised value is then just pixel - mean).
struct Normalization {
  std::vector<float> mean, stddev;  // (C)
};
Normalization compute_normalization(const Dataset& dataset);

// Writes `count` test (or train) examples starting at `first` into images (count, C, H, W)
// and labels (count), normalised as (pixel / 255 - mean[c]) / stddev[c], never augmented.
// Precondition: 0 <= first, first + count <= split.size().
void fill_examples(const Dataset& dataset, const Split& split, const Normalization& norm,
                   int64_t first, int64_t count, float* images, int32_t* labels);

// Training batches in an order reshuffled every epoch from the seed. Each epoch has
// floor(N / batch) full batches; the remainder of a permutation is dropped (the next
// epoch's reshuffle covers it), so every training step has the same shape.
//
// Epoch e's order is a Fisher-Yates shuffle driven by Rng(Rng::derive(seed, e)), so it is
// recomputed from the epoch number alone; augmentation draws from its own stream, whose
// state is part of State. Random crops pad with 0 *after* normalisation (the channel
// mean), as fb.resnet.torch does, so padding carries no signal.
//
// Preconditions (validated by the caller, asserted here): 0 < batch <= N. The dataset
// must outlive the batcher.
class TrainBatcher {
 public:
  TrainBatcher(const Dataset& dataset, const Normalization& norm, int batch, Augment augment,
               uint64_t seed);

  int64_t batches_per_epoch() const;
  // Fills images (batch, C, H, W) and labels (batch); advances one batch.
  void next(float* images, int32_t* labels);

  // Checkpointable position: the epoch being drawn, the batch within it, and the RNG.
  // After the last batch of epoch e the state reads {e + 1, 0, ...}.
  struct State {
    int64_t epoch = 0, batch_in_epoch = 0;
    Rng::State rng{};
  };
  State state() const;
  // Precondition: `state` came from a batcher over the same data with the same batch size.
  void restore(const State& state);

 private:
  using Lut = std::array<float, 256>;  // normalised value of each byte, for one channel

  void shuffle_for_epoch();
  // Writes one normalised, randomly cropped/flipped image (C, H, W).
  void write_augmented(const uint8_t* src, float* dst);

  const Dataset* dataset_;
  int batch_;
  Augment augment_;
  uint64_t seed_;
  std::vector<Lut> luts_;        // (C)
  std::vector<int64_t> order_;   // (N) permutation of epoch `order_epoch_`
  int64_t order_epoch_ = -1;
  int64_t epoch_ = 0, batch_in_epoch_ = 0;
  Rng augment_rng_;
};

}  // namespace stodepth::data
