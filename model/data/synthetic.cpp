// Synthetic data: each (class, channel) has a fixed smooth prototype (a few Gaussian blobs
// over a faint grating); an example is its class prototype, shifted by a few pixels, scaled
// in contrast and covered in Gaussian pixel noise. Classes are separable but a model must
// tolerate shifts and noise, so it checks learning without downloading anything.
#include <algorithm>
#include <cassert>
#include <cmath>

#include "model/data/dataset.h"
#include "model/base/rng.h"

namespace stodepth::data {
namespace {

constexpr int kBlobs = 3;
constexpr double kBackground = 40, kGratingAmplitude = 25, kNoiseStddev = 32;

// Independent streams so the prototypes and each split can be regenerated on their own.
enum Stream : uint64_t { kPrototypes = 0, kTrain = 1, kTest = 2 };

using Image = std::vector<float>;  // (H, W)

Image make_prototype(int size, Rng& rng) {
  struct Blob { double y, x, inv_two_var, amplitude; };
  Blob blobs[kBlobs];
  for (Blob& b : blobs) {
    const double sigma = size * (0.08 + 0.08 * rng.uniform());
    b = {size * (0.2 + 0.6 * rng.uniform()), size * (0.2 + 0.6 * rng.uniform()),
         1.0 / (2 * sigma * sigma), 100 + 100 * rng.uniform()};
  }
  const double angle = M_PI * rng.uniform(), period = 4 + 6 * rng.uniform();
  const double phase = 2 * M_PI * rng.uniform();
  const double fy = std::sin(angle) * 2 * M_PI / period, fx = std::cos(angle) * 2 * M_PI / period;

  Image image(static_cast<size_t>(size) * size);
  for (int y = 0; y < size; ++y)
    for (int x = 0; x < size; ++x) {
      double v = kBackground + kGratingAmplitude * std::sin(fy * y + fx * x + phase);
      for (const Blob& b : blobs) {
        const double d2 = (y - b.y) * (y - b.y) + (x - b.x) * (x - b.x);
        v += b.amplitude * std::exp(-d2 * b.inv_two_var);
      }
      image[static_cast<size_t>(y) * size + x] = static_cast<float>(v);
    }
  return image;
}

// Appends `count` examples to split: prototype shifted by up to `max_shift` pixels (edge
// pixels repeat), contrast in [0.8, 1.2], plus pixel noise; rounded and clipped to 0..255.
void append_examples(const std::vector<Image>& prototypes, int64_t count, int channels, int size,
                     int classes, Rng& rng, Split& split) {
  const int max_shift = std::max(1, size / 14);
  for (int64_t i = 0; i < count; ++i) {
    const auto label = static_cast<int>(rng.below(static_cast<uint64_t>(classes)));
    const int dy = static_cast<int>(rng.below(2 * max_shift + 1)) - max_shift;
    const int dx = static_cast<int>(rng.below(2 * max_shift + 1)) - max_shift;
    const double contrast = 0.8 + 0.4 * rng.uniform();
    split.labels.push_back(static_cast<uint8_t>(label));
    for (int c = 0; c < channels; ++c) {
      const Image& proto = prototypes[static_cast<size_t>(label) * channels + c];
      for (int y = 0; y < size; ++y)
        for (int x = 0; x < size; ++x) {
          const int sy = std::clamp(y - dy, 0, size - 1), sx = std::clamp(x - dx, 0, size - 1);
          const double v = contrast * proto[static_cast<size_t>(sy) * size + sx] +
                           kNoiseStddev * rng.normal();
          split.images.push_back(static_cast<uint8_t>(std::clamp(std::round(v), 0.0, 255.0)));
        }
    }
  }
}

}  // namespace

Dataset make_synthetic(int64_t train_size, int64_t test_size, int channels, int size, int classes,
                       uint64_t seed) {
  assert(train_size >= 0 && test_size >= 0 && channels > 0 && size > 0);
  assert(classes > 0 && classes <= 256);
  Rng proto_rng(Rng::derive(seed, kPrototypes));
  std::vector<Image> prototypes;  // (classes * channels) images of (H, W)
  for (int i = 0; i < classes * channels; ++i) prototypes.push_back(make_prototype(size, proto_rng));

  Split train, test;
  Rng train_rng(Rng::derive(seed, kTrain)), test_rng(Rng::derive(seed, kTest));
  append_examples(prototypes, train_size, channels, size, classes, train_rng, train);
  append_examples(prototypes, test_size, channels, size, classes, test_rng, test);
  return Dataset{"synthetic", channels, size, size, classes, std::move(train), std::move(test)};
}

}  // namespace stodepth::data
