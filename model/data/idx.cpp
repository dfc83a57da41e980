// IDX files (MNIST, Fashion-MNIST): a big-endian header {magic, dims...} then raw bytes.
#include <fmt/format.h>

#include <new>

#include "model/data/dataset.h"
#include "model/data/io.h"

namespace stodepth::data {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;  // unsigned bytes, 3 dims (N, H, W)
constexpr uint32_t kLabelsMagic = 0x00000801;  // unsigned bytes, 1 dim (N)
constexpr const char* kFix = "re-download the dataset";

uint32_t read_be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}

// Validates the header of an IDX file and that the payload is exactly prod(dims) bytes;
// returns the dims. The product is checked step by step against the bytes present, so a
// corrupt header declaring billions of items fails without allocating anything.
Result<std::vector<int64_t>> parse_idx(const std::vector<uint8_t>& bytes, const std::string& path,
                                       uint32_t magic, int ndims) {
  const size_t header = 4 + 4 * static_cast<size_t>(ndims);
  const auto truncated_header = [&] {
    return bad_input(fmt::format("{}: truncated header: {} bytes, an IDX header needs {} ({})",
                                 path, bytes.size(), header, kFix));
  };
  if (bytes.size() < 4) return truncated_header();
  // The magic first: a swapped or foreign file is better reported as such.
  if (read_be32(bytes.data()) != magic)
    return bad_input(fmt::format(
        "{}: bad magic 0x{:08x}, expected 0x{:08x} (not an IDX {} file; {})", path,
        read_be32(bytes.data()), magic, magic == kImagesMagic ? "image" : "label", kFix));
  if (bytes.size() < header) return truncated_header();
  std::vector<int64_t> dims;
  const uint64_t available = bytes.size() - header;
  uint64_t needed = 1;
  bool fits = true;
  for (int i = 0; i < ndims; ++i) {
    dims.push_back(read_be32(bytes.data() + 4 + 4 * i));
    const auto dim = static_cast<uint64_t>(dims.back());
    if (dim != 0 && needed > available / dim) fits = false;
    else needed *= dim;
  }
  if (!fits || needed > available)
    return bad_input(
        fmt::format("{}: truncated: header declares dims {} but only {} data bytes follow ({})",
                    path, fmt::join(dims, "x"), available, kFix));
  if (needed < available)
    return bad_input(fmt::format("{}: {} unexpected bytes after the {} declared by the header ({})",
                                 path, available - needed, needed, kFix));
  return dims;
}

}  // namespace

Result<Split> read_idx_pair(const std::string& images_path, const std::string& labels_path,
                            int expect_height, int expect_width, int classes) try {
  auto image_bytes = detail::read_file_bytes(images_path);
  if (!image_bytes) return image_bytes.error();
  auto image_dims = parse_idx(*image_bytes, images_path, kImagesMagic, 3);
  if (!image_dims) return image_dims.error();
  const std::vector<int64_t>& dims = *image_dims;  // (N, H, W)
  if (dims[1] != expect_height || dims[2] != expect_width)
    return bad_input(
        fmt::format("{}: images are {}x{}, expected {}x{} (wrong file for this dataset?)",
                    images_path, dims[1], dims[2], expect_height, expect_width));

  auto label_bytes = detail::read_file_bytes(labels_path);
  if (!label_bytes) return label_bytes.error();
  auto label_dims = parse_idx(*label_bytes, labels_path, kLabelsMagic, 1);
  if (!label_dims) return label_dims.error();
  if ((*label_dims)[0] != dims[0])
    return bad_input(fmt::format("{}: {} labels but {} has {} images (files from different sets?)",
                                 labels_path, (*label_dims)[0], images_path, dims[0]));

  Split split;
  split.labels.assign(label_bytes->begin() + 8, label_bytes->end());
  for (size_t i = 0; i < split.labels.size(); ++i)
    if (split.labels[i] >= classes)
      return bad_input(fmt::format("{}: label {} of example {} is not below {} classes ({})",
                                   labels_path, split.labels[i], i, classes, kFix));
  image_bytes->erase(image_bytes->begin(), image_bytes->begin() + 16);  // drop the header
  split.images = std::move(*image_bytes);
  return split;
} catch (const std::bad_alloc&) {
  return bad_input(fmt::format("{}: out of memory while loading", images_path));
}

}  // namespace stodepth::data
