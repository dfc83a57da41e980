#include "model/checkpoint.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

namespace stodepth {
namespace {

constexpr char kMagic[8] = {'S', 'D', 'C', 'K', 'P', 'T', '\r', '\n'};
constexpr size_t kHeaderBytes = sizeof(kMagic) + sizeof(uint32_t) + sizeof(uint64_t) +
                                sizeof(uint32_t);

uint32_t crc32_of(const std::vector<char>& bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  const auto* p = reinterpret_cast<const Bytef*>(bytes.data());
  for (size_t done = 0; done < bytes.size();) {  // zlib takes uInt lengths
    const uInt n = uInt(std::min<size_t>(bytes.size() - done, 1u << 30));
    crc = crc32(crc, p + done, n);
    done += n;
  }
  return uint32_t(crc);
}

Error io_error(const std::string& path, const char* what) {
  return storage_error(
      fmt::format("{}: cannot {} the checkpoint: {}", path, what, std::strerror(errno)));
}

// Writes all of `data` to `fd`, retrying short writes.
bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= size_t(n);
  }
  return true;
}

}  // namespace

Status write_checkpoint(const std::string& path, const Checkpoint& checkpoint) {
  ByteWriter payload;
  payload.put_string(checkpoint.identity);
  payload.put<int64_t>(checkpoint.iteration);
  ByteWriter file;
  for (char c : kMagic) file.put(c);
  file.put<uint32_t>(kCheckpointFormat);
  const uint64_t size = payload.bytes().size() + checkpoint.state.size();
  file.put<uint64_t>(size);
  // The CRC covers the payload header and the state, computed without concatenating them.
  uLong crc = crc32_of(payload.bytes());
  crc = crc32_combine(crc, crc32_of(checkpoint.state), z_off_t(checkpoint.state.size()));
  file.put<uint32_t>(uint32_t(crc));

  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error(temp, "create");
  const bool written = write_all(fd, file.bytes().data(), file.bytes().size()) &&
                       write_all(fd, payload.bytes().data(), payload.bytes().size()) &&
                       write_all(fd, checkpoint.state.data(), checkpoint.state.size()) &&
                       ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!written) {
    errno = saved_errno;
    auto error = io_error(temp, "write");
    ::unlink(temp.c_str());
    return error;
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    auto error = io_error(path, "rename into place");
    ::unlink(temp.c_str());
    return error;
  }
  // The rename is durable once the directory entry is.
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  if (dir.empty()) dir = ".";
  if (const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return ok_status();
}

Result<Checkpoint> read_checkpoint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error(path, "open");
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return io_error(path, "read");
  const auto damaged = [&](const std::string& why) {
    return damaged_file(fmt::format(
        "{}: not a usable checkpoint ({}); delete it to restart the run from its beginning", path,
        why));
  };
  if (bytes.size() < kHeaderBytes || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0)
    return damaged("no stodepth checkpoint header");
  ByteReader header(bytes.data() + sizeof(kMagic), kHeaderBytes - sizeof(kMagic));
  uint32_t format = 0, crc = 0;
  uint64_t size = 0;
  header.get(format);
  header.get(size);
  header.get(crc);
  if (format != kCheckpointFormat)
    return damaged(fmt::format("format {}, this build reads {}", format, kCheckpointFormat));
  if (size != bytes.size() - kHeaderBytes) return damaged("truncated");
  bytes.erase(bytes.begin(), bytes.begin() + kHeaderBytes);
  if (crc32_of(bytes) != crc) return damaged("checksum mismatch");

  Checkpoint checkpoint;
  ByteReader payload(bytes);
  if (!payload.get_string(checkpoint.identity) || !payload.get(checkpoint.iteration) ||
      checkpoint.iteration < 0)
    return damaged("bad payload header");
  checkpoint.state.assign(bytes.begin() + std::ptrdiff_t(payload.offset()), bytes.end());
  return checkpoint;
}

}  // namespace stodepth
