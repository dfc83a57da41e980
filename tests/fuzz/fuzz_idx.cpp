// Fuzzes the IDX reader (MNIST, Fashion-MNIST) through read_idx_pair, whose every failure must
// be an Error and whose every success must hold what the batcher indexes.
//
// Input: {expected height, expected width, classes: 1 byte each}
//        {length of the image file: 4 bytes, big-endian}{image file}{label file: the rest}.
// Each file may be gzip or raw, as in a dataset directory.
#include <algorithm>

#include "model/data/dataset.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace stodepth;
  constexpr size_t kHeader = 7;
  if (size < kHeader) return 0;
  const int height = data[0], width = data[1], classes = data[2];
  const size_t images_size = std::min<size_t>(fuzz::read_be32(data + 3), size - kHeader);
  const uint8_t* images = data + kHeader;
  static fuzz::InputFile image_file, label_file;
  const Result<data::Split> split = data::read_idx_pair(
      image_file.write(images, images_size),
      label_file.write(images + images_size, size - kHeader - images_size), height, width, classes);
  if (!split) {
    FUZZ_CHECK(!split.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(split->images.size() == split->labels.size() * size_t(height) * size_t(width));
  FUZZ_CHECK(std::all_of(split->labels.begin(), split->labels.end(),
                         [&](uint8_t label) { return label < classes; }));
  return 0;
}
