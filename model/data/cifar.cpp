// CIFAR binary version: fixed-size records {label byte(s), 3072 image bytes (C, H, W)}.
#include <fmt/format.h>

#include <new>

#include "model/data/dataset.h"
#include "model/data/io.h"

namespace stodepth::data {
namespace {

constexpr size_t kImageBytes = 3 * 32 * 32;

struct RecordFormat {
  size_t label_bytes;  // CIFAR-10: {label}; CIFAR-100: {coarse, fine}
  int classes;
  const char* name;
};

// Appends the records of one file to split after validating size and labels.
Status append_records(const std::vector<uint8_t>& bytes, const std::string& path,
                      const RecordFormat& format, Split& split) {
  const size_t record = format.label_bytes + kImageBytes;
  if (bytes.empty())
    return bad_input(fmt::format("{}: empty file (re-download the dataset)", path));
  if (bytes.size() % record != 0)
    return bad_input(
        fmt::format("{}: size {} is not a multiple of the {}-byte {} record "
                    "(truncated download, or the other CIFAR variant?)",
                    path, bytes.size(), record, format.name));
  const size_t records = bytes.size() / record;
  split.labels.reserve(split.labels.size() + records);
  split.images.reserve(split.images.size() + records * kImageBytes);
  for (size_t r = 0; r < records; ++r) {
    const uint8_t* p = bytes.data() + r * record;
    const uint8_t label = p[format.label_bytes - 1];  // the fine label for CIFAR-100
    if (label >= format.classes)
      return bad_input(fmt::format("{}: record {} has label {}, expected below {} ({} file?)", path,
                                   r, label, format.classes, format.name));
    split.labels.push_back(label);
    split.images.insert(split.images.end(), p + format.label_bytes, p + record);
  }
  return ok_status();
}

}  // namespace

Result<Split> read_cifar_files(const std::vector<std::string>& paths, bool cifar100) try {
  const RecordFormat format = cifar100 ? RecordFormat{2, 100, "CIFAR-100"}
                                       : RecordFormat{1, 10, "CIFAR-10"};
  Split split;
  for (const std::string& path : paths) {
    auto bytes = detail::read_file_bytes(path);
    if (!bytes) return bytes.error();
    if (Status appended = append_records(*bytes, path, format, split); !appended)
      return appended.error();
  }
  return split;
} catch (const std::bad_alloc&) {
  return bad_input("CIFAR: out of memory while loading");
}

}  // namespace stodepth::data
