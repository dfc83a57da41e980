// Whole-file reading shared by the IDX and CIFAR readers (internal to stodepth_data).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/base/result.h"

namespace stodepth::data::detail {

// Largest decompressed file accepted (CIFAR-100's train.bin, the largest, is 150 MB);
// bounds memory when a corrupt or wrong file is passed.
inline constexpr int64_t kMaxFileBytes = int64_t{1} << 30;

// Reads a gzip or raw file completely (zlib passes raw files through). A truncated gzip
// stream is an error, not a short result.
Result<std::vector<uint8_t>> read_file_bytes(const std::string& path,
                                             int64_t max_bytes = kMaxFileBytes);

}  // namespace stodepth::data::detail
