#include "model/data/batcher.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numeric>

namespace stodepth::data {
namespace {

// Stream label of the augmentation RNG; epoch numbers label the shuffles, so it must
// be far from any epoch count.
constexpr uint64_t kAugmentStream = 0x4155474D454E54ull;  // "AUGMENT"
constexpr double kMinStddev = 1e-6;

using Lut = std::array<float, 256>;

// Per-channel tables so that normalising a pixel is one lookup, not a division.
std::vector<Lut> make_luts(const Normalization& norm) {
  std::vector<Lut> luts(norm.mean.size());
  for (size_t c = 0; c < luts.size(); ++c)
    for (int v = 0; v < 256; ++v)
      luts[c][v] = static_cast<float>((v / 255.0 - norm.mean[c]) / norm.stddev[c]);
  return luts;
}

void normalise_image(const uint8_t* src, float* dst, const std::vector<Lut>& luts,
                     int64_t plane) {
  for (const Lut& lut : luts)
    for (int64_t i = 0; i < plane; ++i) *dst++ = lut[*src++];
}

}  // namespace

Normalization compute_normalization(const Dataset& dataset) {
  const auto channels = static_cast<size_t>(dataset.channels);
  const int64_t plane = int64_t{dataset.height} * dataset.width;
  // Byte histograms make the statistics exact and cheap: (C, 256) counts.
  std::vector<std::array<int64_t, 256>> hist(channels, std::array<int64_t, 256>{});
  const uint8_t* p = dataset.train.images.data();
  for (int64_t i = 0; i < dataset.train.size(); ++i)
    for (size_t c = 0; c < channels; ++c)
      for (int64_t j = 0; j < plane; ++j) ++hist[c][*p++];

  Normalization norm;
  for (size_t c = 0; c < channels; ++c) {
    double n = 0, sum = 0;
    for (int v = 0; v < 256; ++v) n += hist[c][v], sum += hist[c][v] * (v / 255.0);
    const double mean = n > 0 ? sum / n : 0;
    double squares = 0;
    for (int v = 0; v < 256; ++v) squares += hist[c][v] * (v / 255.0 - mean) * (v / 255.0 - mean);
    const double stddev = n > 0 ? std::sqrt(squares / n) : 0;
    norm.mean.push_back(static_cast<float>(mean));
    norm.stddev.push_back(static_cast<float>(stddev < kMinStddev ? 1.0 : stddev));
  }
  return norm;
}

void fill_examples(const Dataset& dataset, const Split& split, const Normalization& norm,
                   int64_t first, int64_t count, float* images, int32_t* labels) {
  assert(first >= 0 && count >= 0 && first + count <= split.size());
  const std::vector<Lut> luts = make_luts(norm);
  const int64_t elems = dataset.image_elems(), plane = int64_t{dataset.height} * dataset.width;
  for (int64_t i = 0; i < count; ++i) {
    normalise_image(split.images.data() + (first + i) * elems, images + i * elems, luts, plane);
    labels[i] = split.labels[static_cast<size_t>(first + i)];
  }
}

TrainBatcher::TrainBatcher(const Dataset& dataset, const Normalization& norm, int batch,
                           Augment augment, uint64_t seed)
    : dataset_(&dataset),
      batch_(batch),
      augment_(augment),
      seed_(seed),
      luts_(make_luts(norm)),
      order_(static_cast<size_t>(dataset.train.size())),
      augment_rng_(Rng::derive(seed, kAugmentStream)) {
  assert(batch > 0 && batch <= dataset.train.size());
  assert(norm.mean.size() == static_cast<size_t>(dataset.channels));
  assert(augment.crop_pad >= 0);
}

int64_t TrainBatcher::batches_per_epoch() const { return dataset_->train.size() / batch_; }

void TrainBatcher::shuffle_for_epoch() {
  std::iota(order_.begin(), order_.end(), int64_t{0});
  Rng rng(Rng::derive(seed_, static_cast<uint64_t>(epoch_)));
  for (size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng.below(i)]);
  order_epoch_ = epoch_;
}

void TrainBatcher::write_augmented(const uint8_t* src, float* dst) {
  const int h = dataset_->height, w = dataset_->width, pad = augment_.crop_pad;
  // Crop offset (oy, ox) in [-pad, pad]: output pixel (y, x) reads (y + oy, x + ox), and
  // the zero padding shows where that falls outside; a flip then mirrors the crop.
  const int oy = pad > 0 ? static_cast<int>(augment_rng_.below(2 * pad + 1)) - pad : 0;
  const int ox = pad > 0 ? static_cast<int>(augment_rng_.below(2 * pad + 1)) - pad : 0;
  const bool flip = augment_.flip && augment_rng_.bernoulli(0.5);
  for (const Lut& lut : luts_) {
    for (int y = 0; y < h; ++y, dst += w) {
      const int sy = y + oy;
      if (sy < 0 || sy >= h) {
        std::fill(dst, dst + w, 0.0f);
        continue;
      }
      const uint8_t* row = src + static_cast<int64_t>(sy) * w;
      for (int x = 0; x < w; ++x) {
        const int sx = (flip ? w - 1 - x : x) + ox;
        dst[x] = sx >= 0 && sx < w ? lut[row[sx]] : 0.0f;
      }
    }
    src += int64_t{h} * w;
  }
}

void TrainBatcher::next(float* images, int32_t* labels) {
  if (order_epoch_ != epoch_) shuffle_for_epoch();
  const Split& train = dataset_->train;
  const int64_t elems = dataset_->image_elems();
  const bool augmenting = augment_.crop_pad > 0 || augment_.flip;
  for (int b = 0; b < batch_; ++b) {
    const int64_t index = order_[static_cast<size_t>(batch_in_epoch_ * batch_ + b)];
    const uint8_t* src = train.images.data() + index * elems;
    if (augmenting) write_augmented(src, images + b * elems);
    else normalise_image(src, images + b * elems, luts_, int64_t{dataset_->height} * dataset_->width);
    labels[b] = train.labels[static_cast<size_t>(index)];
  }
  if (++batch_in_epoch_ == batches_per_epoch()) ++epoch_, batch_in_epoch_ = 0;
}

TrainBatcher::State TrainBatcher::state() const {
  return {epoch_, batch_in_epoch_, augment_rng_.state()};
}

void TrainBatcher::restore(const State& state) {
  assert(state.epoch >= 0 && state.batch_in_epoch >= 0 &&
         state.batch_in_epoch < batches_per_epoch());
  epoch_ = state.epoch;
  batch_in_epoch_ = state.batch_in_epoch;
  augment_rng_.set_state(state.rng);
}

}  // namespace stodepth::data
