// Fuzzes the CIFAR-10/100 binary reader through read_cifar_files, whose every failure must be an
// Error and whose every success must hold what the batcher indexes.
//
// Input: {variant: 1 byte, bit 0 set for CIFAR-100}
//        {length of the first file: 4 bytes, big-endian}{first file}{second file: the rest}.
// The second file is passed only if it has bytes (the reader appends files in order).
#include <algorithm>

#include "model/data/dataset.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace stodepth;
  constexpr size_t kHeader = 5, kImageBytes = 3 * 32 * 32;
  if (size < kHeader) return 0;
  const bool cifar100 = data[0] & 1;
  const size_t first_size = std::min<size_t>(fuzz::read_be32(data + 1), size - kHeader);
  const size_t second_size = size - kHeader - first_size;
  const uint8_t* first = data + kHeader;
  static fuzz::InputFile first_file, second_file;
  std::vector<std::string> paths = {first_file.write(first, first_size)};
  if (second_size > 0) paths.push_back(second_file.write(first + first_size, second_size));
  const Result<data::Split> split = data::read_cifar_files(paths, cifar100);
  if (!split) {
    FUZZ_CHECK(!split.error().message.empty());
    return 0;
  }
  const int classes = cifar100 ? 100 : 10;
  FUZZ_CHECK(!split->labels.empty());
  FUZZ_CHECK(split->images.size() == split->labels.size() * kImageBytes);
  FUZZ_CHECK(std::all_of(split->labels.begin(), split->labels.end(),
                         [&](uint8_t label) { return label < classes; }));
  return 0;
}
