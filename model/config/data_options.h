// What a run asks of its data: which dataset, how much of it, the validation hold-out and the
// augmentation. Plain values, so that the store, the sweeps and the report can hold them
// without linking the dataset readers (model/data/).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace stodepth::data {

struct DataOptions {
  std::string name = "fashion-mnist";
  std::string dir;           // empty: the dataset's default (Fashion-MNIST's Debian package)
  int64_t train_subset = 0;  // 0: whole split; else the first N examples
  int64_t test_subset = 0;
  uint64_t synthetic_seed = 0;  // only for `synthetic`
  bool extra = false;           // only for `svhn`: add extra_32x32.mat to the training set
  // Hold out this many training examples as a validation set, evaluated every epoch (the
  // paper: 5000 of CIFAR's 50000). The rule is in split_validation().
  int64_t validation = 0;
  uint64_t validation_seed = 0;
};

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// Names accepted by load_dataset, in the order shown in help texts.
inline const std::vector<std::string>& dataset_names() {
  static const std::vector<std::string> names = {"fashion-mnist", "mnist", "cifar10", "cifar100",
                                                 "svhn",          "synthetic"};
  return names;
}

struct Augment {
  int crop_pad = 0;   // random crop after zero padding by this many pixels (0: off)
  bool flip = false;  // random horizontal flip, probability 0.5
};

}  // namespace stodepth::data
