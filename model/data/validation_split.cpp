#include "model/data/validation_split.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "model/base/rng.h"

namespace stodepth::data {

Status split_validation(Dataset& d, int64_t count, uint64_t seed) {
  if (count == 0) return ok_status();
  const int64_t n = d.train.size();
  if (count < 0 || count >= n)
    return bad_input(fmt::format(
        "dataset.validation: {} must be below the {} training examples (lower it, or raise "
        "dataset.train_subset)", count, n));

  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  Rng rng(seed);
  for (int64_t i = 0; i < count; ++i) {  // the first `count` steps of a Fisher–Yates shuffle
    const int64_t j = i + static_cast<int64_t>(rng.below(static_cast<uint64_t>(n - i)));
    std::swap(order[size_t(i)], order[size_t(j)]);
  }
  std::vector<bool> held_out(static_cast<size_t>(n), false);
  for (int64_t i = 0; i < count; ++i) held_out[size_t(order[size_t(i)])] = true;

  const int64_t elems = d.image_elems();
  Split train, validation;
  train.labels.reserve(size_t(n - count));
  train.images.reserve(size_t((n - count) * elems));
  validation.labels.reserve(size_t(count));
  validation.images.reserve(size_t(count * elems));
  for (int64_t i = 0; i < n; ++i) {
    Split& to = held_out[size_t(i)] ? validation : train;
    to.labels.push_back(d.train.labels[size_t(i)]);
    const auto image = d.train.images.begin() + i * elems;
    to.images.insert(to.images.end(), image, image + elems);
  }
  d.train = std::move(train);
  d.validation = std::move(validation);
  return ok_status();
}

}  // namespace stodepth::data
