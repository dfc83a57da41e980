// Datasets held in memory as raw bytes; normalisation and augmentation happen
// when a mini-batch is assembled (see batcher.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/base/result.h"
#include "model/config/data_options.h"

namespace stodepth::data {

struct Split {
  std::vector<uint8_t> images;  // (N, C, H, W), values 0..255
  std::vector<uint8_t> labels;  // (N), values 0..classes-1
  int64_t size() const { return static_cast<int64_t>(labels.size()); }
};

struct Dataset {
  std::string name;  // fashion-mnist | mnist | cifar10 | cifar100 | svhn | synthetic
  int channels = 0, height = 0, width = 0, classes = 0;
  Split train, test;
  Split validation{};  // held out of the training set (DataOptions::validation), else empty
  int64_t image_elems() const { return int64_t{channels} * height * width; }
};

// Loads and validates a dataset. Every failure (unknown name, missing directory or file,
// bad magic, short read, count mismatch, label out of range) is an Error naming the file
// and the fix.
Result<Dataset> load_dataset(const DataOptions& options);

// Readers for the standard formats, exposed for tests and fuzzing. Paths may be gzip or raw.
Result<Split> read_idx_pair(const std::string& images_path, const std::string& labels_path,
                            int expect_height, int expect_width, int classes);
// CIFAR-10 (label byte + 3072 bytes) or CIFAR-100 (coarse, fine label bytes + 3072 bytes)
// records from one or more files, appended in order.
Result<Split> read_cifar_files(const std::vector<std::string>& paths, bool cifar100);
// SVHN format 2 MAT files (v5, v7 compressed or v7.3): X, uint8 (32, 32, 3, N) column-major,
// and y, (N, 1) labels 1..10 (10 is the digit 0), appended in order as (N, 3, 32, 32) images
// and labels 0..9. Every file's header is checked before any data is read.
Result<Split> read_svhn_files(const std::vector<std::string>& paths);

// A deterministic learnable dataset: `classes` classes of noisy class-specific patterns.
Dataset make_synthetic(int64_t train_size, int64_t test_size, int channels, int size,
                       int classes, uint64_t seed);

}  // namespace stodepth::data
