// Assembles normalised (and optionally augmented) float mini-batches from a Dataset.
#pragma once

#include <cstdint>
#include <vector>

#include "model/data/dataset.h"
#include "model/rng.h"

namespace stodepth::data {

// Per-channel mean and standard deviation of the training images on the [0, 1] scale.
struct Normalization {
  std::vector<float> mean, stddev;  // (C)
};
Normalization compute_normalization(const Dataset& dataset);

struct Augment {
  int crop_pad = 0;   // random crop after zero padding by this many pixels (0: off)
  bool flip = false;  // random horizontal flip
};

// Writes `count` test (or train) examples starting at `first` into images (count, C, H, W)
// and labels (count), normalised, never augmented.
void fill_examples(const Dataset& dataset, const Split& split, const Normalization& norm,
                   int64_t first, int64_t count, float* images, int32_t* labels);

// Training batches in an order reshuffled every epoch from the seed. Each epoch has
// floor(N / batch) full batches; the remainder of a permutation is dropped (the next
// epoch's reshuffle covers it), so every training step has the same shape.
class TrainBatcher {
 public:
  TrainBatcher(const Dataset& dataset, const Normalization& norm, int batch, Augment augment,
               uint64_t seed);

  int64_t batches_per_epoch() const;
  // Fills images (batch, C, H, W) and labels (batch); advances one batch.
  void next(float* images, int32_t* labels);

  // Checkpointable position: the epoch being drawn, the batch within it, and the RNG.
  struct State {
    int64_t epoch = 0, batch_in_epoch = 0;
    Rng::State rng{};
  };
  State state() const;
  void restore(const State& state);

 private:
  ...
};

}  // namespace stodepth::data
