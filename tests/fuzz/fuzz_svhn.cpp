// Fuzzes the SVHN reader (format 2 MAT files through libmatio) with read_svhn_files, whose every
// failure must be an Error and whose every success must hold what the batcher indexes.
//
// Input: one MAT file (v5, v7 zlib-compressed or v7.3 HDF5), read from an in-memory file since
// matio opens paths.
#include <algorithm>

#include "model/data/dataset.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace stodepth;
  constexpr size_t kImageBytes = 3 * 32 * 32;
  static fuzz::InputFile file;
  const Result<data::Split> split = data::read_svhn_files({file.write(data, size)});
  if (!split) {
    FUZZ_CHECK(!split.error().message.empty());
    FUZZ_CHECK(split.error().message.find('\n') == std::string::npos);
    return 0;
  }
  FUZZ_CHECK(!split->labels.empty());
  FUZZ_CHECK(split->images.size() == split->labels.size() * kImageBytes);
  FUZZ_CHECK(std::all_of(split->labels.begin(), split->labels.end(),
                         [](uint8_t label) { return label < 10; }));
  return 0;
}
