#include "model/data/io.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fmt/format.h>

namespace stodepth::data::detail {
namespace {

constexpr unsigned kChunkBytes = 1u << 20;

Error file_error(const std::string& path, const std::string& what) {
  return bad_input(
      fmt::format("{}: {} (re-download the dataset or pass the right --data-dir)", path, what));
}

}  // namespace

Result<std::vector<uint8_t>> read_file_bytes(const std::string& path, int64_t max_bytes) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return file_error(path, "file not found");
  if (!std::filesystem::is_regular_file(path, ec)) return file_error(path, "not a regular file");

  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) return file_error(path, fmt::format("cannot open: {}", std::strerror(errno)));
  gzbuffer(file, 1u << 18);

  std::vector<uint8_t> bytes;
  std::string failure;
  while (true) {
    const size_t old_size = bytes.size();
    bytes.resize(old_size + kChunkBytes);
    const int got = gzread(file, bytes.data() + old_size, kChunkBytes);
    bytes.resize(old_size + static_cast<size_t>(got > 0 ? got : 0));
    int errnum = Z_OK;
    const char* message = gzerror(file, &errnum);
    // Z_BUF_ERROR here means the gzip stream ended early (truncated download).
    if (got < 0 || errnum != Z_OK) {
      failure = errnum == Z_BUF_ERROR ? "truncated gzip stream" : fmt::format("read error: {}", message);
      break;
    }
    if (static_cast<int64_t>(bytes.size()) > max_bytes) {
      failure = fmt::format("larger than the {} MiB limit (not a dataset file?)", max_bytes >> 20);
      break;
    }
    if (got == 0) break;
  }
  const int closed = gzclose_r(file);
  if (failure.empty() && closed != Z_OK) failure = "truncated gzip stream";
  if (!failure.empty()) return file_error(path, failure);
  return bytes;
}

}  // namespace stodepth::data::detail
